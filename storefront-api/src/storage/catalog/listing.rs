//! Product listings: the public listing with its filters and keyset paging, full-text
//! search, and the staff's product list.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{
    catalog::{
        ProductStatus,
        views::{CategoryRef, ProductSummary, Rating},
    },
    money::Currency,
};
use crate::storage::{StoreError, money};

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
#[derive(Debug, Clone)]
pub struct ProductFilter {
    /// Prices are in this currency (the shopper's market's); products without a price in it
    /// are not sold there and not listed.
    pub currency: Currency,
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

/// One page of active products sold in the filter's currency, and the position after its
/// last product.
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
               SELECT p.id, p.slug, p.name, p.status, pp.currency, pp.price_from_minor,
                      pp.in_stock, p.rating_count, p.rating_sum,
                      p.image_urls[1] AS image_url, p.created_at,
                      c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                      pp.compare_at_minor,
                      CASE $1::text
                          WHEN 'price_asc' THEN pp.price_from_minor
                          WHEN 'price_desc' THEN -pp.price_from_minor
                          ELSE -(extract(epoch FROM p.created_at) * 1000000)::bigint
                      END AS sort_key
                 FROM products p JOIN categories c ON c.id = p.category_id
                 JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = $9
                WHERE p.status = 'active'
                  AND ($2::uuid[] IS NULL OR p.category_id = ANY($2))
                  AND ($3::bigint IS NULL OR pp.price_from_minor >= $3)
                  AND ($4::bigint IS NULL OR pp.price_from_minor <= $4)
                  AND (NOT $5::bool OR pp.in_stock)
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
        filter.currency.code(),
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
    currency: Currency,
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
           SELECT p.id, p.slug, p.name, p.status AS "status: ProductStatus", pp.currency,
                  pp.price_from_minor AS "price_from_minor!", p.rating_count, p.rating_sum,
                  pp.in_stock, p.image_urls[1] AS image_url, p.created_at,
                  c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                  pp.compare_at_minor, count(*) OVER () AS "total!"
             FROM search, products p JOIN categories c ON c.id = p.category_id
             JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = $4
            WHERE p.status = 'active'
              AND p.search_document @@ search.query
            ORDER BY ts_rank_cd(p.search_document, search.query, 1) DESC, p.name, p.id
            LIMIT $2 OFFSET $3"#,
        words,
        limit,
        offset,
        currency.code(),
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
