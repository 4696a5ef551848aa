//! Discount codes in PostgreSQL. Whether a code may be used is decided in the order's
//! transaction with the code row locked, so usage limits hold under concurrency.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::staff::discounts::StaffDiscountCode;
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::{
    discounts::NewDiscountCode,
    money::Currency,
    order::{Discount, DiscountCode, DiscountValue},
};

/// A `discount_codes` row.
struct CodeRow {
    id: Uuid,
    code: String,
    /// `percent` or `fixed`.
    kind: String,
    percent_basis_points: Option<i32>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    min_subtotal_minor: i64,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    usage_limit: Option<i32>,
    times_used: i32,
    once_per_customer: bool,
    active: bool,
    created_at: DateTime<Utc>,
    account_id: Option<Uuid>,
}

impl From<CodeRow> for StaffDiscountCode {
    fn from(row: CodeRow) -> Self {
        Self {
            id: row.id,
            code: row.code,
            kind: row.kind,
            percent_basis_points: row.percent_basis_points,
            amount_minor: row.amount_minor,
            currency: row.currency,
            min_subtotal_minor: row.min_subtotal_minor,
            starts_at: row.starts_at,
            expires_at: row.expires_at,
            usage_limit: row.usage_limit,
            times_used: row.times_used,
            once_per_customer: row.once_per_customer,
            active: row.active,
            created_at: row.created_at,
        }
    }
}

impl CodeRow {
    /// The rule the row describes. The table's checks keep rows consistent; a row that is not
    /// (edited by hand) is an error, never a zero discount that would hide it.
    fn rule(&self) -> Result<DiscountCode, StoreError> {
        let corrupt = |what: &str| {
            StoreError::Corrupt(format!("discount code {} ({}): {what}", self.code, self.id))
        };
        let value = match (
            self.kind.as_str(),
            self.percent_basis_points,
            self.amount_minor,
        ) {
            ("percent", Some(bp), _) => DiscountValue::Percent {
                basis_points: u32::try_from(bp).map_err(|_| corrupt("negative percentage"))?,
            },
            ("fixed", _, Some(amount_minor)) => DiscountValue::Fixed { amount_minor },
            ("percent", None, _) => return Err(corrupt("percent code without a percentage")),
            ("fixed", _, None) => return Err(corrupt("fixed code without an amount")),
            (kind, _, _) => return Err(corrupt(&format!("unknown kind {kind:?}"))),
        };
        let currency = match self.currency.as_deref() {
            None => None,
            Some(code) => Some(Currency::parse(code).map_err(|_| corrupt("unknown currency"))?),
        };
        Ok(DiscountCode {
            code: self.code.clone(),
            discount: Discount {
                value,
                min_subtotal_minor: self.min_subtotal_minor,
            },
            currency,
            starts_at: self.starts_at,
            expires_at: self.expires_at,
            usage_limit: self.usage_limit,
            times_used: self.times_used,
            once_per_customer: self.once_per_customer,
            active: self.active,
            account_id: self.account_id,
        })
    }
}

