//! Catalog and stock in PostgreSQL: categories, products, variants and the stock ledger.
//!
//! Invariants kept here: `products.price_from_minor` and `products.in_stock` are refreshed in
//! the same transaction as every variant write, and every change of `stock_on_hand` writes one
//! `stock_movements` row, so the ledger of a variant always sums to its stock on hand.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
    money,
};
use crate::domain::{
    FieldError,
    catalog::{
        ProductStatus, StockReason, VariantStatus,
        views::{
            CategoryNode, CategoryRef, Product, ProductSummary, Rating, StockMovement, Variant,
        },
    },
    money::Currency,
};
use serde_json::Value;

/// How a product listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    Newest,
    PriceAsc,
    PriceDesc,
}

impl ProductSort {
    fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
        }
    }
}

/// Filters of the public product listing.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Category ids to include (a category and its descendants); `None` means all.
    pub category_ids: Option<Vec<Uuid>>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    pub in_stock_only: bool,
}

/// Position in a listing: the sort key and id of the last product of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListPosition {
    pub key: i64,
    pub id: Uuid,
}

struct SummaryRow {
    id: Uuid,
    slug: String,
    name: String,
    status: ProductStatus,
    currency: String,
    price_from_minor: Option<i64>,
    compare_at_minor: Option<i64>,
    rating_count: i32,
    rating_sum: i64,
    in_stock: bool,
    image_url: Option<String>,
    created_at: DateTime<Utc>,
    category_id: Uuid,
    category_slug: String,
    category_name: String,
}

/// Builds a [`SummaryRow`] from any query record with the listing columns.
macro_rules! summary_row {
    ($row:expr) => {
        SummaryRow {
            id: $row.id,
            slug: $row.slug,
            name: $row.name,
            status: $row.status,
            currency: $row.currency,
            price_from_minor: $row.price_from_minor.into(),
            compare_at_minor: $row.compare_at_minor,
            in_stock: $row.in_stock,
            image_url: $row.image_url,
            rating_count: $row.rating_count,
            rating_sum: $row.rating_sum,
            created_at: $row.created_at,
            category_id: $row.category_id,
            category_slug: $row.category_slug,
            category_name: $row.category_name,
        }
    };
}

impl From<SummaryRow> for ProductSummary {
    fn from(row: SummaryRow) -> Self {
        Self {
            id: row.id,
            slug: row.slug,
            name: row.name,
            status: row.status,
            category: CategoryRef {
                id: row.category_id,
                slug: row.category_slug,
                name: row.category_name,
            },
            price_from: row.price_from_minor.map(|m| money(m, &row.currency)),
            compare_at_from: row.compare_at_minor.map(|m| money(m, &row.currency)),
            in_stock: row.in_stock,
            rating: Rating::from_totals(row.rating_count, row.rating_sum),
            image_url: row.image_url,
            created_at: row.created_at,
        }
    }
}

/// The ids of a category and all its descendants, or `None` if the slug is unknown.
pub async fn category_subtree(db: &PgPool, slug: &str) -> Result<Option<Vec<Uuid>>, StoreError> {
    let ids = sqlx::query_scalar!(
        r#"WITH RECURSIVE tree AS (
               SELECT id FROM categories WHERE slug = $1
               UNION
               SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
           )
           SELECT id AS "id!" FROM tree"#,
        slug
    )
    .fetch_all(db)
    .await?;
    Ok((!ids.is_empty()).then_some(ids))
}

