//! Password resets in PostgreSQL: asked for (with the outbox message that emails the link,
//! in one transaction), then used once before they expire.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::{account::Email, emails::PASSWORD_RESET_TOPIC};

/// Resets one account may ask for within an hour: enough for a lost email or two, too few
/// to flood someone's inbox through the shop.
pub const MAX_PER_HOUR: i64 = 3;

fn link_spent() -> StoreError {
    StoreError::conflict(
        "reset_link_expired",
        "This password-reset link has expired or was used already; ask for a new one.",
    )
}

/// Records a reset for the customer account with `email` and queues its email. Nothing
/// happens — and the caller answers the same — for an unknown, disabled or erased account,
/// or one that asked too often within the hour. Returns whether a reset was recorded.
pub async fn request(db: &PgPool, email: &Email, valid_minutes: i64) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    // The account's row lock queues concurrent requests, so the hourly cap holds.
    let Some(account_id) = sqlx::query_scalar!(
        "SELECT id FROM accounts
          WHERE email = $1::text::citext AND role = 'customer'
            AND disabled_at IS NULL AND erased_at IS NULL
          FOR UPDATE",
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    let recent = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM password_resets
            WHERE account_id = $1 AND created_at > now() - interval '1 hour'"#,
        account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if recent >= MAX_PER_HOUR {
        return Ok(false);
    }
    let reset = sqlx::query!(
        "INSERT INTO password_resets (account_id, expires_at)
         VALUES ($1, now() + make_interval(mins => $2))
         RETURNING id, expires_at",
        account_id,
        i32::try_from(valid_minutes).unwrap_or(i32::MAX)
    )
    .fetch_one(&mut *tx)
    .await?;
    super::outbox::publish(
        &mut tx,
        PASSWORD_RESET_TOPIC,
        serde_json::json!({
            "customer_id": account_id,
            "reset_id": reset.id,
            "expires_at": reset.expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The account a reset still usable belongs to.
pub struct ResetFor {
    pub account_id: Uuid,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// The account of a reset that is unused and unexpired, for an enabled account.
pub async fn usable(db: &PgPool, reset_id: Uuid) -> Result<ResetFor, StoreError> {
    sqlx::query_as!(
        ResetFor,
        r#"SELECT a.id AS account_id, a.email::text AS "email!", r.expires_at
             FROM password_resets r JOIN accounts a ON a.id = r.account_id
            WHERE r.id = $1 AND r.used_at IS NULL AND r.expires_at > now()
              AND a.disabled_at IS NULL AND a.erased_at IS NULL"#,
        reset_id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(link_spent)
}

/// Uses a reset: sets the new password and spends this reset and every other open one of
/// the account, in one transaction (two tabs using one link: one wins, the other gets
/// `reset_link_expired`). Audited. Returns the account.
pub async fn complete(
    db: &PgPool,
    reset_id: Uuid,
    password_hash: &str,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    let account_id = sqlx::query_scalar!(
        "UPDATE password_resets SET used_at = now()
          WHERE id = $1 AND used_at IS NULL AND expires_at > now()
          RETURNING account_id",
        reset_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(link_spent)?;
    let changed = sqlx::query!(
        "UPDATE accounts SET password_hash = $2, updated_at = now()
          WHERE id = $1 AND disabled_at IS NULL AND erased_at IS NULL",
        account_id,
        password_hash
    )
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(link_spent());
    }
    sqlx::query!(
        "UPDATE password_resets SET used_at = now() WHERE account_id = $1 AND used_at IS NULL",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        account_id,
        "account.password_reset",
        Entity::Account,
        account_id,
        serde_json::Value::Null,
        serde_json::Value::Null,
    )
    .await?;
    tx.commit().await?;
    Ok(account_id)
}
