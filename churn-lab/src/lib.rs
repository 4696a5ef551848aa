//! Churn analytics for Nexus: who is about to stop buying, and how sure are we.
//!
//! The library is what the analyst CLI (`churn-lab`), the desktop console and storefront-api
//! share. One path runs through it:
//!
//! transactions (and optionally behaviour events) → [`features::customer_features`] (Polars,
//! lazy; the single feature definition) → [`models`] (linfa estimators and our own) →
//! [`metrics`] on held-out customers → a versioned [`artifact::ModelArtifact`] that the API
//! loads to score one customer with the very same feature code. Beside the churn probability a
//! score carries the customer's [`lifetime`] value (BG/NBD and Gamma-Gamma, fitted in the same
//! training run), and its drivers are worded for staff by [`explain`].
//!
//! Only [`deploy`] (storefront-api over HTTP) and [`shop`] (the shop's PostgreSQL and MongoDB,
//! read only) talk to the network.

pub mod artifact;
pub mod cohorts;
pub mod dataset;
pub mod deploy;
pub mod explain;
pub mod explore;
pub mod features;
pub mod lifetime;
pub mod metrics;
pub mod models;
pub mod report;
pub mod run;
pub mod scoring;
pub mod shop;
pub mod synthetic;
pub mod training;
pub mod transactions;

pub use artifact::ModelArtifact;
pub use features::FEATURE_DEFINITION_VERSION;
pub use transactions::{Events, Transactions};