/// One page of active, purchasable products, and the position after its last product.
pub async fn list_products(
    db: &PgPool,
    filter: &ProductFilter,
    sort: ProductSort,
    after: Option<ListPosition>,
    limit: i64,
) -> Result<Vec<(ProductSummary, ListPosition)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", slug AS "slug!", name AS "name!",
                  status AS "status!: ProductStatus", currency AS "currency!",
                  price_from_minor AS "price_from_minor!", in_stock AS "in_stock!",
                  image_url, created_at AS "created_at!", category_id AS "category_id!",
                  category_slug AS "category_slug!", category_name AS "category_name!",
                  compare_at_minor, rating_count AS "rating_count!", rating_sum AS "rating_sum!",
                  sort_key AS "sort_key!"
             FROM (
               SELECT p.id, p.slug, p.name, p.status, p.currency, p.price_from_minor, p.in_stock,
                      p.rating_count, p.rating_sum,
                      p.image_urls[1] AS image_url, p.created_at,
                      c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                      (SELECT v.compare_at_minor FROM variants v
                        WHERE v.product_id = p.id AND v.status = 'active'
                        ORDER BY v.price_minor, v.position LIMIT 1) AS compare_at_minor,
                      CASE $1::text
                          WHEN 'price_asc' THEN p.price_from_minor
                          WHEN 'price_desc' THEN -p.price_from_minor
                          ELSE -(extract(epoch FROM p.created_at) * 1000000)::bigint
                      END AS sort_key
                 FROM products p JOIN categories c ON c.id = p.category_id
                WHERE p.status = 'active' AND p.price_from_minor IS NOT NULL
                  AND ($2::uuid[] IS NULL OR p.category_id = ANY($2))
                  AND ($3::bigint IS NULL OR p.price_from_minor >= $3)
                  AND ($4::bigint IS NULL OR p.price_from_minor <= $4)
                  AND (NOT $5::bool OR p.in_stock)
           ) listed
           WHERE ($6::bigint IS NULL OR (sort_key, id) > ($6, $7::uuid))
           ORDER BY sort_key, id
           LIMIT $8"#,
        sort.as_str(),
        filter.category_ids.as_deref(),
        filter.min_price_minor,
        filter.max_price_minor,
        filter.in_stock_only,
        after.map(|p| p.key),
        after.map(|p| p.id),
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let position = ListPosition {
                key: row.sort_key,
                id: row.id,
            };
            let summary = summary_row!(row);
            (summary.into(), position)
        })
        .collect())
}

/// Ranked full-text search: every word must match, as a prefix, in the name (weighted
/// higher) or the description. A word that matches nothing at all is taken for a typo and
/// replaced by its closest words in the catalog's lexicon (trigram similarity), so a misspelt
/// word still finds the product. `words` are lower-case letters and digits only.
pub async fn search_products(
    db: &PgPool,
    words: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProductSummary>, i64), StoreError> {
    let rows = sqlx::query!(
        r#"WITH tokens AS (
               SELECT token, ord FROM unnest($1::text[]) WITH ORDINALITY AS t(token, ord)
                WHERE numnode(to_tsquery('english', token)) > 0
           ),
           search AS (
               SELECT tsquery_and_agg(
                   CASE WHEN EXISTS (SELECT 1 FROM products
                                      WHERE status = 'active'
                                        AND search_document @@ to_tsquery('english', token || ':*'))
                        THEN to_tsquery('english', token || ':*')
                        ELSE COALESCE(
                            (SELECT to_tsquery('simple', string_agg(word, ' | '))
                               FROM (SELECT word FROM search_lexicon
                                      WHERE word % token
                                      ORDER BY similarity(word, token) DESC, word
                                      LIMIT 3) closest),
                            to_tsquery('english', token || ':*'))
                   END ORDER BY ord) AS query
                 FROM tokens
           )
           SELECT p.id, p.slug, p.name, p.status AS "status: ProductStatus", p.currency,
                  p.price_from_minor AS "price_from_minor!", p.rating_count, p.rating_sum,
                  p.in_stock, p.image_urls[1] AS image_url, p.created_at,
                  c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                  (SELECT v.compare_at_minor FROM variants v
                    WHERE v.product_id = p.id AND v.status = 'active'
                    ORDER BY v.price_minor, v.position LIMIT 1) AS compare_at_minor,
                  count(*) OVER () AS "total!"
             FROM search, products p JOIN categories c ON c.id = p.category_id
            WHERE p.status = 'active' AND p.price_from_minor IS NOT NULL
              AND p.search_document @@ search.query
            ORDER BY ts_rank_cd(p.search_document, search.query, 1) DESC, p.name, p.id
            LIMIT $2 OFFSET $3"#,
        words,
        limit,
        offset,
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let products = rows
        .into_iter()
        .map(|row| summary_row!(row).into())
        .collect();
    Ok((products, total))
}

