//! The catalog import's reads and writes, and the export's read. An import is one
//! transaction: the file's products are locked first (in id order, as every variant write
//! locks them), read, planned by `domain::catalog::import`, and written in a few set-based
//! statements — 10,000 products are as many statements as one.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{sku_taken, slug_taken};
use crate::domain::catalog::{
    ProductStatus, StockReason, VariantStatus,
    edits::MarketPrice,
    import::{self, Existing, ExportRow, Plan, StoredProduct, StoredVariant, status_text},
};
use crate::domain::money::Currency;
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    stock,
};

/// Why the ledger moved.
const LEDGER_NOTE: &str = "catalog import";

fn product_status(raw: &str) -> ProductStatus {
    import::parse_status(raw, "").unwrap_or(ProductStatus::Draft)
}

fn variant_status(raw: &str) -> VariantStatus {
    import::parse_status(raw, "").unwrap_or(VariantStatus::Archived)
}

/// Reads what the plan needs: the categories, the products of `slugs` with every variant,
/// and the variants of `skus` wherever they are. With `lock` (an import, not a dry run) the
/// transaction first waits for any other import to end, then locks the products in id order
/// until it ends itself.
pub async fn existing(
    tx: &mut Transaction<'_, Postgres>,
    slugs: &[String],
    skus: &[String],
    lock: bool,
) -> Result<Existing, StoreError> {
    if lock {
        // One import at a time: two files creating the same new slugs or SKUs in different
        // orders would otherwise deadlock on the unique indexes.
        sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('nexus.catalog_import'))")
            .execute(&mut **tx)
            .await?;
        sqlx::query_scalar!(
            "SELECT id FROM products WHERE slug = ANY($1) ORDER BY id FOR UPDATE",
            slugs
        )
        .fetch_all(&mut **tx)
        .await?;
    }
    let categories = sqlx::query!("SELECT id, slug FROM categories")
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| (row.slug, row.id))
        .collect();
    let products: HashMap<String, StoredProduct> = sqlx::query!(
        r#"SELECT id, slug, name, description, category_id, status::text AS "status!",
                  currency, image_urls
             FROM products WHERE slug = ANY($1)"#,
        slugs
    )
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|row| {
        let product = StoredProduct {
            id: row.id,
            slug: row.slug.clone(),
            name: row.name,
            description: row.description,
            category_id: row.category_id,
            status: product_status(&row.status),
            currency: Currency::parse(&row.currency).unwrap_or(Currency::NONE),
            image_urls: row.image_urls,
        };
        (row.slug, product)
    })
    .collect();
    let ids: Vec<Uuid> = products.values().map(|p| p.id).collect();
    let variants = sqlx::query!(
        r#"SELECT id, product_id, sku, title, options, price_minor, compare_at_minor,
                  stock_on_hand, status::text AS "status!", position
             FROM variants WHERE product_id = ANY($1) OR sku = ANY($2)"#,
        &ids,
        skus
    )
    .fetch_all(&mut **tx)
    .await?;
    let ids: Vec<Uuid> = variants.iter().map(|v| v.id).collect();
    let mut market_prices = by_variant(super::prices::market_prices(&mut **tx, &ids).await?);
    let variants = variants
        .into_iter()
        .map(|row| {
            let variant = StoredVariant {
                id: row.id,
                product_id: row.product_id,
                sku: row.sku.clone(),
                title: row.title,
                options: row.options,
                price_minor: row.price_minor,
                compare_at_minor: row.compare_at_minor,
                stock_on_hand: row.stock_on_hand,
                status: variant_status(&row.status),
                position: row.position,
                market_prices: market_prices.remove(&row.id).unwrap_or_default(),
            };
            (row.sku, variant)
        })
        .collect();
    Ok(Existing {
        categories,
        products,
        variants,
    })
}

/// Market prices grouped by variant, each variant's in currency order.
fn by_variant(prices: Vec<(Uuid, MarketPrice)>) -> HashMap<Uuid, Vec<MarketPrice>> {
    let mut grouped: HashMap<Uuid, Vec<MarketPrice>> = HashMap::new();
    for (variant_id, price) in prices {
        grouped.entry(variant_id).or_default().push(price);
    }
    grouped
}

