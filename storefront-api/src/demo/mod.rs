//! Deterministic demo shop: a catalog, customers and staff, and the two years of their orders
//! and behaviour events that end at a given instant (by default the moment of loading),
//! generated from a seed and loaded into PostgreSQL (one transaction) and MongoDB (the
//! events, after the commit).
//!
//! Generation ([`generate`], [`generate_history`]) is pure: the same seed and end give the
//! same shop, id for id and timestamp for timestamp, so a demo, a screenshot, a churn model or
//! a failing search test can be reproduced exactly. Another end gives the same shop moved in
//! time: the same ids, customers, orders and events, each on the same day counted back from
//! the end and at the same UTC hour; only how far the last days' orders got by the end
//! differs. Nothing is dated after the end, so a shop loaded now has customers buying up to
//! today, as a live shop would.
//!
//! Loading ([`load`]) is the only I/O: it leaves a database that already holds the demo admin
//! or any product alone, writes the shop and its order history everything-or-nothing, then
//! the events, unless demo events are stored already. A load whose events failed (MongoDB
//! down, say) adds them when run again, dated by the end the shop was loaded with.
//!
//! The one thing that differs between two loads of the same seed and end is the Argon2 salt
//! in the password hashes (hashing stays in `domain::account`, which always salts from the
//! OS), and the `_id`s MongoDB gives the events.

mod behaviour;
mod catalog;
mod history;
mod insert;
mod insert_events;
mod people;
mod promotions;
pub mod retention;
mod returns;
mod reviews;
mod segments;
#[cfg(test)]
mod tests;
mod words;

use std::{
    fmt,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::{DateTime, DurationRound, NaiveDate, SubsecRound, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use uuid::Uuid;

pub use catalog::{Category, PRODUCTS_PER_SUBCATEGORY, Product, Variant};
pub use history::{
    ChurnSummary, History, HistoryCounts, HistoryScope, Order, OrderLine, PAYMENT_PROVIDER,
    Payment, Shopper,
};
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

/// How far back the shop's history goes: two years.
pub const HISTORY: TimeDelta = TimeDelta::days(730);

/// The end `demo-data` uses unless told otherwise: now, to the minute, so the history runs
/// up to the moment of loading and the dashboard's recent days and "as of today" scores see
/// a shop that is still trading.
pub fn end_now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now)
}

/// An end as `demo-data --ends-at` takes it: a date (the history ends at its midnight, UTC,
/// so its last day is the day before) or an RFC 3339 instant.
pub fn parse_end(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "`{text}` is neither a date (2026-11-01) nor an RFC 3339 instant \
                 (2026-11-01T18:30:00Z)"
            )
        })
}

/// A whole demo shop, as generated and before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoShop {
    /// The instant its history ends (whole seconds): every timestamp lies in the [`HISTORY`]
    /// before it.
    pub ends_at: DateTime<Utc>,
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

/// Generates the demo shop for a seed, its history ending at `ends_at` (sub-seconds dropped).
/// Pure and deterministic.
pub fn generate(seed: u64, ends_at: DateTime<Utc>) -> DemoShop {
    let ends_at = ends_at.trunc_subsecs(0);
    // Catalog and people draw from separate streams of the same seed, so a change to one
    // generator does not reshuffle the other.
    let mut catalog_rng = ChaCha8Rng::seed_from_u64(seed);
    let mut people_rng = ChaCha8Rng::seed_from_u64(seed);
    people_rng.set_stream(1);
    let (categories, products) = catalog::generate(&mut catalog_rng, ends_at);
    let (accounts, addresses) = people::generate(&mut people_rng, ends_at);
    DemoShop {
        ends_at,
        categories,
        products,
        accounts,
        addresses,
    }
}

/// Generates the order and behaviour history of a shop's customers (all, or the first few),
/// up to the shop's end. Pure and deterministic: the first n customers' history is the same
/// in every scope.
pub fn generate_history(shop: &DemoShop, seed: u64, scope: HistoryScope) -> History {
    history::generate(shop, seed, scope)
}

