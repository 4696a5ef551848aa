//! The staff console's commands: plain Rust functions over the typed API client
//! (`storefront-client`) and churn-lab. The window's requests (console-protocol) reach them
//! through [`Console::serve`]; the Tauri app only hands requests over, so everything the
//! console does is testable without a window (GitButler's layout).
//!
//! - `console.rs`: [`Console`], the state a running console holds — the remembered API
//!   address (a settings file readable by the user alone), the staff session (in memory only),
//!   the last training run.
//! - `error.rs`: the API's refusals as [`ConsoleError`]s (defined in console-protocol).
//! - `serve.rs`: [`Console::serve`], each command of the protocol to its function.
//! - One module per screen: `dashboard`, `catalog`, `orders`, `customers`, `churn`,
//!   `webhooks`, `campaigns`, `promotions`.

pub mod campaigns;
pub mod catalog;
pub mod churn;
mod console;
pub mod customers;
pub mod dashboard;
mod error;
pub mod orders;
pub mod promotions;
pub mod segments;
mod serve;
pub mod webhooks;

pub use console::{Console, Session, Settings};
pub use console_protocol::{Command, Request};
pub use error::ConsoleError;