/// The columns of products, one array each, for `UNNEST`.
struct ProductColumns {
    ids: Vec<Uuid>,
    slugs: Vec<String>,
    names: Vec<String>,
    descriptions: Vec<String>,
    categories: Vec<Uuid>,
    statuses: Vec<String>,
    currencies: Vec<String>,
    images: Vec<Value>,
}

impl ProductColumns {
    fn of(products: &[StoredProduct]) -> Self {
        Self {
            ids: products.iter().map(|p| p.id).collect(),
            slugs: products.iter().map(|p| p.slug.clone()).collect(),
            names: products.iter().map(|p| p.name.clone()).collect(),
            descriptions: products.iter().map(|p| p.description.clone()).collect(),
            categories: products.iter().map(|p| p.category_id).collect(),
            statuses: products.iter().map(|p| status_text(p.status)).collect(),
            currencies: products
                .iter()
                .map(|p| p.currency.code().to_owned())
                .collect(),
            images: products
                .iter()
                .map(|p| Value::from(p.image_urls.clone()))
                .collect(),
        }
    }
}

/// The columns of variants, one array each, for `UNNEST`.
struct VariantColumns {
    ids: Vec<Uuid>,
    products: Vec<Uuid>,
    skus: Vec<String>,
    titles: Vec<String>,
    options: Vec<Value>,
    prices: Vec<i64>,
    compare_at: Vec<Option<i64>>,
    stock: Vec<i32>,
    statuses: Vec<String>,
    positions: Vec<i32>,
}

impl VariantColumns {
    fn of(variants: &[StoredVariant]) -> Self {
        Self {
            ids: variants.iter().map(|v| v.id).collect(),
            products: variants.iter().map(|v| v.product_id).collect(),
            skus: variants.iter().map(|v| v.sku.clone()).collect(),
            titles: variants.iter().map(|v| v.title.clone()).collect(),
            options: variants.iter().map(|v| v.options.clone()).collect(),
            prices: variants.iter().map(|v| v.price_minor).collect(),
            compare_at: variants.iter().map(|v| v.compare_at_minor).collect(),
            stock: variants.iter().map(|v| v.stock_on_hand).collect(),
            statuses: variants.iter().map(|v| status_text(v.status)).collect(),
            positions: variants.iter().map(|v| v.position).collect(),
        }
    }
}

fn taken(error: sqlx::Error) -> StoreError {
    StoreError::map_constraint(
        error,
        &[
            ("products_slug_key", slug_taken),
            ("variants_sku_key", sku_taken),
        ],
    )
}

