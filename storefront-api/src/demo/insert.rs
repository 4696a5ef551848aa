//! Writing a generated demo shop to PostgreSQL: bulk `INSERT … SELECT FROM UNNEST(…)`
//! statements of a few thousand rows, all in one transaction: the catalog, the accounts and
//! the order history (orders, their lines and payments).
//!
//! The catalog invariants of `storage::catalog` hold for what is written here: the roll-ups
//! `price_from_minor` and `in_stock` come with the products, and every variant with stock
//! gets exactly one `initial` stock movement, so each ledger sums to its stock on hand.
//! Historical orders write no stock movements and take no stock: the ledger describes the
//! stock the shop holds now, and the history predates it. Nor do they go through the outbox.
//! Queries are checked at run time (`sqlx::query`), not at compile time: bulk demo loading
//! is not worth the offline query data.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::{
    ADMIN_EMAIL, Account, Address, CURRENCY, Category, DemoShop, HISTORY, Product,
    history::{History, Order, PAYMENT_PROVIDER},
};
use crate::domain::account::Role;

/// Rows per statement: large enough to make round trips rare, small enough to keep each
/// statement's parameters a few megabytes at most.
pub(super) const ROWS_PER_STATEMENT: usize = 2_000;

/// Serialises concurrent demo loads (an arbitrary key, "NexusDem" in ASCII).
const LOAD_LOCK_KEY: i64 = 0x4e65_7875_7344_656d;
/// Held for a whole load, events included ("NexusDmL").
const WHOLE_LOAD_LOCK_KEY: i64 = 0x4e65_7875_7344_6d4c;

/// Note on every opening stock movement, so staff can tell demo stock from real stock.
const OPENING_STOCK_NOTE: &str = "demo data";

/// PHC strings of the demo passwords.
pub(super) struct PasswordHashes {
    pub admin: String,
    pub staff: String,
    pub customer: String,
}

impl PasswordHashes {
    fn for_role(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Customer => &self.customer,
            // Every staff role but admin signs in with the staff password.
            _ => &self.staff,
        }
    }
}

/// A session-level advisory lock held for a whole load, PostgreSQL part and MongoDB events
/// alike, so that two loads started at once cannot both decide the events are missing. It
/// lives on a connection of its own, taken out of the pool: if the load fails and the lock
/// is never released, dropping the connection closes it and PostgreSQL releases the lock.
pub(super) struct LoadLock(PgConnection);

impl LoadLock {
    pub async fn acquire(db: &PgPool) -> Result<Self, sqlx::Error> {
        let mut connection = db.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(WHOLE_LOAD_LOCK_KEY)
            .execute(&mut connection)
            .await?;
        Ok(Self(connection))
    }

    pub async fn release(mut self) {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(WHOLE_LOAD_LOCK_KEY)
            .execute(&mut self.0)
            .await;
        if let Err(error) = unlocked {
            tracing::warn!(%error, "demo load lock not released; closing its connection");
        }
        if let Err(error) = self.0.close().await {
            tracing::warn!(%error, "demo load lock connection did not close cleanly");
        }
    }
}

/// Whether the demo admin or any product exists: then a load must not write anything.
pub(super) async fn demo_data_present(db: impl PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1::text::citext)
             OR EXISTS (SELECT 1 FROM products)",
    )
    .bind(ADMIN_EMAIL)
    .fetch_one(db)
    .await
}

/// The ids of the first demo customers present, at most `count` of them.
/// Refreshes the planner's statistics after a bulk load. Until autovacuum gets to the new
/// rows the planner takes the tables for nearly empty, and a campaign's results (enrolments
/// joined to orders) ran as a nested loop over every order: 25 s instead of 30 ms.
pub(super) async fn analyze(db: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("ANALYZE").execute(db).await.map(drop)
}

pub(super) async fn first_customers(db: &PgPool, count: usize) -> Result<Vec<Uuid>, sqlx::Error> {
    let emails: Vec<String> = (1..=count).map(super::customer_email).collect();
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = ANY($1::text[]::citext[])")
        .bind(emails)
        .fetch_all(db)
        .await
}

