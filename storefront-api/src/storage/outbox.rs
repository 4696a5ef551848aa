//! The outbox: what the shop's changes announce, written in the transaction of the change
//! (so a message exists exactly when its change committed) and sent on by the relay
//! (`crate::relay`). The one writer of outbox rows.

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