/// Writes a plan the caller made from [`existing`] in the same transaction: products, then
/// variants, then stock and its ledger, the listing roll-ups and one audit row per product
/// and variant written.
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let updated_products: Vec<Uuid> = plan.updated_products.iter().map(|p| p.id).collect();
    let updated_variants: Vec<Uuid> = plan.updated_variants.iter().map(|v| v.id).collect();
    let products_before = audit::catalog_snapshots(tx, Entity::Product, &updated_products).await?;
    let variants_before = audit::catalog_snapshots(tx, Entity::Variant, &updated_variants).await?;

    let new = ProductColumns::of(&plan.created_products);
    sqlx::query!(
        r#"INSERT INTO products (id, slug, name, description, category_id, status, currency,
                                 image_urls)
           SELECT u.id, u.slug, u.name, u.description, u.category_id, u.status::product_status,
                  u.currency, ARRAY(SELECT jsonb_array_elements_text(u.images))
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[],
                         $7::text[], $8::jsonb[])
               AS u(id, slug, name, description, category_id, status, currency, images)"#,
        &new.ids,
        &new.slugs,
        &new.names,
        &new.descriptions,
        &new.categories,
        &new.statuses,
        &new.currencies,
        &new.images,
    )
    .execute(&mut **tx)
    .await
    .map_err(taken)?;
    let changed = ProductColumns::of(&plan.updated_products);
    sqlx::query!(
        r#"UPDATE products p SET name = u.name, description = u.description,
                  category_id = u.category_id, status = u.status::product_status,
                  image_urls = ARRAY(SELECT jsonb_array_elements_text(u.images)),
                  updated_at = now()
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::jsonb[])
               AS u(id, name, description, category_id, status, images)
            WHERE p.id = u.id"#,
        &changed.ids,
        &changed.names,
        &changed.descriptions,
        &changed.categories,
        &changed.statuses,
        &changed.images,
    )
    .execute(&mut **tx)
    .await?;

    let new = VariantColumns::of(&plan.created_variants);
    sqlx::query!(
        r#"INSERT INTO variants (id, product_id, sku, title, options, price_minor,
                                 compare_at_minor, stock_on_hand, status, position)
           SELECT u.id, u.product_id, u.sku, u.title, u.options, u.price, u.compare_at, u.stock,
                  u.status::variant_status, u.position
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::int8[],
                         $7::int8[], $8::int4[], $9::text[], $10::int4[])
               AS u(id, product_id, sku, title, options, price, compare_at, stock, status,
                    position)"#,
        &new.ids,
        &new.products,
        &new.skus,
        &new.titles,
        &new.options,
        &new.prices,
        &new.compare_at as &[Option<i64>],
        &new.stock,
        &new.statuses,
        &new.positions,
    )
    .execute(&mut **tx)
    .await
    .map_err(taken)?;
    let changed = VariantColumns::of(&plan.updated_variants);
    sqlx::query!(
        r#"UPDATE variants v SET title = u.title, options = u.options, price_minor = u.price,
                  compare_at_minor = u.compare_at, status = u.status::variant_status,
                  updated_at = now()
             FROM UNNEST($1::uuid[], $2::text[], $3::jsonb[], $4::int8[], $5::int8[], $6::text[])
               AS u(id, title, options, price, compare_at, status)
            WHERE v.id = u.id"#,
        &changed.ids,
        &changed.titles,
        &changed.options,
        &changed.prices,
        &changed.compare_at as &[Option<i64>],
        &changed.statuses,
    )
    .execute(&mut **tx)
    .await?;

    write_market_prices(tx, plan).await?;
    write_stock(tx, plan, actor_id).await?;
    stock::refresh_rollups(tx, &plan.touched_products()).await?;

    let created: Vec<Uuid> = plan.created_products.iter().map(|p| p.id).collect();
    let products: Vec<Uuid> = created.iter().chain(&updated_products).copied().collect();
    let after = audit::catalog_snapshots(tx, Entity::Product, &products).await?;
    audit::record_many(
        tx,
        actor_id,
        "product.import",
        Entity::Product,
        &products_before,
        &after,
    )
    .await?;
    let created: Vec<Uuid> = plan.created_variants.iter().map(|v| v.id).collect();
    let variants: Vec<Uuid> = created.iter().chain(&updated_variants).copied().collect();
    let after = audit::catalog_snapshots(tx, Entity::Variant, &variants).await?;
    audit::record_many(
        tx,
        actor_id,
        "variant.import",
        Entity::Variant,
        &variants_before,
        &after,
    )
    .await?;
    Ok(())
}

/// Writes the market prices of the variants the import creates or changes: each such
/// variant's are replaced by the plan's (the planner kept those the file did not change).
async fn write_market_prices(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan,
) -> Result<(), StoreError> {
    let updated: Vec<Uuid> = plan.updated_variants.iter().map(|v| v.id).collect();
    sqlx::query!(
        "DELETE FROM variant_prices WHERE variant_id = ANY($1)",
        &updated
    )
    .execute(&mut **tx)
    .await?;
    let prices: Vec<(Uuid, &MarketPrice)> = plan
        .created_variants
        .iter()
        .chain(&plan.updated_variants)
        .flat_map(|v| v.market_prices.iter().map(move |p| (v.id, p)))
        .collect();
    super::prices::insert(tx, &prices).await
}

