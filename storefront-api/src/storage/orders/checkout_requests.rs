//! Checkout requests: the Idempotency-Key gate. A key is claimed once per account; a
//! repeat of a finished request gets the recorded answer, a repeat of one still running a
//! conflict.
//!
//! Whoever works on a request holds its **lease** (`Lease`): the first request, until the
//! request deadline; after that, whoever takes an interrupted request over (a retry with the
//! key, or the reaper). Every write on the request's behalf — linking the order placed for it,
//! recording its answer, abandoning it — checks the lease's token, so the work of a holder
//! that was overtaken changes nothing.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::checkout::IdempotencyKey;
use crate::storage::StoreError;

/// The right to work on one checkout request, until the lease runs out.
#[derive(Debug, Clone)]
pub struct Lease {
    pub account_id: Uuid,
    pub key: IdempotencyKey,
    token: Uuid,
}

/// How a checkout request with an Idempotency-Key begins.
pub enum CheckoutStart {
    /// First time: this request does the work.
    Owner(Lease),
    /// Done before: answer exactly this.
    Replay { status: u16, body: Value },
    /// Still running in another request, within its lease.
    InProgress,
    /// Its holder's lease ran out before it was finished: it was interrupted.
    Interrupted,
    /// The key was used with another body.
    Mismatch,
}

/// An interrupted checkout request whose lease was taken over.
pub struct TakenOver {
    pub lease: Lease,
    /// The order placed for it, if the interruption came after placing.
    pub order_id: Option<Uuid>,
}

fn seconds(lease: Duration) -> f64 {
    lease.as_secs_f64()
}

pub async fn start_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    request_hash: &str,
    lease: Duration,
) -> Result<CheckoutStart, StoreError> {
    // A request found taken can be dropped before it is read (its holder failed before
    // placing an order and let the key go): then the key is free again, so claim anew. Each
    // round is a claim lost to a request that ended at once; three are plenty, and after
    // them the key counts as busy.
    for _ in 0..3 {
        let token = Uuid::new_v4();
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO checkout_requests
                   (account_id, idempotency_key, request_hash, lease_token, lease_expires_at)
               VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
               ON CONFLICT DO NOTHING RETURNING true AS "inserted!""#,
            account_id,
            key.as_str(),
            request_hash,
            token,
            seconds(lease),
        )
        .fetch_optional(db)
        .await?;
        if inserted.is_some() {
            return Ok(CheckoutStart::Owner(Lease {
                account_id,
                key: key.clone(),
                token,
            }));
        }
        if let Some(start) = recorded_checkout(db, account_id, key, request_hash).await? {
            return Ok(start);
        }
    }
    Ok(CheckoutStart::InProgress)
}

/// The state of a checkout request that already exists, or `None` if it is gone.
async fn recorded_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<Option<CheckoutStart>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT request_hash, response_status, response_body,
                  lease_expires_at < now() AS "lease_expired!"
             FROM checkout_requests WHERE account_id = $1 AND idempotency_key = $2"#,
        account_id,
        key.as_str()
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.request_hash != request_hash {
        return Ok(Some(CheckoutStart::Mismatch));
    }
    Ok(Some(match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => CheckoutStart::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        _ if row.lease_expired => CheckoutStart::Interrupted,
        _ => CheckoutStart::InProgress,
    }))
}

/// Takes over one interrupted request (its lease ran out, it has no answer), or `None` if
/// it is no longer interrupted: finished, or taken over by someone else first.
pub async fn take_over(
    db: &PgPool,
    account_id: Uuid,
    key: &IdempotencyKey,
    lease: Duration,
) -> Result<Option<TakenOver>, StoreError> {
    let token = Uuid::new_v4();
    let row = sqlx::query!(
        r#"UPDATE checkout_requests
              SET lease_token = $3, lease_expires_at = now() + make_interval(secs => $4)
            WHERE account_id = $1 AND idempotency_key = $2
              AND completed_at IS NULL AND lease_expires_at < now()
        RETURNING order_id"#,
        account_id,
        key.as_str(),
        token,
        seconds(lease),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| TakenOver {
        lease: Lease {
            account_id,
            key: key.clone(),
            token,
        },
        order_id: row.order_id,
    }))
}

