//! Writing the demo behaviour events to MongoDB, after the PostgreSQL part has committed.
//!
//! Documents have the shape of `storage::events::to_document`, plus a top-level `demo: true`
//! (which no client can send: the events API rejects unknown fields) so that a later load can
//! tell demo events from real ones. `received_at` is set to `occurred_at`: the demo shop
//! received each event as it happened, and loads with the same seed and end write the same
//! documents whatever the day they run (only the `_id`s the driver assigns differ).
//!
//! Inserting into an indexed collection is several times slower on the MongoDB-wire server
//! we run (SecantusDB), so the indexes are ensured after the events are in: on a fresh
//! database they are then built once, over everything.

use anyhow::Context;
use mongodb::bson::{self, Document, doc};
use uuid::Uuid;

use crate::{domain::events::BehaviourEvent, storage::events as event_store};

/// Events per `insert_many`. SecantusDB took the same time for batches of 1,000 and 5,000
/// and longer for 20,000; fewer round trips at the same speed, so 5,000.
const EVENTS_PER_BATCH: usize = 5_000;

/// The field that marks a demo event.
const DEMO_MARK: &str = "demo";

fn collection(mongo: &mongodb::Database) -> mongodb::Collection<Document> {
    mongo.collection(event_store::COLLECTION)
}

/// Whether any demo event is stored. This scans the collection (SecantusDB scans it all,
/// even for one document), so it is asked only when no demo shop is loaded: then the
/// collection is usually empty.
pub(super) async fn present(mongo: &mongodb::Database) -> mongodb::error::Result<bool> {
    let found = collection(mongo)
        .find_one(doc! { DEMO_MARK: true })
        .projection(doc! { "_id": 1 })
        .await?;
    Ok(found.is_some())
}

/// Whether any of these customers has a demo event: every demo customer's history starts
/// with the logged-in visit in which they signed up, so the first few customers tell whether
/// a load's events are in. Uses the `customer_time` index.
pub(super) async fn present_for(
    mongo: &mongodb::Database,
    customers: &[Uuid],
) -> mongodb::error::Result<bool> {
    let ids: Vec<String> = customers.iter().map(Uuid::to_string).collect();
    let found = collection(mongo)
        .find_one(doc! { "customer_id": { "$in": ids }, DEMO_MARK: true })
        .projection(doc! { "_id": 1 })
        .await?;
    Ok(found.is_some())
}

/// Deletes every demo event: those of an earlier load into another PostgreSQL database,
/// which would duplicate or contradict the new shop's.
pub(super) async fn remove(mongo: &mongodb::Database) -> mongodb::error::Result<u64> {
    let deleted = collection(mongo)
        .delete_many(doc! { DEMO_MARK: true })
        .await?;
    Ok(deleted.deleted_count)
}

/// Inserts the events in batches, then makes sure the collection's indexes exist.
pub(super) async fn write(
    mongo: &mongodb::Database,
    events: &[BehaviourEvent],
) -> anyhow::Result<usize> {
    let collection = collection(mongo);
    for batch in events.chunks(EVENTS_PER_BATCH) {
        let documents: Vec<Document> = batch.iter().map(demo_document).collect();
        collection
            .insert_many(documents)
            .await
            .context("inserting demo events failed")?;
    }
    event_store::ensure_indexes(mongo)
        .await
        .context("creating the event indexes failed")?;
    Ok(events.len())
}

/// The stored form of a demo event.
fn demo_document(event: &BehaviourEvent) -> Document {
    let mut document = event_store::to_document(event);
    document.insert(
        "received_at",
        bson::DateTime::from_millis(event.occurred_at.timestamp_millis()),
    );
    document.insert(DEMO_MARK, true);
    document
}
