//! Customer emails on their way, in PostgreSQL: queued by the relay in the transaction that
//! fans a message out, sent by whoever holds the lease (as webhook deliveries are, so any
//! number of relays share the work and one that dies lets its emails go to another); and
//! support's view of what a customer was sent, with a resend.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::staff::customers::{CustomerEmail, EmailStatus};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::emails::EmailKind;

/// Queues `kind` for `account_id` for a locked outbox message (once: a message fanned out
/// again queues nothing new).
pub async fn queue(
    tx: &mut Transaction<'_, Postgres>,
    outbox_id: i64,
    kind: EmailKind,
    account_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let queued = sqlx::query!(
        "INSERT INTO email_deliveries (outbox_id, kind, account_id)
         SELECT $1, $2, id FROM accounts WHERE id = $3
         ON CONFLICT (outbox_id, kind) DO NOTHING",
        outbox_id,
        kind.as_str(),
        account_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(queued.rows_affected() > 0)
}

/// An email the relay holds the lease of, with what it needs to write and address it.
pub struct LeasedEmail {
    pub delivery_id: i64,
    pub kind: String,
    /// Attempts so far, this one included.
    pub attempt: i32,
    pub message_id: Uuid,
    /// The outbox message's body, as webhook receivers get it.
    pub body: Value,
    pub account_id: Uuid,
    /// Read now, not when the message was written: an erased customer gets nothing, and an
    /// email goes to the address the customer has today.
    pub email: String,
    pub full_name: String,
    pub erased: bool,
    pub marketing_consent: bool,
    pub leased_until: DateTime<Utc>,
}

/// Leases up to `limit` due emails (`SKIP LOCKED`: each goes to one relay at a time).
pub async fn lease_due(
    db: &PgPool,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<LeasedEmail>, sqlx::Error> {
    sqlx::query_as!(
        LeasedEmail,
        r#"WITH due AS (
               SELECT id FROM email_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now()
                  AND (leased_until IS NULL OR leased_until < now())
                ORDER BY next_attempt_at, id
                LIMIT $1
                FOR UPDATE SKIP LOCKED)
           UPDATE email_deliveries d
              SET leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
             FROM due, outbox o, accounts a
            WHERE d.id = due.id AND o.id = d.outbox_id AND a.id = d.account_id
        RETURNING d.id AS delivery_id, d.kind, d.attempts AS attempt, o.message_id,
                  o.body AS "body!", d.account_id, a.email::text AS "email!", a.full_name,
                  a.erased_at IS NOT NULL AS "erased!", a.marketing_consent,
                  d.leased_until AS "leased_until!""#,
        limit,
        lease_secs as f64
    )
    .fetch_all(db)
    .await
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOutcome<'a> {
    Sent,
    /// Not sent, and never will be: why.
    Skipped(&'a str),
    /// Failed; tried again in this many seconds.
    Retry {
        error: &'a str,
        in_secs: u64,
    },
    /// Failed for good (the server refused it permanently, or the last attempt failed).
    Dead(&'a str),
}

/// Records how an attempt went, while the lease is still this relay's; `false` when it had
/// lapsed and another relay took the email over.
pub async fn record_attempt(
    db: &PgPool,
    leased: &LeasedEmail,
    outcome: EmailOutcome<'_>,
) -> Result<bool, sqlx::Error> {
    let (status, error, retry_in) = match outcome {
        EmailOutcome::Sent => ("sent", None, 0),
        EmailOutcome::Skipped(why) => ("skipped", Some(why), 0),
        EmailOutcome::Retry { error, in_secs } => ("pending", Some(error), in_secs),
        EmailOutcome::Dead(error) => ("dead", Some(error), 0),
    };
    // An offer sent is the campaign's email exposure, logged in the same statement so that
    // the two cannot disagree.
    let moved = sqlx::query_scalar!(
        r#"WITH moved AS (
               UPDATE email_deliveries
                  SET status = $3, leased_until = NULL, last_error = $4,
                      sent_at = CASE WHEN $3 = 'sent' THEN now() END,
                      next_attempt_at = now() + make_interval(secs => $5)
                WHERE id = $1 AND leased_until = $2 AND status = 'pending'
            RETURNING outbox_id, kind, account_id),
           exposed AS (
               INSERT INTO campaign_exposures (campaign_id, account_id, channel)
               SELECT e.campaign_id, e.account_id, 'email'
                 FROM moved m
                 JOIN outbox o ON o.id = m.outbox_id
                 JOIN campaign_enrolments e
                   ON e.campaign_id = (o.payload ->> 'campaign_id')::uuid
                  AND e.account_id = m.account_id
                WHERE $3 = 'sent' AND m.kind = $6
               ON CONFLICT DO NOTHING)
           SELECT COUNT(*) AS "moved!" FROM moved"#,
        leased.delivery_id,
        leased.leased_until,
        status,
        error,
        retry_in as f64,
        EmailKind::Offer.as_str(),
    )
    .fetch_one(db)
    .await?;
    Ok(moved == 1)
}

// ---- Support's view ----

struct EmailRow {
    id: i64,
    kind: String,
    message_id: Uuid,
    topic: String,
    order_id: Option<String>,
    status: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
}

impl TryFrom<EmailRow> for CustomerEmail {
    type Error = StoreError;

    fn try_from(row: EmailRow) -> Result<Self, StoreError> {
        let status = EmailStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("email {} is {}", row.id, row.status)))?;
        Ok(Self {
            id: row.id,
            kind: row.kind,
            message_id: row.message_id,
            topic: row.topic,
            order_id: row.order_id.and_then(|id| id.parse().ok()),
            status,
            attempts: row.attempts,
            created_at: row.created_at,
            sent_at: row.sent_at,
            next_attempt_at: (status == EmailStatus::Pending).then_some(row.next_attempt_at),
            last_error: row.last_error,
        })
    }
}

