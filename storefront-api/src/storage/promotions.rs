//! Promotions in PostgreSQL: staff's list, creation and pausing (audited); the promotions
//! running now for a currency, as carts are priced with them; and their budgets, spent only
//! in the order's transaction by a conditional update of the promotion's row, so concurrent
//! checkouts cannot spend more than the budget, and given back when an unpaid order is
//! cancelled.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::promotions::{AppliedPromotion, OrderPromotion};
use storefront_client::staff::promotions::{PromotionRule, PromotionScope, StaffPromotion};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::{
    money::Currency,
    promotions::{NewPromotion, Promotion},
};

/// A `promotions` row.
struct PromotionRow {
    id: Uuid,
    title: String,
    rule: serde_json::Value,
    scope: serde_json::Value,
    currency: String,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    combines: bool,
    budget_uses: Option<i32>,
    budget_minor: Option<i64>,
    segment_id: Option<Uuid>,
    used_uses: i32,
    used_minor: i64,
    active: bool,
    created_at: DateTime<Utc>,
}

impl PromotionRow {
    fn parts(&self) -> Result<(PromotionRule, PromotionScope, Currency), StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("promotion {}: {what}", self.id));
        let rule = serde_json::from_value(self.rule.clone())
            .map_err(|error| corrupt(format!("rule: {error}")))?;
        let scope = serde_json::from_value(self.scope.clone())
            .map_err(|error| corrupt(format!("scope: {error}")))?;
        let currency =
            Currency::parse(&self.currency).map_err(|_| corrupt("unknown currency".into()))?;
        Ok((rule, scope, currency))
    }

    fn promotion(self) -> Result<Promotion, StoreError> {
        let (rule, scope, currency) = self.parts()?;
        Ok(Promotion {
            id: self.id,
            title: self.title,
            rule,
            scope,
            currency,
            combines: self.combines,
            segment_id: self.segment_id,
            budget_left_minor: self
                .budget_minor
                .map(|budget| (budget - self.used_minor).max(0)),
        })
    }

    fn staff(self) -> Result<StaffPromotion, StoreError> {
        let (rule, scope, currency) = self.parts()?;
        Ok(StaffPromotion {
            id: self.id,
            title: self.title,
            rule,
            scope,
            currency: currency.code().to_owned(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            combines: self.combines,
            budget_uses: self.budget_uses,
            budget_minor: self.budget_minor,
            segment_id: self.segment_id,
            used_uses: self.used_uses,
            used_minor: self.used_minor,
            active: self.active,
            created_at: self.created_at,
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("promotion rules and scopes serialise")
}

/// Writes a new promotion. Products and categories of its scope must exist: a 422 names
/// the first that does not.
pub async fn create(
    db: &PgPool,
    new: &NewPromotion,
    actor_id: Uuid,
) -> Result<StaffPromotion, StoreError> {
    let mut tx = db.begin().await?;
    let (field, missing) = match &new.scope {
        PromotionScope::All => ("", None),
        PromotionScope::Products { product_ids } => (
            "scope.product_ids",
            sqlx::query_scalar!(
                "SELECT wanted.id FROM unnest($1::uuid[]) AS wanted(id)
                  WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = wanted.id) LIMIT 1",
                product_ids
            )
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
        ),
        PromotionScope::Categories { category_ids } => (
            "scope.category_ids",
            sqlx::query_scalar!(
                "SELECT wanted.id FROM unnest($1::uuid[]) AS wanted(id)
                  WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.id = wanted.id) LIMIT 1",
                category_ids
            )
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
        ),
    };
    if let Some(missing) = missing {
        return Err(StoreError::Invalid(crate::domain::FieldError::new(
            field,
            format!("there is no {missing}"),
        )));
    }
    let created = sqlx::query_as!(
        PromotionRow,
        r#"INSERT INTO promotions (id, title, rule, scope, currency, starts_at, ends_at, combines,
                                  budget_uses, budget_minor, segment_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING id, title, rule, scope, currency, starts_at, ends_at, combines, budget_uses,
                     budget_minor, segment_id, used_uses, used_minor, active, created_at"#,
        Uuid::now_v7(),
        new.title,
        json(&new.rule),
        json(&new.scope),
        new.currency.code(),
        new.starts_at,
        new.ends_at,
        new.combines,
        new.budget_uses,
        new.budget_minor,
        new.segment_id,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[("promotions_segment_id_fkey", || {
                StoreError::Invalid(crate::domain::FieldError::new(
                    "segment_id",
                    "there is no such segment",
                ))
            })],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Promotion, created.id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "promotion.create",
        Entity::Promotion,
        created.id,
        serde_json::Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    created.staff()
}

/// Every promotion, newest first.
pub async fn list(db: &PgPool) -> Result<Vec<StaffPromotion>, StoreError> {
    sqlx::query_as!(
        PromotionRow,
        r#"SELECT id, title, rule, scope, currency, starts_at, ends_at, combines, budget_uses,
                  budget_minor, segment_id, used_uses, used_minor, active, created_at
             FROM promotions ORDER BY created_at DESC"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(PromotionRow::staff)
    .collect()
}

/// Pauses or resumes a promotion.
pub async fn set_active(
    db: &PgPool,
    id: Uuid,
    active: bool,
    actor_id: Uuid,
) -> Result<StaffPromotion, StoreError> {
    let mut tx = db.begin().await?;
    let before = audit::snapshot(&mut tx, Entity::Promotion, id).await?;
    let updated = sqlx::query_as!(
        PromotionRow,
        r#"UPDATE promotions SET active = $2 WHERE id = $1
           RETURNING id, title, rule, scope, currency, starts_at, ends_at, combines, budget_uses,
                     budget_minor, segment_id, used_uses, used_minor, active, created_at"#,
        id,
        active
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("promotion"))?;
    let after = audit::snapshot(&mut tx, Entity::Promotion, id).await?;
    let action = if active {
        "promotion.resume"
    } else {
        "promotion.pause"
    };
    audit::record(
        &mut tx,
        actor_id,
        action,
        Entity::Promotion,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    updated.staff()
}

/// The promotions running now for carts in `currency`, oldest first: active, within their
/// window, with budget left (whether enough is left for one more order is decided when it is
/// placed).
pub async fn running(
    db: &PgPool,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<Vec<Promotion>, StoreError> {
    sqlx::query_as!(
        PromotionRow,
        r#"SELECT id, title, rule, scope, currency, starts_at, ends_at, combines, budget_uses,
                  budget_minor, segment_id, used_uses, used_minor, active, created_at
             FROM promotions
            WHERE active AND currency = $1
              AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR $2 < ends_at)
              AND (budget_uses IS NULL OR used_uses < budget_uses)
              AND (budget_minor IS NULL OR used_minor < budget_minor)
            ORDER BY created_at, id"#,
        currency.code(),
        now
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(PromotionRow::promotion)
    .collect()
}

/// Spends the promotions' budgets for an order in its transaction, one promotion row at a
/// time in id order (so two orders never wait on each other's rows). Each spend is one
/// conditional update: while another order holds the row, this one waits and then checks the
/// budget as that order left it. The first promotion that no longer runs or has not enough
/// left comes back as `Err(title)`; the caller rolls the order back.
pub async fn redeem(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    applied: &[AppliedPromotion],
) -> Result<Result<(), String>, StoreError> {
    let mut applied: Vec<&AppliedPromotion> = applied.iter().collect();
    applied.sort_by_key(|promotion| promotion.promotion_id);
    for promotion in applied {
        let amount = promotion.discount_minor + promotion.shipping_discount_minor;
        let spent = sqlx::query_scalar!(
            r#"UPDATE promotions SET used_uses = used_uses + 1, used_minor = used_minor + $2
                WHERE id = $1 AND active
                  AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR now() < ends_at)
                  AND (budget_uses IS NULL OR used_uses + 1 <= budget_uses)
                  AND (budget_minor IS NULL OR used_minor + $2 <= budget_minor)
               RETURNING id"#,
            promotion.promotion_id,
            amount
        )
        .fetch_optional(&mut **tx)
        .await?;
        if spent.is_none() {
            return Ok(Err(promotion.title.clone()));
        }
        sqlx::query!(
            r#"INSERT INTO promotion_redemptions (order_id, promotion_id, title, discount_minor,
                                                 shipping_discount_minor)
               VALUES ($1, $2, $3, $4, $5)"#,
            order_id,
            promotion.promotion_id,
            promotion.title,
            promotion.discount_minor,
            promotion.shipping_discount_minor
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(Ok(()))
}

/// Gives an unpaid order's promotions back to their budgets when it is cancelled (once: a
/// released redemption stays released).
pub async fn release(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<(), sqlx::Error> {
    // The rows in id order first, as `redeem` takes them: a cancellation and a checkout
    // never wait on each other's promotions.
    sqlx::query!(
        r#"SELECT p.id FROM promotions p
            WHERE p.id IN (SELECT promotion_id FROM promotion_redemptions
                            WHERE order_id = $1 AND released_at IS NULL)
            ORDER BY p.id FOR UPDATE"#,
        order_id
    )
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query!(
        r#"WITH released AS (
               UPDATE promotion_redemptions SET released_at = now()
                WHERE order_id = $1 AND released_at IS NULL
               RETURNING promotion_id, discount_minor + shipping_discount_minor AS amount)
           UPDATE promotions p SET used_uses = p.used_uses - 1, used_minor = p.used_minor - r.amount
             FROM released r WHERE p.id = r.promotion_id"#,
        order_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The promotions an order was given.
pub async fn of_order(db: &PgPool, order_id: Uuid) -> Result<Vec<OrderPromotion>, StoreError> {
    Ok(sqlx::query!(
        r#"SELECT promotion_id, title, discount_minor, shipping_discount_minor
             FROM promotion_redemptions WHERE order_id = $1 ORDER BY created_at, promotion_id"#,
        order_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| OrderPromotion {
        promotion_id: row.promotion_id,
        title: row.title,
        discount_minor: row.discount_minor,
        shipping_discount_minor: row.shipping_discount_minor,
    })
    .collect())
}
