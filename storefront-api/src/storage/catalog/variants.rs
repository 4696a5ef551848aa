//! Variants: the staff's changes (each a stock-locked write through `stock`) and what a
//! cart needs to know of its variants.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::sku_taken;
use crate::domain::{
    FieldError,
    catalog::{
        ProductStatus, Sku, StockReason, VariantStatus,
        edits::{NewVariant, VariantChanges},
    },
    money::Currency,
};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    stock,
};

/// Adds a variant; its initial stock is the first ledger row.
pub async fn create_variant(
    db: &PgPool,
    product_id: Uuid,
    new: &NewVariant,
    actor_id: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    stock::lock_product(&mut tx, product_id).await?;
    let variant_id = sqlx::query_scalar!(
        r#"INSERT INTO variants (id, product_id, sku, title, options, price_minor,
                                 compare_at_minor, stock_on_hand, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"#,
        Uuid::now_v7(),
        product_id,
        new.sku.as_str(),
        new.title,
        new.options,
        new.price_minor,
        new.compare_at_minor,
        new.initial_stock,
        new.position,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("variants_sku_key", sku_taken)]))?;
    if !new.market_prices.is_empty() {
        let currency =
            sqlx::query_scalar!("SELECT currency FROM products WHERE id = $1", product_id)
                .fetch_one(&mut *tx)
                .await?;
        super::prices::replace(&mut tx, variant_id, &currency, &new.market_prices).await?;
    }
    if new.initial_stock != 0 {
        stock::record(
            &mut tx,
            &stock::Movement {
                variant_id,
                delta: new.initial_stock,
                reason: StockReason::Initial,
                note: None,
                stock_after: new.initial_stock,
                order_id: None,
                actor_id: Some(actor_id),
            },
        )
        .await?;
    }
    let after = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "variant.create",
        Entity::Variant,
        variant_id,
        Value::Null,
        after,
    )
    .await?;
    stock::refresh_rollups(&mut tx, &[product_id]).await?;
    tx.commit().await?;
    Ok(variant_id)
}

/// Updates a variant; returns its product id. Archiving the last active variant of an active
/// product is refused, so shoppers never see a product they cannot buy.
pub async fn update_variant(
    db: &PgPool,
    variant_id: Uuid,
    changes: &VariantChanges,
    actor_id: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    let product_id = stock::product_of_variant(&mut tx, variant_id).await?;
    stock::lock_product(&mut tx, product_id).await?;
    let before = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
    let current = sqlx::query!(
        r#"SELECT v.product_id, v.price_minor, v.compare_at_minor, p.currency,
                  p.status AS "product_status: ProductStatus"
             FROM variants v JOIN products p ON p.id = v.product_id
            WHERE v.id = $1 FOR UPDATE OF v"#,
        variant_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("variant"))?;
    let price = changes.price_minor.unwrap_or(current.price_minor);
    let compare_at = changes.compare_at_minor.unwrap_or(current.compare_at_minor);
    crate::domain::catalog::check_compare_at(price, compare_at)
        .map_err(|message| StoreError::Invalid(FieldError::new("compare_at_minor", message)))?;
    sqlx::query!(
        r#"UPDATE variants SET
               sku = COALESCE($2, sku),
               title = COALESCE($3, title),
               options = COALESCE($4, options),
               price_minor = $5,
               compare_at_minor = $6,
               position = COALESCE($7, position),
               status = COALESCE($8, status),
               updated_at = now()
           WHERE id = $1"#,
        variant_id,
        changes.sku.as_ref().map(Sku::as_str),
        changes.title,
        changes.options,
        price,
        compare_at,
        changes.position,
        changes.status as Option<VariantStatus>,
    )
    .execute(&mut *tx)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("variants_sku_key", sku_taken)]))?;
    if let Some(prices) = &changes.market_prices {
        super::prices::replace(&mut tx, variant_id, &current.currency, prices).await?;
    }
    if current.product_status == ProductStatus::Active {
        let remaining = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM variants WHERE product_id = $1 AND status = 'active'"#,
            current.product_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if remaining == 0 {
            return Err(StoreError::conflict(
                "last_active_variant",
                "This is the last active variant of an active product; archive the product instead.",
            ));
        }
    }
    let after = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "variant.update",
        Entity::Variant,
        variant_id,
        before,
        after,
    )
    .await?;
    stock::refresh_rollups(&mut tx, &[current.product_id]).await?;
    tx.commit().await?;
    Ok(current.product_id)
}

/// The catalog facts a cart needs about its variants, whatever their status, with their
/// prices in `currency` (none where a variant is not sold in it).
pub async fn cart_variants(
    db: &PgPool,
    variant_ids: &[Uuid],
    currency: Currency,
) -> Result<Vec<crate::domain::cart::CatalogVariant>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT v.id, v.sku, v.title, v.options, vp.price_minor AS "price_minor?",
                  vp.compare_at_minor AS "compare_at_minor?",
                  v.stock_on_hand, v.status AS "variant_status: VariantStatus",
                  p.id AS product_id, p.slug, p.name, p.status AS "product_status: ProductStatus",
                  p.image_urls[1] AS image_url,
                  (WITH RECURSIVE up AS (
                       SELECT c.id, c.parent_id FROM categories c WHERE c.id = p.category_id
                       UNION ALL
                       SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id)
                   SELECT array_agg(id) FROM up) AS "categories!"
             FROM variants v JOIN products p ON p.id = v.product_id
             LEFT JOIN variant_currency_prices vp ON vp.variant_id = v.id AND vp.currency = $2
            WHERE v.id = ANY($1)"#,
        variant_ids,
        currency.code(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| crate::domain::cart::CatalogVariant {
            variant_id: row.id,
            sku: row.sku,
            title: row.title,
            options: row.options,
            price_minor: row.price_minor,
            compare_at_minor: row.compare_at_minor,
            stock_on_hand: row.stock_on_hand,
            variant_status: row.variant_status,
            product_id: row.product_id,
            product_slug: row.slug,
            product_name: row.name,
            product_status: row.product_status,
            currency,
            image_url: row.image_url,
            categories: row.categories,
        })
        .collect())
}
