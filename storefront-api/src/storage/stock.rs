//! Stock in PostgreSQL: the one owner of how `variants.stock_on_hand` changes, for staff
//! adjustments, new variants, sales and cancellations alike.
//!
//! Invariants kept here:
//! - **Lock order**: product rows first (in id order, each in its own statement), then
//!   variant rows. Two transactions touching the same products can therefore never deadlock,
//!   and the roll-up recomputed afterwards sees every committed variant write (a subquery
//!   snapshot taken before waiting on a lock would not).
//! - **No oversell**: stock only goes down through a conditional update that refuses to go
//!   below zero; a refused update changes nothing.
//! - **The ledger**: every change of `stock_on_hand` writes one `stock_movements` row in the
//!   same transaction, so a variant's movements always sum to its stock on hand
//!   (`ledger_mismatches` checks it).
//! - **The listing roll-ups** (`products.price_from_minor`, `products.in_stock`) are recomputed
//!   from the active variants in the same transaction as every variant write.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{
    catalog::{LOW_STOCK_THRESHOLD, StockReason, views::StockMovement},
    money::Currency,
};

/// Locks the product rows of `product_ids` in id order (duplicates allowed, missing ids
/// ignored). Every write to a product's variants takes these locks first.
pub async fn lock_products(
    tx: &mut Transaction<'_, Postgres>,
    product_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    let mut ids = product_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query!(
        "SELECT id FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &ids
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(())
}

/// Locks one product row; a product that does not exist is `NotFound`.
pub async fn lock_product(
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
pub async fn product_of_variant(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
) -> Result<Uuid, StoreError> {
    sqlx::query_scalar!("SELECT product_id FROM variants WHERE id = $1", variant_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("variant"))
}

/// Recomputes the listing roll-ups of products from their active variants. Call it after
/// the variant writes, with the products locked.
pub async fn refresh_rollups(
    tx: &mut Transaction<'_, Postgres>,
    product_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE products p SET
               price_from_minor = (SELECT min(price_minor) FROM variants
                                    WHERE product_id = p.id AND status = 'active'),
               in_stock = COALESCE((SELECT bool_or(stock_on_hand > 0) FROM variants
                                     WHERE product_id = p.id AND status = 'active'), false),
               updated_at = now()
             WHERE p.id = ANY($1)"#,
        product_ids
    )
    .execute(&mut **tx)
    .await?;
    // The same per currency a product is sold in (in stock there: a variant priced in it has
    // stock). Rows that did not change are not written, and currencies no active variant is
    // priced in go.
    sqlx::query!(
        r#"WITH fresh AS (
               SELECT DISTINCT ON (v.product_id, vp.currency)
                      v.product_id, vp.currency, vp.price_minor, vp.compare_at_minor,
                      bool_or(v.stock_on_hand > 0)
                          OVER (PARTITION BY v.product_id, vp.currency) AS in_stock
                 FROM variants v JOIN variant_currency_prices vp ON vp.variant_id = v.id
                WHERE v.product_id = ANY($1) AND v.status = 'active'
                ORDER BY v.product_id, vp.currency, vp.price_minor, v.position
           ),
           gone AS (
               DELETE FROM product_prices pp
                WHERE pp.product_id = ANY($1)
                  AND NOT EXISTS (SELECT 1 FROM fresh f
                                   WHERE f.product_id = pp.product_id AND f.currency = pp.currency)
           )
           INSERT INTO product_prices (product_id, currency, price_from_minor, compare_at_minor,
                                       in_stock)
           SELECT product_id, currency, price_minor, compare_at_minor, in_stock FROM fresh
           ON CONFLICT (product_id, currency) DO UPDATE
              SET price_from_minor = EXCLUDED.price_from_minor,
                  compare_at_minor = EXCLUDED.compare_at_minor,
                  in_stock = EXCLUDED.in_stock
            WHERE (product_prices.price_from_minor, product_prices.compare_at_minor,
                   product_prices.in_stock)
                  IS DISTINCT FROM (EXCLUDED.price_from_minor, EXCLUDED.compare_at_minor,
                                    EXCLUDED.in_stock)"#,
        product_ids
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One ledger row: what changed a variant's stock, by how much, and what it left.
pub struct Movement<'a> {
    pub variant_id: Uuid,
    pub delta: i32,
    pub reason: StockReason,
    pub note: Option<&'a str>,
    pub stock_after: i32,
    /// The order whose sale or cancellation moved the stock.
    pub order_id: Option<Uuid>,
    /// The staff member who moved it (none for a shopper's checkout).
    pub actor_id: Option<Uuid>,
}

/// Writes a ledger row, and announces `stock.low` when the change took the variant down to
/// the low-stock threshold (once per crossing, not on every sale below it); call it in the
/// transaction that changed the stock.
pub async fn record(
    tx: &mut Transaction<'_, Postgres>,
    movement: &Movement<'_>,
) -> Result<StockMovement, sqlx::Error> {
    let recorded = sqlx::query_as!(
        StockMovement,
        r#"INSERT INTO stock_movements (variant_id, delta, reason, note, stock_after, order_id,
                                        actor_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, variant_id, delta, reason, note, stock_after, actor_id, created_at"#,
        movement.variant_id,
        movement.delta,
        movement.reason.as_str(),
        movement.note,
        movement.stock_after,
        movement.order_id,
        movement.actor_id,
    )
    .fetch_one(&mut **tx)
    .await?;
    announce_if_low(
        tx,
        movement.variant_id,
        movement.stock_after - movement.delta,
        movement.stock_after,
    )
    .await?;
    Ok(recorded)
}

/// Announces `stock.low` when a change took a variant from `before` down to the low-stock
/// threshold (once per crossing, not on every sale below it).
pub async fn announce_if_low(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
    before: i32,
    stock_after: i32,
) -> Result<(), sqlx::Error> {
    if stock_after > LOW_STOCK_THRESHOLD || before <= LOW_STOCK_THRESHOLD {
        return Ok(());
    }
    let variant = sqlx::query!(
        "SELECT v.sku, v.product_id, p.name AS product_name
           FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1",
        variant_id
    )
    .fetch_one(&mut **tx)
    .await?;
    super::outbox::publish(
        tx,
        "stock.low",
        serde_json::json!({
            "variant_id": variant_id,
            "sku": variant.sku,
            "product_id": variant.product_id,
            "product_name": variant.product_name,
            "stock_on_hand": stock_after,
            "threshold": LOW_STOCK_THRESHOLD,
        }),
    )
    .await
}

/// What a sale took: the stock left and the variant's price in the sale's currency.
pub struct Taken {
    pub stock_on_hand: i32,
    pub price_minor: Option<i64>,
}

/// Takes `quantity` units of an active variant of an active product for a sale, or nothing
/// when fewer are on hand (`None`), with its price now in the sale's `currency` (`None` when
/// it has none there). The caller locked the product and writes the ledger row.
pub async fn take_for_sale(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
    quantity: i32,
    currency: Currency,
) -> Result<Option<Taken>, sqlx::Error> {
    sqlx::query_as!(
        Taken,
        r#"UPDATE variants v SET stock_on_hand = stock_on_hand - $2, updated_at = now()
                FROM products p
               WHERE v.id = $1 AND p.id = v.product_id
                 AND v.status = 'active' AND p.status = 'active'
                 AND v.stock_on_hand >= $2
           RETURNING v.stock_on_hand,
                     (SELECT vp.price_minor FROM variant_currency_prices vp
                       WHERE vp.variant_id = v.id AND vp.currency = $3) AS "price_minor?""#,
        variant_id,
        quantity,
        currency.code(),
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Stock on hand of a variant (for the message of a refused change).
pub async fn on_hand(
    tx: &mut Transaction<'_, Postgres>,
    variant_id: Uuid,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT stock_on_hand FROM variants WHERE id = $1",
        variant_id
    )
    .fetch_optional(&mut **tx)
    .await
}

/// A line of an order, as far as stock is concerned.
pub struct OrderStock {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i32,
}

/// Puts an order's units back on the shelf, one `release` ledger row per line, and refreshes
/// the roll-ups. The caller locked the lines' products (`lock_products`) before touching the
/// order row.
pub async fn return_to_shelf(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    lines: &[OrderStock],
    actor_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    for line in lines {
        let stock_after = sqlx::query_scalar!(
            r#"UPDATE variants SET stock_on_hand = stock_on_hand + $2, updated_at = now()
                WHERE id = $1 RETURNING stock_on_hand"#,
            line.variant_id,
            line.quantity
        )
        .fetch_one(&mut **tx)
        .await?;
        record(
            tx,
            &Movement {
                variant_id: line.variant_id,
                delta: line.quantity,
                reason: StockReason::Release,
                note: None,
                stock_after,
                order_id: Some(order_id),
                actor_id,
            },
        )
        .await?;
    }
    let product_ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
    refresh_rollups(tx, &product_ids).await
}

/// Applies a staff stock change atomically: the conditional update refuses to go below zero,
/// and the ledger row is written in the same transaction.
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
        let on_hand = on_hand(&mut tx, variant_id)
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
    let movement = record(
        &mut tx,
        &Movement {
            variant_id,
            delta,
            reason,
            note,
            stock_after: updated.stock_on_hand,
            order_id: None,
            actor_id,
        },
    )
    .await?;
    refresh_rollups(&mut tx, &[updated.product_id]).await?;
    tx.commit().await?;
    Ok(movement)
}

/// A variant's ledger, newest first.
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
