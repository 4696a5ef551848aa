//! Webhook endpoints, their deliveries and attempts in PostgreSQL, and the relay's claims on
//! the outbox. Two claims keep the relay honest across instances: a message is fanned out
//! to its endpoints by whoever locks its outbox row (`FOR UPDATE SKIP LOCKED`, so two
//! relays never take the same row, and the fan-out commits with the row marked processed),
//! and a delivery is sent by whoever holds its lease (taken with `SKIP LOCKED`; a relay
//! that dies lets it lapse, and the message is sent again). An order's messages wait for the
//! earlier ones to the same endpoint, so they arrive in the order they were written.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::staff::webhooks::{
    DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint,
};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::webhooks::{EndpointChange, NewEndpoint};

const ENDPOINT_NOT_FOUND: StoreError = StoreError::NotFound("webhook endpoint");

struct EndpointRow {
    id: Uuid,
    url: String,
    topics: Vec<String>,
    description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    dead_in_a_row: i32,
    pending: i64,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            topics: row.topics,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
            dead_in_a_row: row.dead_in_a_row,
            pending: row.pending,
        }
    }
}

/// Every endpoint, oldest first, with how many deliveries it has waiting.
pub async fn endpoints(db: &PgPool) -> Result<Vec<WebhookEndpoint>, StoreError> {
    select_endpoints(db, None).await
}

pub async fn endpoint(db: &PgPool, id: Uuid) -> Result<WebhookEndpoint, StoreError> {
    select_endpoints(db, Some(id))
        .await?
        .pop()
        .ok_or(ENDPOINT_NOT_FOUND)
}