/// The end of the demo shop in the database, if the demo admin is there: the admin opened
/// the shop [`HISTORY`] before it, and that is all a later load needs to date the rest alike.
pub(super) async fn loaded_end(db: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let opened: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT created_at FROM accounts WHERE email = $1::text::citext")
            .bind(ADMIN_EMAIL)
            .fetch_optional(db)
            .await?;
    Ok(opened.map(|opened| opened + HISTORY))
}

/// Whether the database holds this very shop and history: the first customer's account
/// and the first order have the ids and timestamps this seed and end generate.
pub(super) async fn holds(
    db: &PgPool,
    shop: &DemoShop,
    history: &History,
) -> Result<bool, sqlx::Error> {
    let Some(customer) = shop.accounts.iter().find(|a| a.role == Role::Customer) else {
        return Ok(false);
    };
    let first_order = history.orders.first();
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts
                         WHERE id = $1 AND email = $2::text::citext AND created_at = $3)
            AND ($4::uuid IS NULL
                 OR EXISTS (SELECT 1 FROM orders WHERE id = $4 AND placed_at = $5))",
    )
    .bind(customer.id)
    .bind(&customer.email)
    .bind(customer.created_at)
    .bind(first_order.map(|o| o.id))
    .bind(first_order.map(|o| o.placed_at))
    .fetch_one(db)
    .await
}

/// Writes the whole shop and its order history in one transaction, with the products'
/// ratings from `reviews` (which go to MongoDB later); `false` (and nothing written) if demo
/// data turned up meanwhile.
pub(super) async fn write(
    db: &PgPool,
    shop: &DemoShop,
    history: &History,
    reviews: &[super::reviews::DemoReview],
    hashes: &PasswordHashes,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await.context("could not start a transaction")?;
    // Two loads started at once must not both pass the check below.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOAD_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    if demo_data_present(&mut *tx).await? {
        return Ok(false);
    }
    insert_accounts(&mut tx, &shop.accounts, hashes)
        .await
        .context("inserting demo accounts failed")?;
    insert_addresses(&mut tx, &shop.addresses)
        .await
        .context("inserting demo addresses failed")?;
    insert_categories(&mut tx, &shop.categories)
        .await
        .context("inserting demo categories failed")?;
    insert_products(&mut tx, &shop.products)
        .await
        .context("inserting demo products failed")?;
    insert_variants(&mut tx, &shop.products)
        .await
        .context("inserting demo variants failed")?;
    insert_market_prices(&mut tx, &shop.products)
        .await
        .context("inserting demo market prices failed")?;
    insert_opening_stock(&mut tx, &shop.products)
        .await
        .context("inserting opening stock movements failed")?;
    insert_orders(&mut tx, &history.orders)
        .await
        .context("inserting demo orders failed")?;
    insert_order_lines(&mut tx, &history.orders)
        .await
        .context("inserting demo order lines failed")?;
    insert_payments(&mut tx, &history.orders)
        .await
        .context("inserting demo payments failed")?;
    let returns = super::returns::returns_of(&history.orders, shop.ends_at);
    super::returns::insert_returns(&mut tx, &returns)
        .await
        .context("inserting demo returns failed")?;
    super::promotions::insert_promotions(&mut tx, shop)
        .await
        .context("inserting demo promotions failed")?;
    super::segments::insert_segments(&mut tx, shop)
        .await
        .context("inserting demo segments failed")?;
    let ratings = super::reviews::ratings(reviews);
    sqlx::query(
        "UPDATE products p SET rating_count = r.count, rating_sum = r.sum
           FROM UNNEST($1::uuid[], $2::int4[], $3::int8[]) AS r(id, count, sum)
          WHERE p.id = r.id",
    )
    .bind(ratings.keys().copied().collect::<Vec<_>>())
    .bind(
        ratings
            .values()
            .map(|(count, _)| *count)
            .collect::<Vec<_>>(),
    )
    .bind(ratings.values().map(|(_, sum)| *sum).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .context("writing the demo products' ratings failed")?;
    tx.commit()
        .await
        .context("committing the demo data failed")?;
    Ok(true)
}

