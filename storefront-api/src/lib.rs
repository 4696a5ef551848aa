//! storefront-api: the headless JSON API of Nexus.
//!
//! Layers, outermost first: `routes` (HTTP, thin) → `domain` (rules, no I/O) and `storage`
//! (PostgreSQL, Redis, MongoDB). `startup` wires them from `config`.

pub mod auth;
pub mod campaigns;
pub mod cart_pricing;
pub mod catalog_import;
pub mod catalog_listing;
pub mod checkout;
pub mod churn;
pub mod cli;
pub mod config;
pub mod cookies;
pub mod demo;
pub mod domain;
pub mod error;
pub mod mail;
pub mod payments;
pub mod personal_data;
pub mod refunds;
pub mod relay;
pub mod returns;
pub mod routes;
pub mod segments;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod webhooks;