/// All endpoints, or the one with `id`.
async fn select_endpoints(
    db: &PgPool,
    id: Option<Uuid>,
) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let rows = sqlx::query_as!(
        EndpointRow,
        r#"SELECT e.id, e.url, e.topics, e.description, e.created_at, e.updated_at,
                  e.disabled_at, e.disabled_reason, e.dead_in_a_row,
                  (SELECT count(*) FROM webhook_deliveries d
                    WHERE d.endpoint_id = e.id AND d.status = 'pending') AS "pending!"
             FROM webhook_endpoints e
            WHERE $1::uuid IS NULL OR e.id = $1
            ORDER BY e.created_at, e.id"#,
        id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

async fn snapshot(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Value, sqlx::Error> {
    audit::snapshot(tx, Entity::WebhookEndpoint, id).await
}

/// Registers an endpoint with its signing secret; audited.
pub async fn create(
    db: &PgPool,
    new: &NewEndpoint,
    secret: &str,
    actor: Uuid,
) -> Result<WebhookEndpoint, StoreError> {
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO webhook_endpoints (url, topics, description, secret, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        new.url.as_str(),
        &new.topics,
        new.description,
        secret,
        actor
    )
    .fetch_one(&mut *tx)
    .await?;
    let after = snapshot(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "webhook_endpoint.created",
        Entity::WebhookEndpoint,
        id,
        Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    endpoint(db, id).await
}

/// Applies a change; enabling starts the dead-in-a-row count again. Audited.
pub async fn change(
    db: &PgPool,
    id: Uuid,
    change: &EndpointChange,
    actor: Uuid,
) -> Result<WebhookEndpoint, StoreError> {
    let mut tx = db.begin().await?;
    let before = snapshot(&mut tx, id).await?;
    if before.is_null() {
        return Err(ENDPOINT_NOT_FOUND);
    }
    sqlx::query!(
        "UPDATE webhook_endpoints
            SET url = coalesce($2, url),
                topics = coalesce($3, topics),
                description = coalesce($4, description),
                disabled_at = CASE WHEN $5::bool IS NULL THEN disabled_at
                                   WHEN $5 THEN NULL
                                   ELSE coalesce(disabled_at, now()) END,
                disabled_reason = CASE WHEN $5::bool IS NULL THEN disabled_reason
                                       WHEN $5 THEN NULL
                                       WHEN disabled_at IS NULL THEN 'disabled by staff'
                                       ELSE disabled_reason END,
                dead_in_a_row = CASE WHEN $5::bool THEN 0 ELSE dead_in_a_row END,
                updated_at = now()
          WHERE id = $1",
        id,
        change.url.as_ref().map(|url| url.as_str()),
        change.topics.as_deref(),
        change.description,
        change.enabled
    )
    .execute(&mut *tx)
    .await?;
    let after = snapshot(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "webhook_endpoint.changed",
        Entity::WebhookEndpoint,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    endpoint(db, id).await
}

/// Replaces the signing secret (the old one stops at once); audited without either secret.
pub async fn rotate_secret(
    db: &PgPool,
    id: Uuid,
    secret: &str,
    actor: Uuid,
) -> Result<WebhookEndpoint, StoreError> {
    let mut tx = db.begin().await?;
    let rotated = sqlx::query!(
        "UPDATE webhook_endpoints SET secret = $2, updated_at = now() WHERE id = $1",
        id,
        secret
    )
    .execute(&mut *tx)
    .await?;
    if rotated.rows_affected() == 0 {
        return Err(ENDPOINT_NOT_FOUND);
    }
    audit::record(
        &mut tx,
        actor,
        "webhook_endpoint.secret_rotated",
        Entity::WebhookEndpoint,
        id,
        Value::Null,
        Value::Null,
    )
    .await?;
    tx.commit().await?;
    endpoint(db, id).await
}

/// Removes an endpoint with its delivery log; audited.
pub async fn delete(db: &PgPool, id: Uuid, actor: Uuid) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let before = snapshot(&mut tx, id).await?;
    let deleted = sqlx::query!("DELETE FROM webhook_endpoints WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(ENDPOINT_NOT_FOUND);
    }
    audit::record(
        &mut tx,
        actor,
        "webhook_endpoint.deleted",
        Entity::WebhookEndpoint,
        id,
        before,
        Value::Null,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

struct DeliveryRow {
    id: i64,
    message_id: Uuid,
    topic: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

fn delivery(
    row: DeliveryRow,
    attempt_log: Vec<DeliveryAttempt>,
) -> Result<WebhookDelivery, StoreError> {
    let status = DeliveryStatus::parse(&row.status)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery {} is {}", row.id, row.status)))?;
    Ok(WebhookDelivery {
        id: row.id,
        message_id: row.message_id,
        topic: row.topic,
        status,
        attempts: row.attempts,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
        delivered_at: row.delivered_at,
        last_error: row.last_error,
        created_at: row.created_at,
        attempt_log,
    })
}

/// One page of an endpoint's deliveries, newest first, each with its attempts; and how
/// many there are in all.
pub async fn deliveries(
    db: &PgPool,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WebhookDelivery>, i64), StoreError> {
    endpoint(db, endpoint_id).await?;
    let status = status.map(DeliveryStatus::as_str);
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "total!" FROM webhook_deliveries
            WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2)"#,
        endpoint_id,
        status
    )
    .fetch_one(db)
    .await?;
    let rows = sqlx::query_as!(
        DeliveryRow,
        r#"SELECT d.id, o.message_id, o.topic, d.status, d.attempts, d.next_attempt_at,
                  d.delivered_at, d.last_error, d.created_at
             FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
            WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
            ORDER BY d.id DESC
            LIMIT $3 OFFSET $4"#,
        endpoint_id,
        status,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    Ok((with_attempts(db, rows).await?, total))
}

/// Sends a delivered or dead message again (same id), from its first attempt; audited. A
/// delivery still pending is a conflict: it is on its way already.
pub async fn replay(
    db: &PgPool,
    endpoint_id: Uuid,
    delivery_id: i64,
    actor: Uuid,
) -> Result<WebhookDelivery, StoreError> {
    let mut tx = db.begin().await?;
    let previous = sqlx::query_scalar!(
        "SELECT status FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2 FOR UPDATE",
        delivery_id,
        endpoint_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("delivery"))?;
    if previous == DeliveryStatus::Pending.as_str() {
        return Err(StoreError::conflict(
            "delivery_pending",
            "This delivery is still pending: the relay sends it on its own.",
        ));
    }
    sqlx::query!(
        "UPDATE webhook_deliveries
            SET status = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL,
                delivered_at = NULL, last_error = NULL
          WHERE id = $1",
        delivery_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "webhook_delivery.replayed",
        Entity::WebhookEndpoint,
        endpoint_id,
        serde_json::json!({ "delivery_id": delivery_id, "status": previous }),
        serde_json::json!({ "delivery_id": delivery_id, "status": "pending" }),
    )
    .await?;
    tx.commit().await?;
    let row = sqlx::query_as!(
        DeliveryRow,
        r#"SELECT d.id, o.message_id, o.topic, d.status, d.attempts, d.next_attempt_at,
                  d.delivered_at, d.last_error, d.created_at
             FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
            WHERE d.id = $1 AND d.endpoint_id = $2"#,
        delivery_id,
        endpoint_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound("delivery"))?;
    let mut replayed = with_attempts(db, vec![row]).await?;
    replayed.pop().ok_or(StoreError::NotFound("delivery"))
}

/// The deliveries with their attempts, oldest attempt first.
async fn with_attempts(
    db: &PgPool,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let attempts = sqlx::query!(
        r#"SELECT delivery_id, attempted_at, status_code, latency_ms, response_excerpt, error
             FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY id"#,
        &ids
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let log = attempts
                .iter()
                .filter(|attempt| attempt.delivery_id == row.id)
                .map(|attempt| DeliveryAttempt {
                    attempted_at: attempt.attempted_at,
                    status_code: attempt.status_code,
                    latency_ms: attempt.latency_ms,
                    response_excerpt: attempt.response_excerpt.clone(),
                    error: attempt.error.clone(),
                })
                .collect();
            delivery(row, log)
        })
        .collect()
}

// ---- The relay's side ----

/// An outbox message the relay has locked for fan-out.
pub struct Message {
    pub outbox_id: i64,
    pub message_id: Uuid,
    pub topic: String,
    pub created_at: DateTime<Utc>,
    pub payload: Value,
}

/// Locks up to `limit` messages not yet fanned out, oldest first, skipping those another
/// relay holds; they stay locked until `tx` ends. Empty when another relay is fanning out
/// right now: one relay at a time fans out (it is quick), so each endpoint's deliveries are
/// queued in the order the messages were written, which keeps an order's messages in order
/// across relays; the sending, the slow part, is shared.
pub async fn lock_new_messages(
    tx: &mut Transaction<'_, Postgres>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let fanning_out = sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#,
        FAN_OUT_LOCK
    )
    .fetch_one(&mut **tx)
    .await?;
    if !fanning_out {
        return Ok(Vec::new());
    }
    sqlx::query_as!(
        Message,
        "SELECT id AS outbox_id, message_id, topic, created_at, payload
           FROM outbox WHERE processed_at IS NULL
          ORDER BY id LIMIT $1
          FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(&mut **tx)
    .await
}

/// The advisory lock key of the fan-out (`nexus-re` in ASCII).
const FAN_OUT_LOCK: i64 = 0x6e65_7875_732d_7265;

/// Marks a locked message processed with the body every receiver gets, and queues one
/// delivery for each enabled endpoint that wants its topic; returns how many.
pub async fn fan_out(
    tx: &mut Transaction<'_, Postgres>,
    outbox_id: i64,
    body: &Value,
) -> Result<u64, sqlx::Error> {
    let topic = sqlx::query_scalar!(
        "UPDATE outbox SET body = $2, processed_at = now() WHERE id = $1 RETURNING topic",
        outbox_id,
        body
    )
    .fetch_one(&mut **tx)
    .await?;
    let queued = sqlx::query!(
        "INSERT INTO webhook_deliveries (endpoint_id, outbox_id, ordering_key)
         SELECT e.id, o.id, o.ordering_key
           FROM webhook_endpoints e, outbox o
          WHERE o.id = $1 AND e.disabled_at IS NULL AND $2 = ANY(e.topics)
         ON CONFLICT (endpoint_id, outbox_id) DO NOTHING",
        outbox_id,
        topic
    )
    .execute(&mut **tx)
    .await?;
    Ok(queued.rows_affected())
}

/// A delivery the relay holds the lease of, with what it needs to send it.
pub struct Leased {
    pub delivery_id: i64,
    pub endpoint_id: Uuid,
    /// Attempts so far, this one included.
    pub attempt: i32,
    pub url: String,
    pub secret: String,
    pub message_id: Uuid,
    pub body: Value,
    /// The lease's end: recording the outcome needs it, so a relay whose lease lapsed (and
    /// whose delivery another relay took over) records nothing but its attempt.
    pub leased_until: DateTime<Utc>,
}

/// Leases up to `limit` deliveries that are due, to enabled endpoints, and not waiting
/// behind an earlier message of the same order to the same endpoint.
pub async fn lease_due(
    db: &PgPool,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<Leased>, sqlx::Error> {
    sqlx::query_as!(
        Leased,
        r#"WITH due AS (
               SELECT d.id FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                  AND (d.leased_until IS NULL OR d.leased_until < now())
                  AND e.disabled_at IS NULL
                  AND NOT EXISTS (
                      SELECT 1 FROM webhook_deliveries earlier
                       WHERE earlier.endpoint_id = d.endpoint_id
                         AND earlier.ordering_key = d.ordering_key
                         AND earlier.status = 'pending' AND earlier.outbox_id < d.outbox_id)
                ORDER BY d.next_attempt_at, d.id
                LIMIT $1
                FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_deliveries d
              SET leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
             FROM due, webhook_endpoints e, outbox o
            WHERE d.id = due.id AND e.id = d.endpoint_id AND o.id = d.outbox_id
        RETURNING d.id AS delivery_id, d.endpoint_id, d.attempts AS attempt, e.url, e.secret,
                  o.message_id, o.body AS "body!", d.leased_until AS "leased_until!""#,
        limit,
        lease_secs as f64
    )
    .fetch_all(db)
    .await
}

/// What one attempt got.
pub struct AttemptRecord<'a> {
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: &'a str,
    /// Why the attempt failed; `None` when the receiver answered 2xx.
    pub error: Option<&'a str>,
}

/// What happened to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// To be tried again in this many seconds.
    Retry {
        in_secs: u64,
    },
    /// Given up; the endpoint was disabled too if this was one dead message too many.
    Dead {
        endpoint_disabled: bool,
    },
    /// The lease had lapsed and another relay took the delivery over: only the attempt is
    /// logged.
    LeaseLost,
}

/// Logs an attempt and moves the delivery on: delivered, retried later, or dead (and the
/// endpoint disabled after `disable_after` dead messages in a row).
pub async fn record_attempt(
    db: &PgPool,
    leased: &Leased,
    attempt: &AttemptRecord<'_>,
    retry_in_secs: Option<u64>,
    disable_after: i32,
) -> Result<AfterAttempt, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO webhook_attempts
             (delivery_id, status_code, latency_ms, response_excerpt, error)
         VALUES ($1, $2, $3, $4, $5)",
        leased.delivery_id,
        attempt.status_code,
        attempt.latency_ms,
        attempt.response_excerpt,
        attempt.error
    )
    .execute(&mut *tx)
    .await?;
    let outcome = match (attempt.error, retry_in_secs) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "dead",
    };
    let moved = sqlx::query!(
        "UPDATE webhook_deliveries
            SET status = $3, leased_until = NULL, last_error = $4,
                delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
                next_attempt_at = now() + make_interval(secs => $5)
          WHERE id = $1 AND leased_until = $2 AND status = 'pending'",
        leased.delivery_id,
        leased.leased_until,
        outcome,
        attempt.error,
        retry_in_secs.unwrap_or(0) as f64
    )
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        tx.commit().await?;
        return Ok(AfterAttempt::LeaseLost);
    }
    let after = match (outcome, retry_in_secs) {
        ("delivered", _) => {
            sqlx::query!(
                "UPDATE webhook_endpoints SET dead_in_a_row = 0 WHERE id = $1 AND dead_in_a_row > 0",
                leased.endpoint_id
            )
            .execute(&mut *tx)
            .await?;
            AfterAttempt::Delivered
        }
        ("pending", Some(in_secs)) => AfterAttempt::Retry { in_secs },
        _ => {
            let disabled = sqlx::query_scalar!(
                r#"UPDATE webhook_endpoints
                      SET dead_in_a_row = dead_in_a_row + 1,
                          disabled_at = CASE WHEN dead_in_a_row + 1 >= $2 AND disabled_at IS NULL
                                             THEN now() ELSE disabled_at END,
                          disabled_reason = CASE WHEN dead_in_a_row + 1 >= $2 AND disabled_at IS NULL
                                                 THEN format('disabled by the relay: %s messages in a row failed every attempt', dead_in_a_row + 1)
                                                 ELSE disabled_reason END
                    WHERE id = $1
                RETURNING disabled_at IS NOT NULL AS "disabled!""#,
                leased.endpoint_id,
                disable_after
            )
            .fetch_one(&mut *tx)
            .await?;
            AfterAttempt::Dead {
                endpoint_disabled: disabled,
            }
        }
    };
    tx.commit().await?;
    Ok(after)
}