async fn insert_accounts(
    conn: &mut PgConnection,
    accounts: &[Account],
    hashes: &PasswordHashes,
) -> Result<(), sqlx::Error> {
    for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
        let consent: Vec<Option<bool>> = chunk.iter().map(Account::marketing_consent).collect();
        sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, full_name, role, created_at, updated_at,
                                   marketing_consent, marketing_consent_changed_at)
             SELECT id, email::citext, password_hash, full_name, role::account_role, created_at,
                    created_at, COALESCE(consent, false),
                    CASE WHEN consent IS NOT NULL THEN created_at END
               FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                           $6::timestamptz[], $7::bool[])
                    AS t(id, email, password_hash, full_name, role, created_at, consent)",
        )
        .bind(chunk.iter().map(|a| a.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.email.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| hashes.for_role(a.role)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.full_name.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.role.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.created_at).collect::<Vec<_>>())
        .bind(&consent)
        .execute(&mut *conn)
        .await?;
        // Where the answer came from: the sign-up form, the shop's account page.
        sqlx::query(
            "INSERT INTO marketing_consent_changes (account_id, consent, source, changed_at)
             SELECT id, consent, 'account_page', created_at
               FROM UNNEST($1::uuid[], $2::bool[], $3::timestamptz[]) AS t(id, consent, created_at)
              WHERE consent IS NOT NULL",
        )
        .bind(chunk.iter().map(|a| a.id).collect::<Vec<_>>())
        .bind(&consent)
        .bind(chunk.iter().map(|a| a.created_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn insert_addresses(
    conn: &mut PgConnection,
    addresses: &[Address],
) -> Result<(), sqlx::Error> {
    for chunk in addresses.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO addresses (id, account_id, label, full_name, line1, line2, city,
                                    postal_code, country, phone, is_default, created_at)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                  $11::bool[], $12::timestamptz[])",
        )
        .bind(chunk.iter().map(|a| a.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.account_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.label.as_deref()).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.full_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.line1.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.line2.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.city.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.postal_code.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.country.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|a| a.postal.phone.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|a| a.is_default).collect::<Vec<_>>())
        .bind(chunk.iter().map(|a| a.created_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn insert_categories(
    conn: &mut PgConnection,
    categories: &[Category],
) -> Result<(), sqlx::Error> {
    // Departments come before their sub-categories, so parents exist in every chunk order.
    for chunk in categories.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO categories (id, parent_id, slug, name, position)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int4[])",
        )
        .bind(chunk.iter().map(|c| c.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.parent_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.slug.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.name.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|c| c.position).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn insert_products(conn: &mut PgConnection, products: &[Product]) -> Result<(), sqlx::Error> {
    for chunk in products.chunks(ROWS_PER_STATEMENT) {
        // A text[][] must be rectangular, so each product's image URLs travel as one
        // newline-separated string and are split again in SQL.
        sqlx::query(
            "INSERT INTO products (id, slug, name, description, category_id, status, currency,
                                   image_urls, price_from_minor, in_stock, created_at, updated_at)
             SELECT id, slug, name, description, category_id, 'active', $10,
                    string_to_array(images, E'\\n'), price_from_minor, in_stock, created_at, created_at
               FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[],
                           $7::int8[], $8::bool[], $9::timestamptz[])
                    AS t(id, slug, name, description, category_id, images, price_from_minor,
                         in_stock, created_at)",
        )
        .bind(chunk.iter().map(|p| p.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.description.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.category_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.image_urls.join("\n")).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.price_from_minor).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.in_stock).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.created_at).collect::<Vec<_>>())
        .bind(CURRENCY)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A variant with the product it belongs to.
struct VariantRow<'a> {
    product: &'a Product,
    variant: &'a super::Variant,
}

