//! The live shop as churn data: Nexus orders (PostgreSQL) and behaviour events (MongoDB) read
//! as [`Transaction`]s and [`Event`]s — one mapping, used by `churn-lab snapshot` and by
//! storefront-api's scoring — read from a [`ShopSource`] that never names its credentials, and
//! snapshots of them as Parquet files with a manifest, so every analysis can be re-run
//! offline. Reads only.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use storefront_client::staff::churn::{DatasetEvent, DatasetTransaction};
use uuid::Uuid;

use crate::transactions::{
    DataManifest, Event, Events, LoadError, Transaction, TransactionKind, Transactions,
    write_parquet,
};

type OrderRow = (
    Uuid,
    String,
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

/// Orders as transactions (amounts in major units): every paid order is a purchase, a refund is
/// a negative row at the order's last change, a cancelled order is a cancellation. Orders still
/// waiting for payment are not purchases yet. `customer` limits the read to one account.
pub async fn orders(db: &PgPool, customer: Option<Uuid>) -> Result<Vec<Transaction>, sqlx::Error> {
    // Runtime-checked: churn-lab carries no offline query metadata.
    let rows: Vec<OrderRow> = sqlx::query_as(
        "SELECT account_id, status::text, total_minor, refunded_minor, placed_at, cancelled_at, updated_at
           FROM orders
          WHERE status <> 'pending_payment' AND ($1::uuid IS NULL OR account_id = $1)",
    )
    .bind(customer)
    .fetch_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (account, status, total, refunded, placed_at, cancelled_at, updated_at) in rows {
        let customer_id = account.to_string();
        let major = |minor: i64| minor as f64 / 100.0;
        if status == "cancelled" {
            out.push(Transaction {
                customer_id,
                ordered_at: cancelled_at.unwrap_or(placed_at).naive_utc(),
                amount: major(total),
                quantity: 1,
                kind: TransactionKind::Cancellation,
            });
            continue;
        }
        out.push(Transaction {
            customer_id: customer_id.clone(),
            ordered_at: placed_at.naive_utc(),
            amount: major(total),
            quantity: 1,
            kind: TransactionKind::Purchase,
        });
        if refunded > 0 {
            out.push(Transaction {
                customer_id,
                ordered_at: updated_at.naive_utc(),
                amount: -major(refunded),
                quantity: 1,
                kind: TransactionKind::Refund,
            });
        }
    }
    Ok(out)
}

/// Behaviour events of known customers (one customer, or all), read as they arrive from the
/// server: an export streams them on without holding them all.
pub async fn event_stream(
    db: &mongodb::Database,
    customer: Option<Uuid>,
) -> mongodb::error::Result<impl futures::Stream<Item = mongodb::error::Result<Event>> + use<>> {
    let filter = match customer {
        Some(id) => doc! { "customer_id": id.to_string() },
        None => doc! { "customer_id": { "$type": "string" } },
    };
    let cursor = db
        .collection::<Document>("events")
        .find(filter)
        .projection(doc! { "_id": 0, "customer_id": 1, "type": 1, "occurred_at": 1 })
        .batch_size(5_000)
        .await?;
    Ok(cursor.try_filter_map(|document| async move { Ok(event_from_document(&document)) }))
}

/// Behaviour events of known customers (one customer, or all).
pub async fn events(
    db: &mongodb::Database,
    customer: Option<Uuid>,
) -> mongodb::error::Result<Vec<Event>> {
    event_stream(db, customer).await?.try_collect().await
}

/// An event document as churn-lab reads it; `None` for one without a customer, type or time.
fn event_from_document(document: &Document) -> Option<Event> {
    let at = document
        .get_datetime("occurred_at")
        .ok()?
        .timestamp_millis();
    Some(Event {
        customer_id: document.get_str("customer_id").ok()?.to_owned(),
        occurred_at: DateTime::from_timestamp_millis(at)?.naive_utc(),
        kind: document.get_str("type").ok()?.to_owned(),
    })
}

/// A transaction as the API's churn dataset carries it.
pub fn transaction_to_wire(transaction: &Transaction) -> DatasetTransaction {
    DatasetTransaction {
        customer_id: transaction.customer_id.clone(),
        // churn-lab keeps times as naive UTC; the wire says so.
        ordered_at: transaction.ordered_at.and_utc(),
        amount: transaction.amount,
        quantity: transaction.quantity,
        kind: transaction.kind.as_str().to_owned(),
    }
}

/// A transaction of the API's churn dataset; `None` for a kind this version does not know.
pub fn transaction_from_wire(row: &DatasetTransaction) -> Option<Transaction> {
    Some(Transaction {
        customer_id: row.customer_id.clone(),
        ordered_at: row.ordered_at.naive_utc(),
        amount: row.amount,
        quantity: row.quantity,
        kind: TransactionKind::parse(&row.kind)?,
    })
}

/// An event as the API's churn dataset carries it.
pub fn event_to_wire(event: &Event) -> DatasetEvent {
    DatasetEvent {
        customer_id: event.customer_id.clone(),
        occurred_at: event.occurred_at.and_utc(),
        kind: event.kind.clone(),
    }
}

/// An event of the API's churn dataset.
pub fn event_from_wire(row: &DatasetEvent) -> Event {
    Event {
        customer_id: row.customer_id.clone(),
        occurred_at: row.occurred_at.naive_utc(),
        kind: row.kind.clone(),
    }
}

/// Where the live shop's data is read from: its PostgreSQL and MongoDB.
#[derive(Debug, Clone)]
pub struct ShopSource {
    pub database_url: String,
    pub mongodb_uri: String,
    pub mongodb_database: String,
}

/// How long reading the shop waits for each server before it says the server is down.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the shop could not be read. Addresses are named without their credentials.
#[derive(Debug, thiserror::Error)]
pub enum ShopReadError {
    #[error("connecting to PostgreSQL at {at}")]
    Postgres { at: String, source: sqlx::Error },
    #[error("reading orders")]
    Orders(#[source] sqlx::Error),
    /// The URI itself is wrong: nothing was tried.
    #[error("reading the MongoDB URI")]
    MongoUri(#[source] mongodb::error::Error),
    #[error("connecting to MongoDB")]
    MongoClient(#[source] mongodb::error::Error),
    #[error("reading events from MongoDB at {at}")]
    Events {
        at: String,
        source: mongodb::error::Error,
    },
}

impl ShopSource {
    /// Where the data is read, without credentials: what a snapshot's manifest names.
    pub fn describe(&self) -> String {
        format!(
            "postgres {} · mongodb {}/{}",
            without_credentials(&self.database_url),
            without_credentials(&self.mongodb_uri),
            self.mongodb_database
        )
    }

    /// Every order (as transactions) and behaviour event of the shop, read only.
    pub async fn read(&self) -> Result<(Vec<Transaction>, Vec<Event>), ShopReadError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(&self.database_url)
            .await
            .map_err(|source| ShopReadError::Postgres {
                at: without_credentials(&self.database_url),
                source,
            })?;
        let transactions = orders(&pool, None).await.map_err(ShopReadError::Orders)?;
        let mut options = mongodb::options::ClientOptions::parse(&self.mongodb_uri)
            .await
            .map_err(ShopReadError::MongoUri)?;
        options.server_selection_timeout = Some(CONNECT_TIMEOUT);
        let client = mongodb::Client::with_options(options).map_err(ShopReadError::MongoClient)?;
        let events = events(&client.database(&self.mongodb_database), None)
            .await
            .map_err(|source| ShopReadError::Events {
                at: without_credentials(&self.mongodb_uri),
                source,
            })?;
        Ok((transactions, events))
    }
}

/// `host:port/database` of a database URL, never its credentials (nor its query, which may
/// hold them too).
pub fn without_credentials(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or_default().to_owned()
}

/// What a snapshot holds and where it came from (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotManifest {
    pub created_at: DateTime<Utc>,
    /// Where the data was read, without credentials.
    pub source: String,
    pub transactions: DataManifest,
    pub events: DataManifest,
}

pub const TRANSACTIONS_FILE: &str = "transactions.parquet";
pub const EVENTS_FILE: &str = "events.parquet";
pub const MANIFEST_FILE: &str = "manifest.json";

/// Writes `transactions.parquet` (the transactions file format, `kind` as `status`),
/// `events.parquet` and `manifest.json` into `dir`.
pub fn write_snapshot(
    transactions: &[Transaction],
    events: &[Event],
    source: &str,
    dir: &Path,
) -> Result<SnapshotManifest, LoadError> {
    let io = |path: PathBuf| move |source| LoadError::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.to_owned()))?;
    let polars_error = |path: &Path| {
        let path = path.to_owned();
        move |e: PolarsError| LoadError::Unreadable {
            path,
            message: e.to_string(),
        }
    };
    let tx = Transactions::from_records(transactions);
    let tx_path = dir.join(TRANSACTIONS_FILE);
    let mut tx_frame = tx
        .frame()
        .select(["customer_id", "ordered_at", "amount", "quantity", "kind"])
        .and_then(|mut f| f.rename("kind", "status".into()).map(|f| f.clone()))
        .map_err(polars_error(&tx_path))?;
    write_parquet(&mut tx_frame, &tx_path)?;

    let events_path = dir.join(EVENTS_FILE);
    let occurred_at: Vec<i64> = events
        .iter()
        .map(|e| e.occurred_at.and_utc().timestamp_millis())
        .collect();
    let mut events_frame = DataFrame::new_infer_height(vec![
        Column::new(
            "customer_id".into(),
            events
                .iter()
                .map(|e| e.customer_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Series::new("occurred_at".into(), occurred_at)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .map_err(polars_error(&events_path))?
            .into_column(),
        Column::new(
            "type".into(),
            events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ),
    ])
    .map_err(polars_error(&events_path))?;
    write_parquet(&mut events_frame, &events_path)?;

    let mut tx_manifest = tx.manifest().clone();
    tx_manifest.source = tx_path.display().to_string();
    let mut events_manifest = Events::from_records(events).manifest().clone();
    events_manifest.source = events_path.display().to_string();
    let manifest = SnapshotManifest {
        created_at: Utc::now(),
        source: source.to_owned(),
        transactions: tx_manifest,
        events: events_manifest,
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let body = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    std::fs::write(&manifest_path, body).map_err(io(manifest_path.clone()))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_named_without_their_credentials() {
        for (url, shown) in [
            (
                "postgres://reader:secret@127.0.0.1:9/nexus",
                "127.0.0.1:9/nexus",
            ),
            (
                "postgres://reader:p@ss@db:5432/nexus?sslmode=require&password=x",
                "db:5432/nexus",
            ),
            ("mongodb://127.0.0.1:27017", "127.0.0.1:27017"),
            ("db.internal:5432/nexus", "db.internal:5432/nexus"),
        ] {
            assert_eq!(without_credentials(url), shown, "{url}");
        }
        let source = ShopSource {
            database_url: "postgres://reader:secret@db:5432/nexus".into(),
            mongodb_uri: "mongodb://admin:hunter2@mongo:27017?authSource=admin".into(),
            mongodb_database: "nexus".into(),
        };
        assert_eq!(
            source.describe(),
            "postgres db:5432/nexus · mongodb mongo:27017/nexus"
        );
    }
}
