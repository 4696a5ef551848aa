//! Products: reads for shoppers and staff, the staff's changes, the search lexicon and the
//! rating totals.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{breadcrumbs, slug_taken, unknown_category};
use crate::domain::{
    catalog::{
        ProductStatus, Slug, VariantStatus,
        edits::{NewProduct, ProductChanges},
        views::{CategoryRef, MarketPriceView, Product, Rating, Variant},
    },
    money::{Currency, Money},
};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    money, stock,
};

/// Which products a read may see, and in which currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Shoppers of a market: active products and their active variants priced in its
    /// currency, only.
    Public(Currency),
    /// Staff: everything, archived included, in the product's currency with the variants'
    /// prices in other currencies beside.
    Staff,
}

impl Audience {
    fn is_public(self) -> bool {
        matches!(self, Self::Public(_))
    }

    fn currency(self) -> Option<&'static str> {
        match self {
            Self::Public(currency) => Some(currency.code()),
            Self::Staff => None,
        }
    }
}

pub enum ProductKey<'a> {
    Slug(&'a str),
    Id(Uuid),
}

pub async fn product(
    db: &PgPool,
    key: ProductKey<'_>,
    audience: Audience,
) -> Result<Option<Product>, StoreError> {
    let (slug, id) = match key {
        ProductKey::Slug(slug) => (Some(slug), None),
        ProductKey::Id(id) => (None, Some(id)),
    };
    // Shoppers see a product only where it is sold: in a currency some active variant of
    // it has a price in.
    let Some(row) = sqlx::query!(
        r#"SELECT p.id, p.slug, p.name, p.description, p.status AS "status: ProductStatus",
                  COALESCE($4, p.currency) AS "currency!", pp.price_from_minor AS "price_from_minor?",
                  COALESCE(pp.in_stock, false) AS "in_stock!", p.image_urls, p.created_at,
                  p.updated_at, p.rating_count, p.rating_sum, c.id AS category_id, c.slug AS category_slug,
                  c.name AS category_name
             FROM products p JOIN categories c ON c.id = p.category_id
             LEFT JOIN product_prices pp
                    ON pp.product_id = p.id AND pp.currency = COALESCE($4, p.currency)
            WHERE ($1::text IS NULL OR p.slug = $1) AND ($2::uuid IS NULL OR p.id = $2)
              AND (NOT $3::bool OR (p.status = 'active' AND pp.price_from_minor IS NOT NULL))"#,
        slug,
        id,
        audience.is_public(),
        audience.currency(),
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    // Shoppers get the active variants priced in their currency; staff every variant, in the
    // product's currency.
    let rows = sqlx::query!(
        r#"SELECT v.id, v.sku, v.title, v.options, vp.price_minor AS "price_minor!",
                  vp.compare_at_minor, v.stock_on_hand, v.status AS "status: VariantStatus"
             FROM variants v
             JOIN variant_currency_prices vp ON vp.variant_id = v.id AND vp.currency = $3
            WHERE v.product_id = $1 AND (NOT $2::bool OR v.status = 'active')
            ORDER BY v.position, v.created_at"#,
        row.id,
        audience.is_public(),
        row.currency,
    )
    .fetch_all(db)
    .await?;
    let mut elsewhere = match audience {
        Audience::Staff => {
            let ids: Vec<Uuid> = rows.iter().map(|v| v.id).collect();
            super::prices::market_prices(db, &ids).await?
        }
        Audience::Public(_) => Vec::new(),
    };
    let variants = rows
        .into_iter()
        .map(|v| Variant {
            id: v.id,
            sku: v.sku,
            title: v.title,
            options: v.options,
            price: money(v.price_minor, &row.currency),
            compare_at_price: v.compare_at_minor.map(|m| money(m, &row.currency)),
            stock_on_hand: v.stock_on_hand,
            in_stock: v.stock_on_hand > 0,
            status: v.status,
            market_prices: elsewhere
                .extract_if(.., |(variant_id, _)| *variant_id == v.id)
                .map(|(_, price)| MarketPriceView {
                    price: Money::new(price.price_minor, price.currency),
                    compare_at_price: price
                        .compare_at_minor
                        .map(|m| Money::new(m, price.currency)),
                })
                .collect(),
        })
        .collect();
    Ok(Some(Product {
        id: row.id,
        slug: row.slug,
        name: row.name,
        description: row.description,
        status: row.status,
        category: CategoryRef {
            id: row.category_id,
            slug: row.category_slug,
            name: row.category_name,
        },
        breadcrumbs: breadcrumbs(db, row.category_id).await?,
        price_from: row.price_from_minor.map(|m| money(m, &row.currency)),
        currency: row.currency,
        in_stock: row.in_stock,
        rating: Rating::from_totals(row.rating_count, row.rating_sum),
        image_urls: row.image_urls,
        variants,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }))
}

/// Rebuilds the search lexicon from the active catalog. Called after writes that change what
/// shoppers can find (names, descriptions, status); it takes milliseconds at catalog sizes
/// of thousands of products.
pub async fn refresh_search_lexicon(db: &PgPool) -> Result<(), StoreError> {
    sqlx::query!("REFRESH MATERIALIZED VIEW CONCURRENTLY search_lexicon")
        .execute(db)
        .await?;
    Ok(())
}

pub async fn create_product(
    db: &PgPool,
    new: &NewProduct,
    actor_id: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO products (id, slug, name, description, category_id, currency, image_urls)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"#,
        Uuid::now_v7(),
        new.slug.as_str(),
        new.name,
        new.description,
        new.category_id,
        new.currency.code(),
        &new.image_urls,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("products_slug_key", slug_taken),
                ("products_category_id_fkey", unknown_category),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Product, id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "product.create",
        Entity::Product,
        id,
        Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_product(
    db: &PgPool,
    id: Uuid,
    changes: &ProductChanges,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    stock::lock_product(&mut tx, id).await?;
    let before = audit::snapshot(&mut tx, Entity::Product, id).await?;
    // A new statement after the lock: it sees every variant write committed before it.
    let active_variants = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM variants WHERE product_id = $1 AND status = 'active'"#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if changes.status == Some(ProductStatus::Active) && active_variants == 0 {
        return Err(StoreError::conflict(
            "product_has_no_variants",
            "A product needs at least one active variant before it can be activated.",
        ));
    }
    sqlx::query!(
        r#"UPDATE products SET
               slug = COALESCE($2, slug),
               name = COALESCE($3, name),
               description = COALESCE($4, description),
               category_id = COALESCE($5, category_id),
               image_urls = COALESCE($6, image_urls),
               status = COALESCE($7, status),
               updated_at = now()
           WHERE id = $1"#,
        id,
        changes.slug.as_ref().map(Slug::as_str),
        changes.name,
        changes.description,
        changes.category_id,
        changes.image_urls.as_deref(),
        changes.status as Option<ProductStatus>,
    )
    .execute(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("products_slug_key", slug_taken),
                ("products_category_id_fkey", unknown_category),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Product, id).await?;
    let action = if changes.status == Some(ProductStatus::Archived) {
        "product.archive"
    } else {
        "product.update"
    };
    audit::record(
        &mut tx,
        actor_id,
        action,
        Entity::Product,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    // Only typo corrections read the lexicon: a failed refresh must not fail a committed write.
    if let Err(error) = refresh_search_lexicon(db).await {
        tracing::warn!(%error, "search lexicon not refreshed");
    }
    Ok(())
}

/// Stores a product's rating totals (recomputed from the reviews by the caller).
pub async fn set_rating(
    db: &PgPool,
    product_id: Uuid,
    count: i32,
    sum: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE products SET rating_count = $2, rating_sum = $3 WHERE id = $1",
        product_id,
        count,
        sum
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the customer has received (had delivered) an order containing the product.
pub async fn customer_received(
    db: &PgPool,
    account_id: Uuid,
    product_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id
                           WHERE o.account_id = $1 AND l.product_id = $2
                             AND o.delivered_at IS NOT NULL) AS "received!""#,
        account_id,
        product_id
    )
    .fetch_one(db)
    .await?)
}

/// The id of a product shoppers can see, by slug.
pub async fn public_product_id(db: &PgPool, slug: &str) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM products WHERE slug = $1 AND status = 'active'",
        slug
    )
    .fetch_optional(db)
    .await?)
}