fn variant_rows(products: &[Product]) -> Vec<VariantRow<'_>> {
    products
        .iter()
        .flat_map(|product| {
            product
                .variants
                .iter()
                .map(move |variant| VariantRow { product, variant })
        })
        .collect()
}

async fn insert_variants(conn: &mut PgConnection, products: &[Product]) -> Result<(), sqlx::Error> {
    for chunk in variant_rows(products).chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO variants (id, product_id, sku, title, options, price_minor,
                                   compare_at_minor, stock_on_hand, status, position,
                                   created_at, updated_at)
             SELECT id, product_id, sku, title, options::jsonb, price_minor, compare_at_minor,
                    stock_on_hand, 'active', position, created_at, created_at
               FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int8[],
                           $7::int8[], $8::int4[], $9::int4[], $10::timestamptz[])
                    AS t(id, product_id, sku, title, options, price_minor, compare_at_minor,
                         stock_on_hand, position, created_at)",
        )
        .bind(chunk.iter().map(|r| r.variant.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.product.id).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.sku.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.title.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.options.to_string())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.price_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.compare_at_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.stock_on_hand)
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|r| r.variant.position).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.product.created_at)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every variant's prices in the other markets' currencies, then every product's listing
/// prices per currency (as `stock::refresh_rollups` keeps them).
async fn insert_market_prices(
    conn: &mut PgConnection,
    products: &[Product],
) -> Result<(), sqlx::Error> {
    let prices: Vec<(Uuid, &str, i64, Option<i64>)> = products
        .iter()
        .flat_map(|product| &product.variants)
        .flat_map(|variant| {
            super::catalog::market_prices(variant)
                .map(|(currency, price, compare_at)| (variant.id, currency, price, compare_at))
        })
        .collect();
    for chunk in prices.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO variant_prices (variant_id, currency, price_minor, compare_at_minor)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int8[])",
        )
        .bind(chunk.iter().map(|p| p.0).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.1).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.2).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.3).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO product_prices (product_id, currency, price_from_minor, compare_at_minor,
                                     in_stock)
         SELECT DISTINCT ON (v.product_id, vp.currency)
                v.product_id, vp.currency, vp.price_minor, vp.compare_at_minor,
                bool_or(v.stock_on_hand > 0) OVER (PARTITION BY v.product_id, vp.currency)
           FROM variants v JOIN variant_currency_prices vp ON vp.variant_id = v.id
          WHERE v.status = 'active' AND v.product_id = ANY($1)
          ORDER BY v.product_id, vp.currency, vp.price_minor, v.position",
    )
    .bind(products.iter().map(|p| p.id).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One `initial` movement per variant with stock: delta and stock after both equal the stock
/// on hand. Rows go in generation order, so the ledger ids are the same on every load into a
/// fresh database.
async fn insert_opening_stock(
    conn: &mut PgConnection,
    products: &[Product],
) -> Result<(), sqlx::Error> {
    let stocked: Vec<VariantRow<'_>> = variant_rows(products)
        .into_iter()
        .filter(|r| r.variant.stock_on_hand > 0)
        .collect();
    for chunk in stocked.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO stock_movements (variant_id, delta, reason, note, stock_after, created_at)
             SELECT variant_id, stock, 'initial', $3, stock, created_at
               FROM UNNEST($1::uuid[], $2::int4[], $4::timestamptz[])
                    WITH ORDINALITY AS t(variant_id, stock, created_at, n)
              ORDER BY n",
        )
        .bind(chunk.iter().map(|r| r.variant.id).collect::<Vec<Uuid>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.variant.stock_on_hand)
                .collect::<Vec<_>>(),
        )
        .bind(OPENING_STOCK_NOTE)
        .bind(
            chunk
                .iter()
                .map(|r| r.product.created_at)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The history's orders were delivered under the shop's default return policy
/// (`returns.window_days` in config/default.toml): the last weeks' can still be returned.
pub(super) const RETURN_WINDOW_DAYS: i32 = 30;

/// Orders numbered in the order they were placed, from the sequence's next number on; the
/// sequence is then set to the last one, so checkout numbers continue after the history.
pub(super) async fn insert_orders(
    conn: &mut PgConnection,
    orders: &[Order],
) -> Result<(), sqlx::Error> {
    if orders.is_empty() {
        return Ok(());
    }
    let first: i64 = sqlx::query_scalar("SELECT nextval('order_number_seq')")
        .fetch_one(&mut *conn)
        .await?;
    let numbers: Vec<i64> = (first..).take(orders.len()).collect();
    for (chunk, numbers) in orders
        .chunks(ROWS_PER_STATEMENT)
        .zip(numbers.chunks(ROWS_PER_STATEMENT))
    {
        sqlx::query(
            "INSERT INTO orders (id, number, account_id, status, currency, subtotal_minor,
                                 discount_minor, shipping_minor, tax_rate_basis_points, tax_minor,
                                 total_minor, refunded_minor, shipping_method, shipping_address,
                                 cancel_reason, tracking_number, placed_at, paid_at, fulfilled_at,
                                 shipped_at, delivered_at, cancelled_at, updated_at,
                                 returnable_until, prices_include_tax, shipping_tax_minor)
             SELECT id, number, account_id, status::order_status, $23, subtotal, discount,
                    shipping, tax_rate, tax, total, refunded, method, address,
                    cancel_reason, tracking, placed_at, paid_at, fulfilled_at, shipped_at,
                    delivered_at, cancelled_at, updated_at,
                    delivered_at + make_interval(days => $24), included, shipping_tax
               FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::text[], $5::int8[],
                           $6::int8[], $7::int8[], $8::int4[], $9::int8[], $10::int8[],
                           $11::int8[], $12::text[], $13::jsonb[], $14::text[], $15::text[],
                           $16::timestamptz[], $17::timestamptz[], $18::timestamptz[],
                           $19::timestamptz[], $20::timestamptz[], $21::timestamptz[],
                           $22::timestamptz[], $25::bool[], $26::int8[])
                    AS t(id, number, account_id, status, subtotal, discount, shipping, tax_rate,
                         tax, total, refunded, method, address, cancel_reason, tracking,
                         placed_at, paid_at, fulfilled_at, shipped_at, delivered_at,
                         cancelled_at, updated_at, included, shipping_tax)",
        )
        .bind(chunk.iter().map(|o| o.id).collect::<Vec<_>>())
        .bind(numbers)
        .bind(chunk.iter().map(|o| o.account_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.status.as_str()).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|o| o.totals.subtotal_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|o| o.totals.discount_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|o| o.totals.shipping_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|o| i32::try_from(o.totals.tax_rate_basis_points).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|o| o.totals.tax_minor).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|o| o.totals.total_minor)
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|o| o.refunded_minor).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|o| o.shipping_method.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|o| sqlx::types::Json(&o.shipping_address))
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|o| o.cancel_reason).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|o| o.tracking_number.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|o| o.placed_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.paid_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.fulfilled_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.shipped_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.delivered_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.cancelled_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|o| o.updated_at).collect::<Vec<_>>())
        .bind(CURRENCY)
        .bind(RETURN_WINDOW_DAYS)
        .bind(
            chunk
                .iter()
                .map(|o| o.totals.prices_include_tax)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|o| o.shipping_tax_minor)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    }
    if let Some(last) = numbers.last() {
        sqlx::query("SELECT setval('order_number_seq', $1)")
            .bind(last)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_order_lines(
    conn: &mut PgConnection,
    orders: &[Order],
) -> Result<(), sqlx::Error> {
    let lines: Vec<(Uuid, i32, &super::OrderLine)> = orders
        .iter()
        .flat_map(|order| {
            (1..)
                .zip(&order.lines)
                .map(move |(number, line)| (order.id, number, line))
        })
        .collect();
    for chunk in lines.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO order_lines (order_id, line_number, variant_id, product_id, sku,
                                      product_name, variant_title, unit_price_minor, quantity,
                                      line_total_minor, code_discount_minor, tax_minor)
             SELECT * FROM UNNEST($1::uuid[], $2::int4[], $3::uuid[], $4::uuid[], $5::text[],
                                  $6::text[], $7::text[], $8::int8[], $9::int4[], $10::int8[],
                                  $11::int8[], $12::int8[])",
        )
        .bind(chunk.iter().map(|(order, _, _)| *order).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(_, number, _)| *number)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.variant_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.product_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.sku.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.product_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.variant_title.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.unit_price_minor)
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|(_, _, l)| l.quantity).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.line_total_minor())
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.code_discount_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, _, l)| l.tax_minor)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_payments(
    conn: &mut PgConnection,
    orders: &[Order],
) -> Result<(), sqlx::Error> {
    let payments: Vec<(Uuid, &super::Payment)> = orders
        .iter()
        .flat_map(|order| order.payments.iter().map(move |p| (order.id, p)))
        .collect();
    for chunk in payments.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(
            "INSERT INTO payments (id, order_id, kind, outcome, amount_minor, provider,
                                   provider_reference, card_brand, card_last4, failure_code,
                                   created_at)
             SELECT id, order_id, kind, outcome, amount, $11, reference, brand, last4,
                    failure, created_at
               FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int8[],
                           $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                    AS t(id, order_id, kind, outcome, amount, reference, brand, last4,
                         failure, created_at)",
        )
        .bind(chunk.iter().map(|(_, p)| p.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(order, _)| *order).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, p)| p.kind).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, p)| p.outcome).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(_, p)| p.amount_minor)
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|(_, p)| p.provider_reference.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|(_, p)| p.card_brand).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, p)| p.card_last4).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|(_, p)| p.failure_code)
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|(_, p)| p.created_at).collect::<Vec<_>>())
        .bind(PAYMENT_PROVIDER)
        .execute(&mut *conn)
        .await?;
    }
    record_at_the_simulated_network(conn, orders).await
}