/// The category tree with active product counts that include sub-categories.
pub async fn category_tree(db: &PgPool) -> Result<Vec<CategoryNode>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.parent_id, c.slug, c.name, c.position,
                  (SELECT count(*) FROM products p
                    WHERE p.category_id = c.id AND p.status = 'active'
                      AND p.price_from_minor IS NOT NULL) AS "own_count!"
             FROM categories c ORDER BY c.position, c.name"#
    )
    .fetch_all(db)
    .await?;
    let flat = rows
        .into_iter()
        .map(|row| {
            (
                CategoryNode {
                    id: row.id,
                    slug: row.slug,
                    name: row.name,
                    parent_id: row.parent_id,
                    position: row.position,
                    product_count: 0,
                    children: Vec::new(),
                },
                row.own_count,
            )
        })
        .collect();
    Ok(crate::domain::catalog::build_category_tree(flat))
}

async fn breadcrumbs(db: &PgPool, category_id: Uuid) -> Result<Vec<CategoryRef>, StoreError> {
    Ok(sqlx::query_as!(
        CategoryRef,
        r#"WITH RECURSIVE up AS (
               SELECT id, parent_id, slug, name, 0 AS depth FROM categories WHERE id = $1
               UNION ALL
               SELECT c.id, c.parent_id, c.slug, c.name, up.depth + 1
                 FROM categories c JOIN up ON c.id = up.parent_id
                WHERE up.depth < 32
           )
           SELECT id AS "id!", slug AS "slug!", name AS "name!" FROM up ORDER BY depth DESC"#,
        category_id
    )
    .fetch_all(db)
    .await?)
}

