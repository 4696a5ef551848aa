//! storefront-api's wire types — the API serialises these very structs — and, with the
//! `client` feature, a typed reqwest client that compiles for native targets and for wasm32
//! (the web shop's browser side). The shop, the console and churn-lab talk to the API through
//! it; the API itself depends on the types only (`default-features = false`).

pub mod account;
pub mod cart;
pub mod catalog;
#[cfg(feature = "client")]
mod client;
pub mod error;
pub mod events;
pub mod health;
pub mod lists;
pub mod money;
pub mod offers;
pub mod orders;
pub mod promotions;
pub mod returns;
pub mod reviews;
pub mod staff;
pub mod webhooks;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, SetCookies, path_segment};
