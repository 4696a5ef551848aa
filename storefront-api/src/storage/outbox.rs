//! The outbox: what the shop's changes announce, written in the transaction of the change
//! (so a message exists exactly when its change committed) and sent on by the relay
//! (`crate::relay`). The one writer of outbox rows, and the one that deletes them once they
//! have served (`sweep`).

use serde_json::Value;
use sqlx::{Postgres, Transaction};

/// Writes a message in the caller's transaction. A message about an order (its payload has
/// `order_id`) is ordered by that order: receivers get an order's messages in the order
/// they were written.
pub async fn publish(
    tx: &mut Transaction<'_, Postgres>,
    topic: &str,
    payload: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, ordering_key) VALUES ($1, $2, $2::jsonb ->> 'order_id')",
        topic,
        payload
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes many messages of one topic in the caller's transaction, in one statement (a
/// campaign's launch announces thousands of offers).
pub async fn publish_many(
    tx: &mut Transaction<'_, Postgres>,
    topic: &str,
    payloads: &[Value],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, ordering_key)
         SELECT $1, p, p ->> 'order_id' FROM UNNEST($2::jsonb[]) WITH ORDINALITY AS m (p, n)
          ORDER BY n",
        topic,
        payloads
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes up to `limit` messages processed more than `days` ago that have nothing left to
/// send — no pending webhook delivery or email — with their deliveries and attempts (the
/// delivery logs keep `days` of history; the bodies hold customers' data, which the shop
/// should not keep for ever). Returns how many messages went. Several relays may sweep at
/// once: each takes other rows (`SKIP LOCKED`).
pub async fn sweep(db: &sqlx::PgPool, days: i32, limit: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let old = sqlx::query_scalar!(
        "SELECT o.id FROM outbox o
          WHERE o.processed_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.outbox_id = o.id AND d.status = 'pending')
            AND NOT EXISTS (SELECT 1 FROM email_deliveries e
                             WHERE e.outbox_id = o.id AND e.status = 'pending')
          ORDER BY o.processed_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED",
        days,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    if old.is_empty() {
        return Ok(0);
    }
    // Attempts go with their deliveries (ON DELETE CASCADE).
    sqlx::query!(
        "DELETE FROM webhook_deliveries WHERE outbox_id = ANY($1)",
        &old
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM email_deliveries WHERE outbox_id = ANY($1)",
        &old
    )
    .execute(&mut *tx)
    .await?;
    let swept = sqlx::query!("DELETE FROM outbox WHERE id = ANY($1)", &old)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(swept)
}