/// Sets stock on hand and writes the ledger: an `initial` row for each new variant with
/// stock, a `correction` for each existing one the file moves; `stock.low` for each that
/// the import takes down to the threshold.
async fn write_stock(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = plan.stock_sets.iter().map(|s| s.variant_id).collect();
    let after: Vec<i32> = plan.stock_sets.iter().map(|s| s.stock_after).collect();
    sqlx::query!(
        r#"UPDATE variants v SET stock_on_hand = u.stock_after, updated_at = now()
             FROM UNNEST($1::uuid[], $2::int4[]) AS u(id, stock_after)
            WHERE v.id = u.id"#,
        &ids,
        &after,
    )
    .execute(&mut **tx)
    .await?;
    let mut ledger: Vec<(Uuid, i32, i32, StockReason)> = plan
        .created_variants
        .iter()
        .filter(|v| v.stock_on_hand > 0)
        .map(|v| (v.id, v.stock_on_hand, v.stock_on_hand, StockReason::Initial))
        .collect();
    ledger.extend(plan.stock_sets.iter().map(|s| {
        (
            s.variant_id,
            s.delta,
            s.stock_after,
            StockReason::Correction,
        )
    }));
    let variant_ids: Vec<Uuid> = ledger.iter().map(|row| row.0).collect();
    let deltas: Vec<i32> = ledger.iter().map(|row| row.1).collect();
    let stock_after: Vec<i32> = ledger.iter().map(|row| row.2).collect();
    let reasons: Vec<String> = ledger.iter().map(|row| row.3.as_str().to_owned()).collect();
    sqlx::query!(
        r#"INSERT INTO stock_movements (variant_id, delta, reason, note, stock_after, actor_id)
           SELECT u.variant_id, u.delta, u.reason, $5, u.stock_after, $6
             FROM UNNEST($1::uuid[], $2::int4[], $3::int4[], $4::text[])
               AS u(variant_id, delta, stock_after, reason)"#,
        &variant_ids,
        &deltas,
        &stock_after,
        &reasons,
        LEDGER_NOTE,
        actor_id,
    )
    .execute(&mut **tx)
    .await?;
    for set in &plan.stock_sets {
        stock::announce_if_low(
            tx,
            set.variant_id,
            set.stock_after - set.delta,
            set.stock_after,
        )
        .await?;
    }
    Ok(())
}

/// Every product with each of its variants (a product without variants on a row of its
/// own), oldest product first and variants in their order: the export's rows.
pub async fn export_rows(db: &PgPool) -> Result<Vec<ExportRow>, StoreError> {
    // One snapshot for the variants and their market prices, read by two queries.
    let mut tx = db.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query!(
        r#"SELECT p.id, p.slug, p.name, p.description, p.category_id, c.slug AS category_slug,
                  p.status::text AS "status!", p.currency, p.image_urls,
                  v.id AS "variant_id?", v.sku AS "sku?", v.title AS "title?",
                  v.options AS "options?", v.price_minor AS "price_minor?",
                  v.compare_at_minor, v.stock_on_hand AS "stock_on_hand?",
                  v.status::text AS "variant_status?", v.position AS "position?"
             FROM products p
             JOIN categories c ON c.id = p.category_id
             LEFT JOIN variants v ON v.product_id = p.id
            ORDER BY p.created_at, p.id, v.position, v.created_at, v.id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = rows.iter().filter_map(|row| row.variant_id).collect();
    let mut market_prices = by_variant(super::prices::market_prices(&mut *tx, &ids).await?);
    tx.commit().await?;
    let mut products: HashMap<Uuid, StoredProduct> = HashMap::new();
    Ok(rows
        .into_iter()
        .map(|row| {
            let product = products
                .entry(row.id)
                .or_insert_with(|| StoredProduct {
                    id: row.id,
                    slug: row.slug,
                    name: row.name,
                    description: row.description,
                    category_id: row.category_id,
                    status: product_status(&row.status),
                    currency: Currency::parse(&row.currency).unwrap_or(Currency::NONE),
                    image_urls: row.image_urls,
                })
                .clone();
            let variant = match (row.variant_id, row.sku, row.title, row.price_minor) {
                (Some(id), Some(sku), Some(title), Some(price_minor)) => Some(StoredVariant {
                    id,
                    product_id: row.id,
                    sku,
                    title,
                    options: row.options.unwrap_or_default(),
                    price_minor,
                    compare_at_minor: row.compare_at_minor,
                    stock_on_hand: row.stock_on_hand.unwrap_or_default(),
                    status: variant_status(row.variant_status.as_deref().unwrap_or_default()),
                    position: row.position.unwrap_or_default(),
                    market_prices: market_prices.remove(&id).unwrap_or_default(),
                }),
                _ => None,
            };
            ExportRow {
                product,
                category_slug: row.category_slug,
                variant,
            }
        })
        .collect())
}