/// Which products a read may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Shoppers: active products and their active variants only.
    Public,
    /// Staff: everything, archived included.
    Staff,
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
    let Some(row) = sqlx::query!(
        r#"SELECT p.id, p.slug, p.name, p.description, p.status AS "status: ProductStatus",
                  p.currency, p.price_from_minor, p.in_stock, p.image_urls, p.created_at,
                  p.updated_at, p.rating_count, p.rating_sum, c.id AS category_id, c.slug AS category_slug,
                  c.name AS category_name
             FROM products p JOIN categories c ON c.id = p.category_id
            WHERE ($1::text IS NULL OR p.slug = $1) AND ($2::uuid IS NULL OR p.id = $2)
              AND (NOT $3::bool OR (p.status = 'active' AND p.price_from_minor IS NOT NULL))"#,
        slug,
        id,
        audience == Audience::Public,
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let variants = sqlx::query!(
        r#"SELECT id, sku, title, options, price_minor, compare_at_minor, stock_on_hand,
                  status AS "status: VariantStatus"
             FROM variants
            WHERE product_id = $1 AND (NOT $2::bool OR status = 'active')
            ORDER BY position, created_at"#,
        row.id,
        audience == Audience::Public,
    )
    .fetch_all(db)
    .await?
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

fn slug_taken() -> StoreError {
    StoreError::conflict("slug_taken", "Another product already uses this slug.")
}
fn sku_taken() -> StoreError {
    StoreError::conflict("sku_taken", "Another variant already uses this SKU.")
}
fn unknown_category() -> StoreError {
    StoreError::Invalid(FieldError::new("category_id", "no such category"))
}
fn category_slug_taken() -> StoreError {
    StoreError::conflict("slug_taken", "Another category already uses this slug.")
}

/// A product as staff create it; variants are added separately.
pub struct NewProduct {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub category_id: Uuid,
    pub currency: Currency,
    pub image_urls: Vec<String>,
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
        new.slug,
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

/// Changes to a product; `None` leaves a field as it is.
#[derive(Default)]
pub struct ProductChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub image_urls: Option<Vec<String>>,
    pub status: Option<ProductStatus>,
}

pub async fn update_product(
    db: &PgPool,
    id: Uuid,
    changes: &ProductChanges,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    lock_product(&mut tx, id).await?;
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
        changes.slug,
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

/// Locks a product row. Every write to a product's variants takes this lock first, in its
/// own statement, so that the roll-up recomputed afterwards sees all committed variant
/// writes (a subquery snapshot taken before waiting on a lock would not).
async fn lock_product(
    tx: &mut Transaction<'_, Postgres>,
    product_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query_scalar!(
        "SELECT id FROM products WHERE id = $1 FOR UPDATE",
        product_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("product"))
    .map(drop)
}

/// The product a variant belongs to (variants never move between products).
async fn product_of_variant(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
) -> Result<Uuid, StoreError> {
    sqlx::query_scalar!("SELECT product_id FROM variants WHERE id = $1", variant_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("variant"))
}

/// Recomputes the listing roll-ups of a product from its active variants.
async fn refresh_product_rollups(
    tx: &mut Transaction<'_, Postgres>,
    product_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"UPDATE products p SET
               price_from_minor = agg.price_from,
               in_stock = COALESCE(agg.in_stock, false),
               updated_at = now()
             FROM (SELECT min(price_minor) AS price_from, bool_or(stock_on_hand > 0) AS in_stock
                     FROM variants WHERE product_id = $1 AND status = 'active') agg
            WHERE p.id = $1"#,
        product_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct NewVariant {
    pub sku: String,
    pub title: String,
    pub options: serde_json::Value,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub initial_stock: i32,
    pub position: i32,
}

/// Adds a variant; its initial stock is the first ledger row.
pub async fn create_variant(
    db: &PgPool,
    product_id: Uuid,
    new: &NewVariant,
    actor_id: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = db.begin().await?;
    lock_product(&mut tx, product_id).await?;
    let variant_id = sqlx::query_scalar!(
        r#"INSERT INTO variants (id, product_id, sku, title, options, price_minor,
                                 compare_at_minor, stock_on_hand, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"#,
        Uuid::now_v7(),
        product_id,
        new.sku,
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
    if new.initial_stock != 0 {
        record_movement(
            &mut tx,
            variant_id,
            new.initial_stock,
            StockReason::Initial,
            None,
            new.initial_stock,
            Some(actor_id),
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
    refresh_product_rollups(&mut tx, product_id).await?;
    tx.commit().await?;
    Ok(variant_id)
}

#[derive(Default)]
pub struct VariantChanges {
    pub sku: Option<String>,
    pub title: Option<String>,
    pub options: Option<serde_json::Value>,
    pub price_minor: Option<i64>,
    /// `Some(None)` removes the compare-at price.
    pub compare_at_minor: Option<Option<i64>>,
    pub position: Option<i32>,
    pub status: Option<VariantStatus>,
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
    let product_id = product_of_variant(&mut tx, variant_id).await?;
    lock_product(&mut tx, product_id).await?;
    let before = audit::snapshot(&mut tx, Entity::Variant, variant_id).await?;
    let current = sqlx::query!(
        r#"SELECT v.product_id, v.price_minor, v.compare_at_minor,
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
        changes.sku,
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
    refresh_product_rollups(&mut tx, current.product_id).await?;
    tx.commit().await?;
    Ok(current.product_id)
}

async fn record_movement(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
    delta: i32,
    reason: StockReason,
    note: Option<&str>,
    stock_after: i32,
    actor_id: Option<Uuid>,
) -> Result<StockMovement, StoreError> {
    Ok(sqlx::query_as!(
        StockMovement,
        r#"INSERT INTO stock_movements (variant_id, delta, reason, note, stock_after, actor_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, variant_id, delta, reason, note, stock_after, actor_id, created_at"#,
        variant_id,
        delta,
        reason.as_str(),
        note,
        stock_after,
        actor_id,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Applies a stock change atomically: the conditional update refuses to go below zero, and
/// the ledger row is written in the same transaction.
pub async fn adjust_stock(
    db: &PgPool,
    variant_id: Uuid,
    delta: i32,
    reason: StockReason,
    note: Option<&str>,
    actor_id: Option<Uuid>,
) -> Result<StockMovement, StoreError> {
    let mut tx = db.begin().await?;
    let product_id = product_of_variant(&mut tx, variant_id).await?;
    lock_product(&mut tx, product_id).await?;
    let updated = sqlx::query!(
        r#"UPDATE variants SET stock_on_hand = stock_on_hand + $2, updated_at = now()
            WHERE id = $1 AND stock_on_hand + $2 >= 0
        RETURNING product_id, stock_on_hand"#,
        variant_id,
        delta
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(updated) = updated else {
        let on_hand = sqlx::query_scalar!(
            "SELECT stock_on_hand FROM variants WHERE id = $1",
            variant_id
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("variant"))?;
        return Err(StoreError::conflict(
            "insufficient_stock",
            format!(
                "Only {on_hand} in stock; cannot remove {}.",
                -i64::from(delta)
            ),
        ));
    };
    let movement = record_movement(
        &mut tx,
        variant_id,
        delta,
        reason,
        note,
        updated.stock_on_hand,
        actor_id,
    )
    .await?;
    refresh_product_rollups(&mut tx, updated.product_id).await?;
    tx.commit().await?;
    Ok(movement)
}

pub async fn stock_movements(
    db: &PgPool,
    variant_id: Uuid,
    limit: i64,
) -> Result<Vec<StockMovement>, StoreError> {
    let movements = sqlx::query_as!(
        StockMovement,
        r#"SELECT id, variant_id, delta, reason, note, stock_after, actor_id, created_at
             FROM stock_movements WHERE variant_id = $1 ORDER BY id DESC LIMIT $2"#,
        variant_id,
        limit
    )
    .fetch_all(db)
    .await?;
    if movements.is_empty() {
        // An empty ledger is only an answer for a variant that exists.
        sqlx::query_scalar!("SELECT id FROM variants WHERE id = $1", variant_id)
            .fetch_optional(db)
            .await?
            .ok_or(StoreError::NotFound("variant"))?;
    }
    Ok(movements)
}

/// The ledger check: for how many variants the movements do not sum to stock on hand.
pub async fn ledger_mismatches(db: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM variants v
            WHERE v.stock_on_hand <> COALESCE(
                (SELECT sum(m.delta) FROM stock_movements m WHERE m.variant_id = v.id), 0)"#
    )
    .fetch_one(db)
    .await?)
}

pub struct NewCategory {
    pub slug: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub position: i32,
}

pub async fn create_category(
    db: &PgPool,
    new: &NewCategory,
    actor_id: Uuid,
) -> Result<CategoryRef, StoreError> {
    let mut tx = db.begin().await?;
    let category = sqlx::query_as!(
        CategoryRef,
        r#"INSERT INTO categories (id, parent_id, slug, name, position)
           VALUES ($1, $2, $3, $4, $5) RETURNING id, slug, name"#,
        Uuid::now_v7(),
        new.parent_id,
        new.slug,
        new.name,
        new.position,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("categories_slug_key", category_slug_taken),
                ("categories_parent_id_fkey", || {
                    StoreError::Invalid(FieldError::new("parent_id", "no such category"))
                }),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Category, category.id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "category.create",
        Entity::Category,
        category.id,
        Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(category)
}

/// Products for staff, drafts and archived included, newest first.
pub async fn staff_products(
    db: &PgPool,
    status: Option<ProductStatus>,
    text: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProductSummary>, i64), StoreError> {
    let rows = sqlx::query!(
        r#"SELECT p.id, p.slug, p.name, p.status AS "status: ProductStatus", p.currency,
                  p.price_from_minor, p.in_stock, p.rating_count, p.rating_sum,
                  p.image_urls[1] AS image_url, p.created_at,
                  c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                  NULL::bigint AS compare_at_minor, count(*) OVER () AS "total!"
             FROM products p JOIN categories c ON c.id = p.category_id
            WHERE ($1::product_status IS NULL OR p.status = $1)
              AND ($2::text IS NULL OR strpos(lower(p.name), lower($2)) > 0
                   OR strpos(p.slug, lower($2)) > 0)
            ORDER BY p.created_at DESC, p.id DESC
            LIMIT $3 OFFSET $4"#,
        status as Option<ProductStatus>,
        text,
        limit,
        offset,
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let products = rows
        .into_iter()
        .map(|row| summary_row!(row).into())
        .collect();
    Ok((products, total))
}

#[derive(Default)]
pub struct CategoryChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    /// `Some(None)` makes the category a root.
    pub parent_id: Option<Option<Uuid>>,
    pub position: Option<i32>,
}

/// Changes a category. Moving it under itself or one of its descendants is refused, so the
/// tree stays a tree.
pub async fn update_category(
    db: &PgPool,
    id: Uuid,
    changes: &CategoryChanges,
    actor_id: Uuid,
) -> Result<CategoryRef, StoreError> {
    let mut tx = db.begin().await?;
    if changes.parent_id.is_some() {
        // Moves are serialised: two concurrent moves could each pass the check and together
        // make a cycle. The table lock comes first, before any row lock, so that two moves
        // queue instead of deadlocking.
        sqlx::query!("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query!("SELECT id FROM categories WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("category"))?;
    let before = audit::snapshot(&mut tx, Entity::Category, id).await?;
    if let Some(Some(parent)) = changes.parent_id {
        let creates_cycle = sqlx::query_scalar!(
            r#"WITH RECURSIVE subtree AS (
                   SELECT id FROM categories WHERE id = $1
                   UNION
                   SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id
               )
               SELECT EXISTS (SELECT 1 FROM subtree WHERE id = $2) AS "cycle!""#,
            id,
            parent
        )
        .fetch_one(&mut *tx)
        .await?;
        if creates_cycle {
            return Err(StoreError::Invalid(FieldError::new(
                "parent_id",
                "a category cannot move under itself or one of its sub-categories",
            )));
        }
    }
    let category = sqlx::query_as!(
        CategoryRef,
        r#"UPDATE categories SET
               slug = COALESCE($2, slug),
               name = COALESCE($3, name),
               parent_id = CASE WHEN $4::bool THEN $5 ELSE parent_id END,
               position = COALESCE($6, position)
           WHERE id = $1
           RETURNING id, slug, name"#,
        id,
        changes.slug,
        changes.name,
        changes.parent_id.is_some(),
        changes.parent_id.flatten(),
        changes.position,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("categories_slug_key", category_slug_taken),
                ("categories_parent_id_fkey", || {
                    StoreError::Invalid(FieldError::new("parent_id", "no such category"))
                }),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Category, id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "category.update",
        Entity::Category,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(category)
}

/// The catalog facts a cart needs about its variants, whatever their status.
pub async fn cart_variants(
    db: &PgPool,
    variant_ids: &[Uuid],
) -> Result<Vec<crate::domain::cart::CatalogVariant>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT v.id, v.sku, v.title, v.options, v.price_minor, v.compare_at_minor,
                  v.stock_on_hand, v.status AS "variant_status: VariantStatus",
                  p.id AS product_id, p.slug, p.name, p.status AS "product_status: ProductStatus",
                  p.currency, p.image_urls[1] AS image_url
             FROM variants v JOIN products p ON p.id = v.product_id
            WHERE v.id = ANY($1)"#,
        variant_ids
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
            currency: Currency::parse(&row.currency).unwrap_or(Currency::NONE),
            image_url: row.image_url,
        })
        .collect())
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