/// How long each part of a load took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadTimings {
    pub generation: Duration,
    /// Writing the shop and its orders, and refreshing the search lexicon.
    pub postgres: Duration,
    /// Writing the behaviour events and ensuring their indexes.
    pub events: Duration,
    pub total: Duration,
}

/// The result of `demo-data`, printed by the CLI.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoOutcome {
    Loaded {
        seed: u64,
        /// Where the history ends: `--ends-at` with it loads the same shop again.
        ends_at: DateTime<Utc>,
        counts: DemoCounts,
        history: HistoryCounts,
        churn: ChurnSummary,
        timings: LoadTimings,
    },
    /// The shop was there but its behaviour events were not (an earlier load failed after
    /// its commit); they are now.
    EventsAdded {
        seed: u64,
        /// The end the shop was loaded with, which dates the events too.
        ends_at: DateTime<Utc>,
        events: usize,
        elapsed: Duration,
    },
    AlreadyPresent,
}

impl fmt::Display for DemoOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |share: f64| share * 100.0;
        match self {
            Self::AlreadyPresent => f.write_str("demo data already present; nothing loaded"),
            Self::EventsAdded {
                seed,
                ends_at,
                events,
                elapsed,
            } => write!(
                f,
                "demo shop from seed {seed} ending {} already present; added its {events} \
                 behaviour events in {:.1} s",
                end_text(*ends_at),
                elapsed.as_secs_f64()
            ),
            Self::Loaded {
                seed,
                ends_at,
                counts,
                history,
                churn,
                timings,
            } => {
                let end = end_text(*ends_at);
                write!(
                    f,
                    "loaded demo data from seed {seed} ending {end} (`--ends-at {end}` loads the \
                 same shop) in {:.1} s (generating {:.1} s, PostgreSQL \
                 {:.1} s, MongoDB events {:.1} s): {} categories ({} departments), \
                 {} active products with {} variants and {} opening stock movements, \
                 {} staff accounts (admin {ADMIN_EMAIL}, staff {STAFF_EMAIL}), {} customers \
                 (customer1@nexus.test to {}) and {} addresses; history: {} orders with {} \
                 lines and {} payments, {} behaviour events; {:.0}% of customers lapsed, \
                 {:.0}% have no order in the last 90 days ({:.0}% in 180), median repeat gap \
                 {:.0} days",
                    timings.total.as_secs_f64(),
                    timings.generation.as_secs_f64(),
                    timings.postgres.as_secs_f64(),
                    timings.events.as_secs_f64(),
                    counts.categories,
                    counts.departments,
                    counts.products,
                    counts.variants,
                    counts.stock_movements,
                    counts.staff,
                    counts.customers,
                    customer_email(CUSTOMER_COUNT),
                    counts.addresses,
                    history.orders,
                    history.order_lines,
                    history.payments,
                    history.events,
                    percent(churn.lapsed_share),
                    percent(churn.quiet_90_days_share),
                    percent(churn.quiet_180_days_share),
                    churn.median_repeat_gap_days,
                )
            }
        }
    }
}

