//! Whether a customer wants marketing emails, in PostgreSQL: the current answer on the
//! account, and every change with where it was made (the shop can show when and how consent
//! was given or withdrawn).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::StoreError;

/// Where a customer changed their mind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    AccountPage,
    UnsubscribeLink,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::AccountPage => "account_page",
            Self::UnsubscribeLink => "unsubscribe_link",
        }
    }
}

/// A customer's answer now.
pub struct Consent {
    pub subscribed: bool,
    pub changed_at: Option<DateTime<Utc>>,
}

impl From<Consent> for storefront_client::account::MarketingConsent {
    fn from(consent: Consent) -> Self {
        Self {
            subscribed: consent.subscribed,
            changed_at: consent.changed_at,
        }
    }
}

pub async fn consent(db: &PgPool, account_id: Uuid) -> Result<Consent, StoreError> {
    sqlx::query_as!(
        Consent,
        r#"SELECT marketing_consent AS subscribed, marketing_consent_changed_at AS changed_at
             FROM accounts WHERE id = $1 AND erased_at IS NULL"#,
        account_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound("account"))
}

/// Records the customer's answer (a change only when it differs: unsubscribing twice keeps
/// the first time).
pub async fn set(
    db: &PgPool,
    account_id: Uuid,
    subscribed: bool,
    source: Source,
) -> Result<Consent, StoreError> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query_scalar!(
        "UPDATE accounts
            SET marketing_consent = $2, marketing_consent_changed_at = now(), updated_at = now()
          WHERE id = $1 AND erased_at IS NULL AND marketing_consent <> $2
          RETURNING id",
        account_id,
        subscribed
    )
    .fetch_optional(&mut *tx)
    .await?;
    if changed.is_some() {
        sqlx::query!(
            "INSERT INTO marketing_consent_changes (account_id, consent, source)
             VALUES ($1, $2, $3)",
            account_id,
            subscribed,
            source.as_str()
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    consent(db, account_id).await
}