pub async fn create(
    db: &PgPool,
    new: &NewDiscountCode,
    actor_id: Uuid,
) -> Result<StaffDiscountCode, StoreError> {
    let mut tx = db.begin().await?;
    let (kind, percent, amount) = match new.value {
        DiscountValue::Percent { basis_points } => (
            "percent",
            Some(i32::try_from(basis_points).unwrap_or(i32::MAX)),
            None,
        ),
        DiscountValue::Fixed { amount_minor } => ("fixed", None, Some(amount_minor)),
    };
    let created = sqlx::query_as!(
        CodeRow,
        r#"INSERT INTO discount_codes (id, code, kind, percent_basis_points, amount_minor, currency,
                                      min_subtotal_minor, starts_at, expires_at, usage_limit,
                                      once_per_customer)
           VALUES ($1, $2::text::citext, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING id, code::text AS "code!", kind, percent_basis_points, amount_minor,
                     currency, min_subtotal_minor, starts_at, expires_at, usage_limit,
                     times_used, once_per_customer, active, created_at, account_id"#,
        Uuid::now_v7(),
        new.code,
        kind,
        percent,
        amount,
        new.currency.map(|c| c.code()),
        new.min_subtotal_minor,
        new.starts_at,
        new.expires_at,
        new.usage_limit,
        new.once_per_customer,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[("discount_codes_code_key", || {
                StoreError::conflict("code_taken", "A discount code with this code exists.")
            })],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::DiscountCode, created.id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "discount_code.create",
        Entity::DiscountCode,
        created.id,
        serde_json::Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(created.into())
}

/// The shop's codes; campaigns' personal codes (thousands of them) are read per campaign.
pub async fn list(db: &PgPool) -> Result<Vec<StaffDiscountCode>, StoreError> {
    Ok(sqlx::query_as!(
        CodeRow,
        r#"SELECT id, code::text AS "code!", kind, percent_basis_points, amount_minor, currency,
                  min_subtotal_minor, starts_at, expires_at, usage_limit, times_used,
                  once_per_customer, active, created_at, account_id
             FROM discount_codes WHERE account_id IS NULL ORDER BY created_at DESC"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(StaffDiscountCode::from)
    .collect())
}

pub async fn set_active(
    db: &PgPool,
    id: Uuid,
    active: bool,
    actor_id: Uuid,
) -> Result<StaffDiscountCode, StoreError> {
    let mut tx = db.begin().await?;
    let before = audit::snapshot(&mut tx, Entity::DiscountCode, id).await?;
    let updated = sqlx::query_as!(
        CodeRow,
        r#"UPDATE discount_codes SET active = $2 WHERE id = $1
           RETURNING id, code::text AS "code!", kind, percent_basis_points, amount_minor,
                     currency, min_subtotal_minor, starts_at, expires_at, usage_limit,
                     times_used, once_per_customer, active, created_at, account_id"#,
        id,
        active
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("discount code"))?;
    let after = audit::snapshot(&mut tx, Entity::DiscountCode, id).await?;
    let action = if active {
        "discount_code.activate"
    } else {
        "discount_code.deactivate"
    };
    audit::record(
        &mut tx,
        actor_id,
        action,
        Entity::DiscountCode,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(updated.into())
}

/// A code by its text (case-insensitive) with whether this customer already used it.
pub async fn find(
    db: &PgPool,
    code: &str,
    account_id: Option<Uuid>,
) -> Result<Option<(Uuid, DiscountCode, bool)>, StoreError> {
    let Some(view) = sqlx::query_as!(
        CodeRow,
        r#"SELECT id, code::text AS "code!", kind, percent_basis_points, amount_minor, currency,
                  min_subtotal_minor, starts_at, expires_at, usage_limit, times_used,
                  once_per_customer, active, created_at, account_id
             FROM discount_codes WHERE code = $1::text::citext"#,
        code
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let used = match account_id {
        Some(account_id) => used_by(db, view.id, account_id).await?,
        None => false,
    };
    Ok(Some((view.id, view.rule()?, used)))
}

async fn used_by(
    db: impl sqlx::PgExecutor<'_>,
    code_id: Uuid,
    account_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM discount_redemptions
                           WHERE discount_code_id = $1 AND account_id = $2) AS "used!""#,
        code_id,
        account_id
    )
    .fetch_one(db)
    .await
}

/// Redeems a code for an order inside its transaction: locks the code, checks it again
/// (limits may have been reached since the quote) and counts the use.
pub async fn redeem(
    tx: &mut Transaction<'_, Postgres>,
    code_id: Uuid,
    account_id: Uuid,
    order_id: Uuid,
    currency: Currency,
) -> Result<Result<(), crate::domain::order::DiscountRejection>, StoreError> {
    let view = sqlx::query_as!(
        CodeRow,
        r#"SELECT id, code::text AS "code!", kind, percent_basis_points, amount_minor, currency,
                  min_subtotal_minor, starts_at, expires_at, usage_limit, times_used,
                  once_per_customer, active, created_at, account_id
             FROM discount_codes WHERE id = $1 FOR UPDATE"#,
        code_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let used = used_by(&mut **tx, code_id, account_id).await?;
    if let Err(rejection) = view
        .rule()?
        .check(Utc::now(), currency, Some(account_id), used)
    {
        return Ok(Err(rejection));
    }
    sqlx::query!(
        "UPDATE discount_codes SET times_used = times_used + 1 WHERE id = $1",
        code_id
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "INSERT INTO discount_redemptions (order_id, discount_code_id, account_id) VALUES ($1, $2, $3)",
        order_id,
        code_id,
        account_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(Ok(()))
}

/// Gives a code's use back when its order is cancelled before payment.
pub async fn release(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<(), sqlx::Error> {
    let released = sqlx::query_scalar!(
        "DELETE FROM discount_redemptions WHERE order_id = $1 RETURNING discount_code_id",
        order_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(code_id) = released {
        sqlx::query!(
            "UPDATE discount_codes SET times_used = times_used - 1 WHERE id = $1",
            code_id
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