/// An end as `--ends-at` reads it back, to the second.
fn end_text(ends_at: DateTime<Utc>) -> String {
    ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How many of the first customers a load looks at to tell whether the events are in.
const CUSTOMERS_CHECKED_FOR_EVENTS: usize = 20;

/// Loads the demo shop for `seed` with every customer's history, ending now: [`load_with`]
/// for all.
pub async fn load(
    db: &PgPool,
    mongo: &mongodb::Database,
    seed: u64,
) -> anyhow::Result<DemoOutcome> {
    load_with(db, mongo, seed, end_now(), HistoryScope::AllCustomers).await
}

/// Loads the demo shop for `seed`, its history ending at `ends_at` (not after now: nothing
/// may be dated in the future), with the history of the customers in `scope`, unless the
/// demo admin or any product already exists. The shop and its orders are written in one
/// transaction (a failed load leaves nothing behind), the behaviour events after it commits.
/// Events added to a shop loaded earlier are dated by that shop's end, not `ends_at`.
pub async fn load_with(
    db: &PgPool,
    mongo: &mongodb::Database,
    seed: u64,
    ends_at: DateTime<Utc>,
    scope: HistoryScope,
) -> anyhow::Result<DemoOutcome> {
    if ends_at > Utc::now() {
        bail!(
            "the demo history cannot end at {}, after now: its last orders and events would be \
             dated in the future",
            end_text(ends_at)
        );
    }
    let started = Instant::now();
    let lock = insert::LoadLock::acquire(db)
        .await
        .context("could not take the demo load lock")?;
    let outcome = load_locked(db, mongo, seed, ends_at, scope, started).await;
    lock.release().await;
    outcome
}

async fn load_locked(
    db: &PgPool,
    mongo: &mongodb::Database,
    seed: u64,
    ends_at: DateTime<Utc>,
    scope: HistoryScope,
    started: Instant,
) -> anyhow::Result<DemoOutcome> {
    // Checked before the slow part; the shop is checked again under a lock in the transaction.
    let shop_present = insert::demo_data_present(db).await?;
    let events_present = if shop_present {
        let customers = insert::first_customers(db, CUSTOMERS_CHECKED_FOR_EVENTS).await?;
        insert_events::present_for(mongo, &customers).await
    } else {
        insert_events::present(mongo).await
    }
    .context("could not look for demo events in MongoDB")?;
    if shop_present && events_present {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    let ends_at = if shop_present {
        // The missing events must be those of the shop that is there, dated as its orders
        // are, whatever end this load asked for.
        match insert::loaded_end(db).await? {
            Some(loaded) => loaded,
            None => return Ok(DemoOutcome::AlreadyPresent),
        }
    } else {
        ends_at
    };
    let (generated, hashes) = tokio::try_join!(
        tokio::task::spawn_blocking(move || {
            let generating = Instant::now();
            let shop = generate(seed, ends_at);
            let history = history::generate(&shop, seed, scope);
            (shop, history, generating.elapsed())
        }),
        tokio::task::spawn_blocking(hash_demo_passwords),
    )
    .context("generating the demo shop failed")?;
    let (shop, history, generation) = generated;
    let reviews = reviews::reviews_of(&history.orders, &shop.accounts, shop.ends_at);

    if shop_present {
        // An earlier load committed the shop but not its events. Add them only if the shop
        // is this seed's: another shop's customers would not match.
        if !insert::holds(db, &shop, &history).await? {
            return Ok(DemoOutcome::AlreadyPresent);
        }
        let events = insert_events::write(mongo, &history.events).await?;
        reviews::write(mongo, &reviews).await?;
        return Ok(DemoOutcome::EventsAdded {
            seed,
            ends_at: shop.ends_at,
            events,
            elapsed: started.elapsed(),
        });
    }

    let writing = Instant::now();
    if !insert::write(db, &shop, &history, &reviews, &hashes).await? {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    crate::storage::catalog::refresh_search_lexicon(db)
        .await
        .context("refreshing the search lexicon failed")?;
    insert::analyze(db).await?;
    let postgres = writing.elapsed();

    let writing = Instant::now();
    if events_present {
        // Left by a load into another PostgreSQL database sharing this MongoDB database.
        insert_events::remove(mongo)
            .await
            .context("removing stale demo events failed")?;
    }
    insert_events::write(mongo, &history.events)
        .await
        .context("the demo shop is loaded but not all its behaviour events; delete the demo events (`demo: true`) and run demo-data again to add them")?;
    reviews::write(mongo, &reviews)
        .await
        .context("the demo shop is loaded but not its reviews; delete the demo events (`demo: true`) and run demo-data again to add them")?;
    let events = writing.elapsed();
    Ok(DemoOutcome::Loaded {
        seed,
        ends_at: shop.ends_at,
        counts: shop.counts(),
        history: history.counts(),
        churn: history.churn_summary(),
        timings: LoadTimings {
            generation,
            postgres,
            events,
            total: started.elapsed(),
        },
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
