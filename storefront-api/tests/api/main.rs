//! Integration tests: each test spawns the real application on port 0 against real
//! PostgreSQL (a fresh database cloned from a migrated template), Redis (a fresh key prefix)
//! and a MongoDB-wire server (a fresh database).

mod helpers;

mod accounts;
mod admin;
mod admin_authz;
mod bad_input;
mod campaigns;
mod cart;
mod catalog;
mod catalog_import;
mod chaos;
mod checkout;
mod churn;
#[cfg(feature = "failpoints")]
mod crashes;
mod demo;
mod discounts;
mod emails;
mod events;
mod faults;
mod markets;
mod operations;
mod orders_admin;
mod personal_data;
mod promotions;
mod returns;
mod reviews;
mod segments;
mod stock;
mod team;
mod webhooks;