/// A page of the emails to a customer, newest first, and how many there are.
pub async fn for_customer(
    db: &PgPool,
    account_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CustomerEmail>, i64), StoreError> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "total!" FROM email_deliveries WHERE account_id = $1"#,
        account_id
    )
    .fetch_one(db)
    .await?;
    let rows = sqlx::query_as!(
        EmailRow,
        r#"SELECT d.id, d.kind, o.message_id, o.topic, o.ordering_key AS order_id, d.status,
                  d.attempts, d.created_at, d.sent_at, d.next_attempt_at, d.last_error
             FROM email_deliveries d JOIN outbox o ON o.id = d.outbox_id
            WHERE d.account_id = $1
            ORDER BY d.id DESC
            LIMIT $2 OFFSET $3"#,
        account_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    let emails = rows
        .into_iter()
        .map(CustomerEmail::try_from)
        .collect::<Result<_, _>>()?;
    Ok((emails, total))
}

/// Sends a sent, dead or skipped email again, from its first attempt (a customer who lost it;
/// a skipped one is checked again when it is sent: an erased account still gets nothing).
/// Audited. A pending one is a conflict: it is on its way.
pub async fn resend(
    db: &PgPool,
    account_id: Uuid,
    email_id: i64,
    actor: Uuid,
) -> Result<CustomerEmail, StoreError> {
    let mut tx = db.begin().await?;
    let previous = sqlx::query_scalar!(
        "SELECT status FROM email_deliveries WHERE id = $1 AND account_id = $2 FOR UPDATE",
        email_id,
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("email"))?;
    if previous == EmailStatus::Pending.as_str() {
        return Err(StoreError::conflict(
            "email_pending",
            "This email is still pending: the relay sends it on its own.",
        ));
    }
    sqlx::query!(
        "UPDATE email_deliveries
            SET status = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL,
                sent_at = NULL, last_error = NULL
          WHERE id = $1",
        email_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "customer_email.resent",
        Entity::Account,
        account_id,
        serde_json::json!({ "email_id": email_id, "status": previous }),
        serde_json::json!({ "email_id": email_id, "status": "pending" }),
    )
    .await?;
    tx.commit().await?;
    let row = sqlx::query_as!(
        EmailRow,
        r#"SELECT d.id, d.kind, o.message_id, o.topic, o.ordering_key AS order_id, d.status,
                  d.attempts, d.created_at, d.sent_at, d.next_attempt_at, d.last_error
             FROM email_deliveries d JOIN outbox o ON o.id = d.outbox_id
            WHERE d.id = $1"#,
        email_id
    )
    .fetch_one(db)
    .await?;
    row.try_into()
}
