//! Deterministic demo shop: a catalog, customers and staff generated from a seed and loaded
//! into PostgreSQL in one transaction.
//!
//! Generation ([`generate`]) is pure: the same seed gives the same shop, id for id and
//! timestamp for timestamp, so a demo, a screenshot or a failing search test can be
//! reproduced exactly. Loading ([`load`]) is the only I/O: it leaves a database that already
//! holds the demo admin or any product alone, and otherwise writes everything or nothing.
//!
//! The one thing that differs between two loads of the same seed is the Argon2 salt in the
//! password hashes: hashing stays in `domain::account`, which always salts from the OS.

mod catalog;
mod insert;
mod people;
#[cfg(test)]
mod tests;
mod words;

use std::{
    fmt,
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use uuid::Uuid;

pub use catalog::{Category, PRODUCTS_PER_SUBCATEGORY, Product, Variant};
pub use people::{Account, Address};

use crate::domain::account::{Role, hash_password};

/// The seed `demo-data` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2026;

pub const ADMIN_EMAIL: &str = "admin@nexus.test";
pub const ADMIN_PASSWORD: &str = "NexusAdmin!2026";
pub const ADMIN_NAME: &str = "Ada Admin";
pub const STAFF_EMAIL: &str = "staff@nexus.test";
pub const STAFF_PASSWORD: &str = "NexusStaff!2026";
pub const STAFF_NAME: &str = "Sam Staff";
/// Every demo customer's password.
pub const CUSTOMER_PASSWORD: &str = "NexusShopper!2026";
pub const CUSTOMER_COUNT: usize = 5_000;
/// ISO-4217 code of every demo price.
pub const CURRENCY: &str = "EUR";

/// The email of demo customer `number` (1 to [`CUSTOMER_COUNT`]).
pub fn customer_email(number: usize) -> String {
    format!("customer{number}@nexus.test")
}

/// The instant the demo shop is "as of", 2026-11-01T00:00:00Z. Every timestamp lies in the
/// [`HISTORY`] before it, so a load writes the same bytes whatever today's date is.
pub fn base_date() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::seconds(1_793_491_200)
}

/// How far back the shop's history goes: two years.
pub const HISTORY: TimeDelta = TimeDelta::days(730);

/// A whole demo shop, as generated and before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoShop {
    /// Departments first, each followed by its sub-categories.
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
    /// The admin, the staff member, then the customers in number order.
    pub accounts: Vec<Account>,
    pub addresses: Vec<Address>,
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoCounts {
    pub departments: usize,
    pub categories: usize,
    pub products: usize,
    pub variants: usize,
    /// One opening movement per variant with stock.
    pub stock_movements: usize,
    pub staff: usize,
    pub customers: usize,
    pub addresses: usize,
}

impl DemoShop {
    pub fn counts(&self) -> DemoCounts {
        let variants = || self.products.iter().flat_map(|p| &p.variants);
        DemoCounts {
            departments: self
                .categories
                .iter()
                .filter(|c| c.parent_id.is_none())
                .count(),
            categories: self.categories.len(),
            products: self.products.len(),
            variants: variants().count(),
            stock_movements: variants().filter(|v| v.stock_on_hand > 0).count(),
            staff: self.accounts.iter().filter(|a| a.role.is_staff()).count(),
            customers: self
                .accounts
                .iter()
                .filter(|a| a.role == Role::Customer)
                .count(),
            addresses: self.addresses.len(),
        }
    }
}

/// Generates the demo shop for a seed. Pure and deterministic.
pub fn generate(seed: u64) -> DemoShop {
    // Catalog and people draw from separate streams of the same seed, so a change to one
    // generator does not reshuffle the other.
    let mut catalog_rng = ChaCha8Rng::seed_from_u64(seed);
    let mut people_rng = ChaCha8Rng::seed_from_u64(seed);
    people_rng.set_stream(1);
    let (categories, products) = catalog::generate(&mut catalog_rng);
    let (accounts, addresses) = people::generate(&mut people_rng);
    DemoShop {
        categories,
        products,
        accounts,
        addresses,
    }
}

/// The result of `demo-data`, printed by the CLI.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoOutcome {
    Loaded {
        seed: u64,
        counts: DemoCounts,
        elapsed: Duration,
    },
    AlreadyPresent,
}

impl fmt::Display for DemoOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyPresent => f.write_str("demo data already present; nothing loaded"),
            Self::Loaded {
                seed,
                counts,
                elapsed,
            } => write!(
                f,
                "loaded demo data from seed {seed} in {:.1} s: {} categories ({} departments), \
                 {} active products with {} variants and {} opening stock movements, \
                 {} staff accounts (admin {ADMIN_EMAIL}, staff {STAFF_EMAIL}), {} customers \
                 (customer1@nexus.test to {}) and {} addresses",
                elapsed.as_secs_f64(),
                counts.categories,
                counts.departments,
                counts.products,
                counts.variants,
                counts.stock_movements,
                counts.staff,
                counts.customers,
                customer_email(CUSTOMER_COUNT),
                counts.addresses,
            ),
        }
    }
}

/// Loads the demo shop for `seed`, unless the demo admin or any product already exists.
/// Everything is written in one transaction: a failed load leaves nothing behind.
pub async fn load(db: &PgPool, seed: u64) -> anyhow::Result<DemoOutcome> {
    let started = Instant::now();
    // Checked before the slow part; checked again under a lock inside the transaction.
    if insert::demo_data_present(db).await? {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    let (shop, hashes) = tokio::try_join!(
        tokio::task::spawn_blocking(move || generate(seed)),
        tokio::task::spawn_blocking(hash_demo_passwords),
    )
    .context("generating the demo shop failed")?;
    if !insert::write(db, &shop, &hashes).await? {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    crate::storage::catalog::refresh_search_lexicon(db)
        .await
        .context("refreshing the search lexicon failed")?;
    Ok(DemoOutcome::Loaded {
        seed,
        counts: shop.counts(),
        elapsed: started.elapsed(),
    })
}

/// Argon2 is slow on purpose (tens of milliseconds per hash), so the customer password is
/// hashed ONCE and the same PHC string, salt included, is stored for all customers: harmless
/// for throwaway accounts that share one published password anyway, and it saves minutes.
/// Admin and staff are hashed separately.
fn hash_demo_passwords() -> insert::PasswordHashes {
    insert::PasswordHashes {
        admin: hash_password(ADMIN_PASSWORD),
        staff: hash_password(STAFF_PASSWORD),
        customer: hash_password(CUSTOMER_PASSWORD),
    }
}

/// A v4-format id drawn from the seeded RNG (never from the OS or the clock).
fn new_id(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// One of a constant, non-empty word list.
fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Up to `count` different entries of a word list, in random order.
fn pick_distinct<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], count: usize) -> Vec<&'a T> {
    rand::seq::index::sample(rng, items.len(), count.min(items.len()))
        .into_iter()
        .map(|i| &items[i])
        .collect()
}