/// The simulated payment network's own books of the same payments (`payments::simulated`
/// keeps them, as a real provider would on its side): without them the network knows none
/// of the history's charges, and staff could refund no order of the demo.
async fn record_at_the_simulated_network(
    conn: &mut PgConnection,
    orders: &[Order],
) -> Result<(), sqlx::Error> {
    // The payments were written in this transaction: until the planner knows it, it takes
    // the table for empty and joins a chunk's refunds to their charges as a nested loop over
    // every payment — 26 s a chunk, a quarter of an hour for the demo's orders.
    sqlx::query("ANALYZE payments, orders")
        .execute(&mut *conn)
        .await?;
    for chunk in orders.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<Uuid> = chunk.iter().map(|order| order.id).collect();
        sqlx::query(
            "INSERT INTO simulated_provider_charges (order_id, outcome, reference, decline_code,
                                                     amount_minor, currency, card_brand,
                                                     card_last4, created_at)
             SELECT p.order_id,
                    CASE p.outcome WHEN 'succeeded' THEN 'approved' ELSE 'declined' END,
                    p.provider_reference, p.failure_code, p.amount_minor, o.currency,
                    p.card_brand, p.card_last4, p.created_at
               FROM payments p JOIN orders o ON o.id = p.order_id
              WHERE p.order_id = ANY($1) AND p.kind = 'charge'
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO simulated_provider_refunds (refund_id, charge_reference, amount_minor,
                                                     outcome, reference, created_at)
             SELECT r.id, c.provider_reference, r.amount_minor, 'refunded',
                    r.provider_reference, r.created_at
               FROM payments r
               JOIN payments c ON c.order_id = r.order_id AND c.kind = 'charge'
                              AND c.outcome = 'succeeded'
              WHERE r.order_id = ANY($1) AND r.kind = 'refund' AND r.outcome = 'succeeded'
             ON CONFLICT (refund_id) DO NOTHING",
        )
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