/// Takes over up to `limit` interrupted requests, oldest lease first, skipping any another
/// reaper is taking over at the same moment.
pub async fn take_over_interrupted(
    db: &PgPool,
    lease: Duration,
    limit: i64,
) -> Result<Vec<TakenOver>, StoreError> {
    let token = Uuid::new_v4();
    let rows = sqlx::query!(
        r#"UPDATE checkout_requests r
              SET lease_token = $1, lease_expires_at = now() + make_interval(secs => $2)
             FROM (SELECT account_id, idempotency_key FROM checkout_requests
                    WHERE completed_at IS NULL AND lease_expires_at < now()
                    ORDER BY lease_expires_at LIMIT $3
                    FOR UPDATE SKIP LOCKED) due
            WHERE r.account_id = due.account_id AND r.idempotency_key = due.idempotency_key
        RETURNING r.account_id, r.idempotency_key, r.order_id"#,
        token,
        seconds(lease),
        limit,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let key = IdempotencyKey::parse(Some(&row.idempotency_key)).map_err(|_| {
                StoreError::Corrupt(format!(
                    "checkout request key {:?} is not a valid Idempotency-Key",
                    row.idempotency_key
                ))
            })?;
            Ok(TakenOver {
                lease: Lease {
                    account_id: row.account_id,
                    key,
                    token,
                },
                order_id: row.order_id,
            })
        })
        .collect()
}

/// Links the order placed for a request, in the transaction that places it; `false` if the
/// lease was lost (then the transaction must not commit).
pub(super) async fn link_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    lease: &Lease,
    order_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let linked = sqlx::query!(
        r#"UPDATE checkout_requests SET order_id = $4
            WHERE account_id = $1 AND idempotency_key = $2 AND lease_token = $3
              AND completed_at IS NULL AND order_id IS NULL"#,
        lease.account_id,
        lease.key.as_str(),
        lease.token,
        order_id
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(linked == 1)
}

/// Records the answer to replay; `false` if the lease was lost (another holder answers).
pub async fn finish_checkout(
    db: &PgPool,
    lease: &Lease,
    status: u16,
    body: &Value,
    order_id: Option<Uuid>,
) -> Result<bool, StoreError> {
    let finished = sqlx::query!(
        r#"UPDATE checkout_requests
              SET response_status = $4, response_body = $5, order_id = $6, completed_at = now()
            WHERE account_id = $1 AND idempotency_key = $2 AND lease_token = $3
              AND completed_at IS NULL"#,
        lease.account_id,
        lease.key.as_str(),
        lease.token,
        i16::try_from(status).unwrap_or(500),
        body,
        order_id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(finished == 1)
}

/// Lets go of a request whose holder failed internally (a dependency down, a bug): with no
/// order placed it is dropped, so that a retry starts over; with one, its lease ends now, so
/// that the next retry (or the reaper) takes it over at once and settles that order.
pub async fn abandon_checkout(db: &PgPool, lease: &Lease) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let dropped = sqlx::query!(
        r#"DELETE FROM checkout_requests
            WHERE account_id = $1 AND idempotency_key = $2 AND lease_token = $3
              AND completed_at IS NULL AND order_id IS NULL"#,
        lease.account_id,
        lease.key.as_str(),
        lease.token
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if dropped == 0 {
        sqlx::query!(
            r#"UPDATE checkout_requests SET lease_expires_at = now()
                WHERE account_id = $1 AND idempotency_key = $2 AND lease_token = $3
                  AND completed_at IS NULL"#,
            lease.account_id,
            lease.key.as_str(),
            lease.token
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
