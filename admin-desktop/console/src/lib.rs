//! The staff console's commands: plain Rust functions over the typed API client
//! (`storefront-client`) and churn-lab. The Tauri app only forwards its commands to these, so
//! everything the console does is testable without a window (GitButler's layout).
//!
//! - `console.rs`: [`Console`], the state a running console holds — the remembered API
//!   address (a settings file readable by the user alone), the staff session (in memory only),
//!   the last training run.
//! - `error.rs`: [`ConsoleError`], what the UI shows when the API cannot be reached or refuses.
//! - One module per screen: `dashboard`, `catalog`, `orders`, `customers`, `churn`.

pub mod catalog;
pub mod churn;
mod console;
pub mod customers;
pub mod dashboard;
mod error;
pub mod orders;

pub use console::{Console, Session, Settings};
pub use error::ConsoleError;
