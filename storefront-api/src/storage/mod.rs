//! Storage: PostgreSQL (money, stock, catalog, accounts), Redis (sessions, caches, rate
//! limits) and MongoDB. Row types live here and never leave; callers get domain views.

pub mod accounts;
pub mod audit;
pub mod cache;
pub mod campaigns;
pub mod carts;
pub mod catalog;
pub mod churn;
pub mod consistency;
pub mod dashboard;
pub mod discounts;
pub mod emails;
pub mod events;
pub mod health;
pub mod marketing_consent;
pub mod model_activations;
pub mod orders;
pub mod outbox;
pub mod password_resets;
pub mod promotions;
pub mod rate_limit;
pub mod returns;
pub mod reviews;
pub mod score_jobs;
pub mod scoring_runs;
pub mod segments;
pub mod sessions;
pub mod stock;
pub mod webhooks;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{
    config::{DatabaseSettings, MongoSettings, RedisSettings},
    domain::FieldError,
};

/// An amount read from a row with its currency code. Codes are checked against ISO 4217
/// before they are stored, so the fallback only covers a row edited by hand: it must not turn
/// a read into a panic.
pub(crate) fn money(amount_minor: i64, currency: &str) -> crate::domain::money::Money {
    use crate::domain::money::{Currency, Money};
    Money::new(
        amount_minor,
        Currency::parse(currency).unwrap_or(Currency::NONE),
    )
}

/// Failures a storage call reports to its caller in the shop's terms.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(FieldError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Mongo(#[from] mongodb::error::Error),
    /// A stored row breaks the rules it was written under (edited by hand, or a bug): a
    /// server fault to log and report, never a value to guess.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Maps a unique or foreign-key violation by its constraint name; other errors pass.
    pub(crate) fn map_constraint(error: sqlx::Error, map: &[ConstraintError]) -> Self {
        let make = error
            .as_database_error()
            .and_then(|db| db.constraint())
            .and_then(|name| map.iter().find(|(constraint, _)| *constraint == name))
            .map(|(_, make)| *make);
        match make {
            Some(make) => make(),
            None => StoreError::Database(error),
        }
    }
}

/// A constraint name and the error its violation means to the caller.
pub(crate) type ConstraintError<'a> = (&'a str, fn() -> StoreError);

/// Runs a paged query whose rows carry the total count (`count(*) OVER ()`). A page past
/// the end has no rows to carry it, so the first page is asked for the total then.
pub async fn paged<T, F, Fut>(
    limit: i64,
    offset: i64,
    query: F,
) -> Result<(Vec<T>, i64), StoreError>
where
    F: Fn(i64, i64) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, i64), StoreError>>,
{
    let (rows, total) = query(limit, offset).await?;
    if rows.is_empty() && offset > 0 {
        let (_, total) = query(1, 0).await?;
        return Ok((rows, total));
    }
    Ok((rows, total))
}

pub fn pg_connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, sqlx::Error> {
    settings.url.expose_secret().parse()
}

/// A lazily connecting pool: the server starts even while PostgreSQL is down, and `/readyz`
/// says so.
pub fn pg_pool(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_lazy_with(pg_connect_options(settings)?))
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Creates the database if it does not exist, then applies pending migrations.
pub async fn migrate(settings: &DatabaseSettings) -> anyhow::Result<()> {
    use anyhow::Context;
    use sqlx::migrate::MigrateDatabase;
    let url = settings.url.expose_secret();
    if !sqlx::Postgres::database_exists(url)
        .await
        .context("could not reach PostgreSQL")?
    {
        sqlx::Postgres::create_database(url)
            .await
            .context("could not create the database")?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(pg_connect_options(settings)?)
        .await
        .context("could not connect to the database")?;
    MIGRATOR.run(&pool).await.context("migration failed")?;
    pool.close().await;
    Ok(())
}

pub fn redis_connection(
    settings: &RedisSettings,
) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(settings.url.expose_secret())?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2);
    redis::aio::ConnectionManager::new_lazy_with_config(client, config)
}

/// The MongoDB database requests use: they fail fast when it is away.
pub async fn mongo_database(settings: &MongoSettings) -> mongodb::error::Result<mongodb::Database> {
    mongo_client(
        settings,
        settings.server_selection_timeout_ms,
        "storefront-api",
    )
    .await
}

/// The MongoDB database of whole-shop batch work, its own client with a patient monitor
/// (`batch_timeout_ms`), so a long read is not cut off while requests keep their budget.
pub async fn mongo_batch_database(
    settings: &MongoSettings,
) -> mongodb::error::Result<mongodb::Database> {
    mongo_client(settings, settings.batch_timeout_ms, "storefront-api-batch").await
}

async fn mongo_client(
    settings: &MongoSettings,
    timeout_ms: u64,
    app_name: &str,
) -> mongodb::error::Result<mongodb::Database> {
    let mut options = mongodb::options::ClientOptions::parse(settings.uri.expose_secret()).await?;
    options.server_selection_timeout = Some(Duration::from_millis(timeout_ms));
    // The monitor's checks time out after the connect timeout too: a server slower than
    // this to answer one is taken as down and the connections in use are closed.
    options.connect_timeout = Some(Duration::from_millis(timeout_ms));
    options.app_name = Some(app_name.into());
    Ok(mongodb::Client::with_options(options)?.database(&settings.database))
}
