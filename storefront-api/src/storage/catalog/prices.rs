//! Variants' prices in other markets' currencies than their product's (`variant_prices`).
//! Reads in one currency go through the `variant_currency_prices` view, which adds each
//! variant's price in its product's own currency; `stock::refresh_rollups` keeps the
//! per-currency listing prices (`product_prices`).

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{FieldError, catalog::edits::MarketPrice, money::Currency};
use crate::storage::StoreError;

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
    let currencies: Vec<&str> = prices.iter().map(|price| price.currency.code()).collect();
    let amounts: Vec<i64> = prices.iter().map(|price| price.price_minor).collect();
    let compare_at: Vec<Option<i64>> = prices.iter().map(|price| price.compare_at_minor).collect();
    sqlx::query!(
        r#"INSERT INTO variant_prices (variant_id, currency, price_minor, compare_at_minor)
           SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[])"#,
        variant_id,
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
    db: &PgPool,
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
