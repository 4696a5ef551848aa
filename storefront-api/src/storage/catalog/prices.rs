//! Variants' prices in other markets' currencies than their product's (`variant_prices`).
//! Reads in one currency go through the `variant_currency_prices` view, which adds each
//! variant's price in its product's own currency; `stock::refresh_rollups` keeps the
//! per-currency listing prices (`product_prices`).

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{
    FieldError,
    catalog::edits::{MarketPrice, PriceChange},
    money::Currency,
};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    stock,
};

/// Sets or removes a variant's price in one currency under its product's lock, with an
/// audit entry; returns the product's id. The product's own currency's price is the
/// variant's `price_minor` and cannot be removed (a variant is always sold in it: archive it
/// to stop selling it). Setting the price it has, or removing one it does not
/// have, changes nothing (and audits nothing).
pub async fn change(
    db: &PgPool,
    variant_id: Uuid,
    change: PriceChange,
    actor_id: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    let product_id = stock::product_of_variant(&mut tx, variant_id).await?;
    stock::lock_product(&mut tx, product_id).await?;
    let own_currency =
        sqlx::query_scalar!("SELECT currency FROM products WHERE id = $1", product_id)
            .fetch_one(&mut *tx)
            .await?;
    let before = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
    let own = change.currency().code() == own_currency;
    let changed = match change {
        PriceChange::Set(price) if own => sqlx::query!(
            r#"UPDATE variants SET price_minor = $2, compare_at_minor = $3, updated_at = now()
                WHERE id = $1
                 AND (price_minor, compare_at_minor) IS DISTINCT FROM ($2, $3)"#,
            variant_id,
            price.price_minor,
            price.compare_at_minor,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        PriceChange::Set(price) => sqlx::query!(
            r#"INSERT INTO variant_prices (variant_id, currency, price_minor, compare_at_minor)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (variant_id, currency) DO UPDATE
                  SET price_minor = EXCLUDED.price_minor,
                      compare_at_minor = EXCLUDED.compare_at_minor
                WHERE (variant_prices.price_minor, variant_prices.compare_at_minor)
                      IS DISTINCT FROM (EXCLUDED.price_minor, EXCLUDED.compare_at_minor)"#,
            variant_id,
            price.currency.code(),
            price.price_minor,
            price.compare_at_minor,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        PriceChange::Remove(_) if own => {
            return Err(StoreError::conflict(
                "own_currency_price",
                format!(
                    "A variant is always sold in its product's currency ({own_currency}): change that price, or archive the variant to stop selling it."
                ),
            ));
        }
        PriceChange::Remove(currency) => sqlx::query!(
            "DELETE FROM variant_prices WHERE variant_id = $1 AND currency = $2",
            variant_id,
            currency.code(),
        )
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if changed > 0 {
        let after = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
        audit::record(
            &mut tx,
            actor_id,
            "variant.price",
            Entity::Variant,
            variant_id,
            before,
            after,
        )
        .await?;
        stock::refresh_rollups(&mut tx, &[product_id]).await?;
    }
    tx.commit().await?;
    Ok(product_id)
}

/// Replaces a variant's prices in other currencies, in the caller's transaction (which
/// locked the product). A price in the product's own currency is refused: that one is the
/// variant's `price_minor`, and a second would make two prices for one currency.
pub(super) async fn replace(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
    product_currency: &str,
    prices: &[MarketPrice],
) -> Result<(), StoreError> {
    if let Some(index) = prices
        .iter()
        .position(|price| price.currency.code() == product_currency)
    {
        return Err(StoreError::Invalid(FieldError::new(
            format!("market_prices[{index}].currency"),
            format!("{product_currency} is the product's own currency: set price_minor instead"),
        )));
    }
    sqlx::query!(
        "DELETE FROM variant_prices WHERE variant_id = $1",
        variant_id
    )
    .execute(&mut **tx)
    .await?;
    let rows: Vec<(Uuid, &MarketPrice)> = prices.iter().map(|p| (variant_id, p)).collect();
    insert(tx, &rows).await
}

/// Adds prices, `(variant, price)`, in one statement; the caller removed any they replace.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    prices: &[(Uuid, &MarketPrice)],
) -> Result<(), StoreError> {
    let variant_ids: Vec<Uuid> = prices.iter().map(|(id, _)| *id).collect();
    let currencies: Vec<&str> = prices.iter().map(|(_, p)| p.currency.code()).collect();
    let amounts: Vec<i64> = prices.iter().map(|(_, p)| p.price_minor).collect();
    let compare_at: Vec<Option<i64>> = prices.iter().map(|(_, p)| p.compare_at_minor).collect();
    sqlx::query!(
        r#"INSERT INTO variant_prices (variant_id, currency, price_minor, compare_at_minor)
           SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int8[])"#,
        &variant_ids,
        &currencies as &[&str],
        &amounts,
        &compare_at as &[Option<i64>],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The prices in other currencies of these variants, by variant and currency code.
pub async fn market_prices(
    db: impl sqlx::PgExecutor<'_>,
    variant_ids: &[Uuid],
) -> Result<Vec<(Uuid, MarketPrice)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT variant_id, currency, price_minor, compare_at_minor FROM variant_prices
            WHERE variant_id = ANY($1) ORDER BY variant_id, currency"#,
        variant_ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.variant_id,
                MarketPrice {
                    currency: Currency::parse(&row.currency).unwrap_or(Currency::NONE),
                    price_minor: row.price_minor,
                    compare_at_minor: row.compare_at_minor,
                },
            )
        })
        .collect())
}
