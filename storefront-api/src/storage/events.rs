//! Behaviour events in MongoDB, collection `events`, indexed for per-customer time-range
//! reads (what churn features need) and per-anonymous-visitor reads.

use mongodb::{
    IndexModel,
    bson::{self, Bson, Document, doc},
    options::IndexOptions,
};
use uuid::Uuid;

use storefront_client::account::RecordedEvent;

use super::StoreError;
use crate::domain::events::BehaviourEvent;

pub const COLLECTION: &str = "events";

fn collection(db: &mongodb::Database) -> mongodb::Collection<Document> {
    db.collection(COLLECTION)
}

/// Creates the indexes if they are missing (idempotent).
pub async fn ensure_indexes(db: &mongodb::Database) -> mongodb::error::Result<()> {
    let index = |keys: Document, name: &str| {
        IndexModel::builder()
            .keys(keys)
            .options(IndexOptions::builder().name(name.to_owned()).build())
            .build()
    };
    collection(db)
        .create_indexes([
            index(doc! { "customer_id": 1, "occurred_at": 1 }, "customer_time"),
            index(doc! { "anonymous_id": 1, "occurred_at": 1 }, "visitor_time"),
            index(doc! { "type": 1, "occurred_at": 1 }, "type_time"),
        ])
        .await
        .map(drop)
}

/// The stored form of an event.
pub fn to_document(event: &BehaviourEvent) -> Document {
    let properties = bson::to_bson(&event.properties).unwrap_or(Bson::Document(Document::new()));
    doc! {
        "type": event.kind.as_str(),
        "customer_id": event.customer_id.map(|id| id.to_string()),
        "anonymous_id": &event.anonymous_id,
        "occurred_at": bson::DateTime::from_millis(event.occurred_at.timestamp_millis()),
        "received_at": bson::DateTime::now(),
        "properties": properties,
    }
}

pub async fn insert(db: &mongodb::Database, events: &[BehaviourEvent]) -> Result<u64, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let documents: Vec<Document> = events.iter().map(to_document).collect();
    let result = collection(db).insert_many(documents).await?;
    Ok(result.inserted_ids.len() as u64)
}

/// How many events of each type a customer has in `[from, to)`.
pub async fn count_for_customer(
    db: &mongodb::Database,
    customer_id: Uuid,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    use futures::TryStreamExt;
    let pipeline = [
        doc! { "$match": {
            "customer_id": customer_id.to_string(),
            "occurred_at": { "$gte": bson::DateTime::from_millis(from.timestamp_millis()), "$lt": bson::DateTime::from_millis(to.timestamp_millis()) },
        }},
        doc! { "$group": { "_id": "$type", "n": { "$sum": 1 } } },
        doc! { "$sort": { "_id": 1 } },
    ];
    let rows: Vec<Document> = collection(db)
        .aggregate(pipeline)
        .await?
        .try_collect()
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = row.get_str("_id").ok()?.to_owned();
            let n = row
                .get_i32("n")
                .map(i64::from)
                .or_else(|_| row.get_i64("n"))
                .ok()?;
            Some((kind, n))
        })
        .collect())
}

/// Every event recorded for a customer, oldest first (their data export).
pub async fn for_customer(
    db: &mongodb::Database,
    customer_id: Uuid,
) -> Result<Vec<RecordedEvent>, StoreError> {
    use futures::TryStreamExt;
    let documents: Vec<Document> = collection(db)
        .find(doc! { "customer_id": customer_id.to_string() })
        .sort(doc! { "occurred_at": 1 })
        .projection(
            doc! { "_id": 0, "type": 1, "occurred_at": 1, "anonymous_id": 1, "properties": 1 },
        )
        .await?
        .try_collect()
        .await?;
    documents
        .into_iter()
        .map(|document| {
            let occurred_at = document
                .get_datetime("occurred_at")
                .ok()
                .and_then(|at| chrono::DateTime::from_timestamp_millis(at.timestamp_millis()))
                .ok_or_else(|| StoreError::Corrupt("an event without occurred_at".into()))?;
            Ok(RecordedEvent {
                kind: document.get_str("type").unwrap_or_default().to_owned(),
                occurred_at,
                anonymous_id: document.get_str("anonymous_id").ok().map(str::to_owned),
                properties: document
                    .get("properties")
                    .cloned()
                    .map_or(serde_json::Value::Null, Bson::into_relaxed_extjson),
            })
        })
        .collect()
}

/// Deletes every event recorded for a customer (their account is being erased).
pub async fn erase_customer(db: &mongodb::Database, customer_id: Uuid) -> Result<u64, StoreError> {
    let result = collection(db)
        .delete_many(doc! { "customer_id": customer_id.to_string() })
        .await?;
    Ok(result.deleted_count)
}
