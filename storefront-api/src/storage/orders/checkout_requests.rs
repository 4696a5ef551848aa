//! Checkout requests: the Idempotency-Key gate. A key is claimed once per account; a
//! repeat of a finished request gets the recorded answer, a repeat of one still running a
//! conflict.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::checkout::IdempotencyKey;
use crate::storage::StoreError;

/// How a checkout request with an Idempotency-Key begins.
pub enum CheckoutStart {
    /// First time: this request does the work.
    Owner,
    /// Done before: answer exactly this.
    Replay { status: u16, body: Value },
    /// Still running in another request.
    InProgress,
    /// The key was used with another body.
    Mismatch,
}

pub async fn start_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<CheckoutStart, StoreError> {
    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO checkout_requests (account_id, idempotency_key, request_hash)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true AS "inserted!""#,
        account_id,
        key.as_str(),
        request_hash
    )
    .fetch_optional(db)
    .await?;
    if inserted.is_some() {
        return Ok(CheckoutStart::Owner);
    }
    recorded_checkout(db, account_id, key, request_hash).await
}

/// The state of a checkout request that already exists.
pub async fn recorded_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<CheckoutStart, StoreError> {
    let row = sqlx::query!(
        r#"SELECT request_hash, response_status, response_body
             FROM checkout_requests WHERE account_id = $1 AND idempotency_key = $2"#,
        account_id,
        key.as_str()
    )
    .fetch_one(db)
    .await?;
    if row.request_hash != request_hash {
        return Ok(CheckoutStart::Mismatch);
    }
    Ok(match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => CheckoutStart::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        _ => CheckoutStart::InProgress,
    })
}

pub async fn finish_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    status: u16,
    body: &Value,
    order_id: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"UPDATE checkout_requests
              SET response_status = $3, response_body = $4, order_id = $5, completed_at = now()
            WHERE account_id = $1 AND idempotency_key = $2"#,
        account_id,
        key.as_str(),
        i16::try_from(status).unwrap_or(500),
        body,
        order_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Drops a checkout request that failed internally, so that a retry can start over.
pub async fn forget_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM checkout_requests WHERE account_id = $1 AND idempotency_key = $2 AND completed_at IS NULL",
        account_id,
        key.as_str()
    )
    .execute(db)
    .await?;
    Ok(())
}
