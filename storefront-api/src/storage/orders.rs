//! Orders, payments, idempotent checkout requests and the outbox in PostgreSQL.
//!
//! Stock for an order is taken in the transaction that creates it: the products involved
//! are locked in id order (the catalog's lock order: product, then variant), then each
//! variant is decremented with a conditional update that refuses to go below zero. Nothing
//! here holds a lock while the payment provider is called: placing the order and recording
//! the payment are two transactions.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use storefront_client::staff::orders::OrderNote;

use super::{
    StoreError,
    audit::{self, Entity},
    money,
};
use crate::domain::{
    money::Currency,
    order::{
        OrderStatus, OrderStatusRules, ShippingMethod, Totals,
        views::{Order, OrderLine, OrderSummary, OrderTotals, PaymentAttempt},
    },
};

/// How a checkout request with an Idempotency-Key begins.
pub enum CheckoutStart {
    /// First time: this request does the work.
    Owner,
    /// Done before: answer exactly this.
    Replay { status: u16, body: Value },
    /// Still running in another request.
    InProgress,
    /// The key was used with another body.
    Mismatch,
}

pub async fn start_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &str,
    request_hash: &str,
) -> Result<CheckoutStart, StoreError> {
    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO checkout_requests (account_id, idempotency_key, request_hash)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true AS "inserted!""#,
        account_id,
        key,
        request_hash
    )
    .fetch_optional(db)
    .await?;
    if inserted.is_some() {
        return Ok(CheckoutStart::Owner);
    }
    recorded_checkout(db, account_id, key, request_hash).await
}

/// The state of a checkout request that already exists.
pub async fn recorded_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &str,
    request_hash: &str,
) -> Result<CheckoutStart, StoreError> {
    let row = sqlx::query!(
        r#"SELECT request_hash, response_status, response_body
             FROM checkout_requests WHERE account_id = $1 AND idempotency_key = $2"#,
        account_id,
        key
    )
    .fetch_one(db)
    .await?;
    if row.request_hash != request_hash {
        return Ok(CheckoutStart::Mismatch);
    }
    Ok(match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => CheckoutStart::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        _ => CheckoutStart::InProgress,
    })
}

pub async fn finish_checkout(
    db: &PgPool,
    account_id: Uuid,
    key: &str,
    status: u16,
    body: &Value,
    order_id: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"UPDATE checkout_requests
              SET response_status = $3, response_body = $4, order_id = $5, completed_at = now()
            WHERE account_id = $1 AND idempotency_key = $2"#,
        account_id,
        key,
        i16::try_from(status).unwrap_or(500),
        body,
        order_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Drops a checkout request that failed internally, so that a retry can start over.
pub async fn forget_checkout(db: &PgPool, account_id: Uuid, key: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM checkout_requests WHERE account_id = $1 AND idempotency_key = $2 AND completed_at IS NULL",
        account_id,
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One line to buy: the variant and how many, at the price the checkout quoted.
pub struct LineToBuy {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub variant_title: String,
    pub unit_price_minor: i64,
    pub quantity: i32,
}

pub struct NewOrder<'a> {
    pub account_id: Uuid,
    /// The discount code applied (its id and text as entered), redeemed with the order.
    pub discount_code: Option<(Uuid, &'a str)>,
    pub currency: Currency,
    pub lines: &'a [LineToBuy],
    pub totals: Totals,
    pub shipping_method: ShippingMethod,
    pub shipping_address: Value,
}

/// Why an order could not be placed.
pub enum PlaceError {
    /// Not enough stock (or no longer sold) for this SKU.
    OutOfStock {
        sku: String,
        available: i32,
    },
    /// A price changed between the quote and the order.
    PriceChanged {
        sku: String,
    },
    /// The discount code could no longer be used (its limit was reached meanwhile, …).
    DiscountRejected(crate::domain::order::DiscountRejection),
    Store(StoreError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<StoreError> for PlaceError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

async fn lock_products(
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

async fn refresh_rollups(
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
    Ok(())
}

/// Creates the order as `pending_payment` and takes its stock, or takes nothing.
pub async fn place_order(db: &PgPool, new: &NewOrder<'_>) -> Result<(Uuid, i64), PlaceError> {
    let mut tx = db.begin().await?;
    let product_ids: Vec<Uuid> = new.lines.iter().map(|line| line.product_id).collect();
    lock_products(&mut tx, &product_ids).await?;
    let order_id = Uuid::now_v7();
    let number = sqlx::query_scalar!(
        r#"INSERT INTO orders (id, account_id, currency, subtotal_minor, discount_minor,
                               shipping_minor, tax_rate_basis_points, tax_minor, total_minor,
                               shipping_method, shipping_address, discount_code)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING number"#,
        order_id,
        new.account_id,
        new.currency.code(),
        new.totals.subtotal_minor,
        new.totals.discount_minor,
        new.totals.shipping_minor,
        i32::try_from(new.totals.tax_rate_basis_points).unwrap_or(i32::MAX),
        new.totals.tax_minor,
        new.totals.total_minor,
        new.shipping_method.as_str(),
        new.shipping_address,
        new.discount_code.map(|(_, code)| code),
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some((code_id, _)) = new.discount_code
        && let Err(rejection) =
            super::discounts::redeem(&mut tx, code_id, new.account_id, order_id, new.currency)
                .await?
    {
        return Err(PlaceError::DiscountRejected(rejection));
    }
    let mut lines: Vec<&LineToBuy> = new.lines.iter().collect();
    lines.sort_by_key(|line| line.variant_id);
    for (index, line) in lines.iter().enumerate() {
        let taken = sqlx::query!(
            r#"UPDATE variants v SET stock_on_hand = stock_on_hand - $2, updated_at = now()
                FROM products p
               WHERE v.id = $1 AND p.id = v.product_id
                 AND v.status = 'active' AND p.status = 'active'
                 AND v.stock_on_hand >= $2
           RETURNING v.stock_on_hand, v.price_minor"#,
            line.variant_id,
            line.quantity
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(taken) = taken else {
            let available = sqlx::query_scalar!(
                "SELECT stock_on_hand FROM variants WHERE id = $1",
                line.variant_id
            )
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
            return Err(PlaceError::OutOfStock {
                sku: line.sku.clone(),
                available,
            });
        };
        if taken.price_minor != line.unit_price_minor {
            return Err(PlaceError::PriceChanged {
                sku: line.sku.clone(),
            });
        }
        sqlx::query!(
            r#"INSERT INTO stock_movements (variant_id, delta, reason, stock_after, order_id)
               VALUES ($1, $2, 'sale', $3, $4)"#,
            line.variant_id,
            -line.quantity,
            taken.stock_on_hand,
            order_id
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"INSERT INTO order_lines (order_id, line_number, variant_id, product_id, sku,
                                        product_name, variant_title, unit_price_minor, quantity,
                                        line_total_minor)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
            order_id,
            i32::try_from(index + 1).unwrap_or(i32::MAX),
            line.variant_id,
            line.product_id,
            line.sku,
            line.product_name,
            line.variant_title,
            line.unit_price_minor,
            line.quantity,
            line.unit_price_minor * i64::from(line.quantity),
        )
        .execute(&mut *tx)
        .await?;
    }
    refresh_rollups(&mut tx, &product_ids).await?;
    publish(
        &mut tx,
        "order.placed",
        serde_json::json!({ "order_id": order_id, "number": number }),
    )
    .await?;
    tx.commit().await?;
    Ok((order_id, number))
}

async fn publish(
    tx: &mut Transaction<'_, Postgres>,
    topic: &str,
    payload: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO outbox (topic, payload) VALUES ($1, $2)",
        topic,
        payload
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A payment attempt as recorded.
pub struct PaymentRecord<'a> {
    pub kind: &'a str,
    pub outcome: &'a str,
    pub amount_minor: i64,
    pub provider: &'a str,
    pub provider_reference: Option<&'a str>,
    pub card_brand: &'a str,
    pub card_last4: &'a str,
    pub failure_code: Option<&'a str>,
}

async fn record_payment(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    payment: &PaymentRecord<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO payments (id, order_id, kind, outcome, amount_minor, provider,
                                 provider_reference, card_brand, card_last4, failure_code)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        Uuid::now_v7(),
        order_id,
        payment.kind,
        payment.outcome,
        payment.amount_minor,
        payment.provider,
        payment.provider_reference,
        payment.card_brand,
        payment.card_last4,
        payment.failure_code,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The charge succeeded: the order is paid.
pub async fn mark_paid(
    db: &PgPool,
    order_id: Uuid,
    payment: &PaymentRecord<'_>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let moved = sqlx::query!(
        r#"UPDATE orders SET status = 'paid', paid_at = now(), updated_at = now()
            WHERE id = $1 AND status = 'pending_payment'"#,
        order_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(StoreError::conflict(
            "order_not_pending",
            "The order is no longer awaiting payment.",
        ));
    }
    record_payment(&mut tx, order_id, payment).await?;
    publish(
        &mut tx,
        "order.paid",
        serde_json::json!({ "order_id": order_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A line of an order, as far as stock is concerned.
struct StockLine {
    variant_id: Uuid,
    product_id: Uuid,
    quantity: i32,
}

/// Reads an order's lines and locks their products (in id order), before the order row is
/// touched: the lock order every stock path follows.
async fn lock_order_products(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<Vec<StockLine>, sqlx::Error> {
    let lines = sqlx::query_as!(
        StockLine,
        "SELECT variant_id, product_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY variant_id",
        order_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let product_ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
    lock_products(tx, &product_ids).await?;
    Ok(lines)
}

/// Puts an order's units back on the shelf, one `release` ledger row per line.
async fn return_stock(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    lines: &[StockLine],
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
        sqlx::query!(
            r#"INSERT INTO stock_movements (variant_id, delta, reason, stock_after, order_id, actor_id)
               VALUES ($1, $2, 'release', $3, $4, $5)"#,
            line.variant_id,
            line.quantity,
            stock_after,
            order_id,
            actor_id
        )
        .execute(&mut **tx)
        .await?;
    }
    let product_ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
    refresh_rollups(tx, &product_ids).await
}

/// The charge failed: the order is cancelled and its stock goes back on the shelf.
pub async fn cancel_unpaid(
    db: &PgPool,
    order_id: Uuid,
    reason: &str,
    payment: Option<&PaymentRecord<'_>>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let lines = lock_order_products(&mut tx, order_id).await?;
    let moved = sqlx::query!(
        r#"UPDATE orders SET status = 'cancelled', cancel_reason = $2, cancelled_at = now(),
                             updated_at = now()
            WHERE id = $1 AND status = 'pending_payment'"#,
        order_id,
        reason
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(StoreError::conflict(
            "order_not_pending",
            "The order is no longer awaiting payment.",
        ));
    }
    return_stock(&mut tx, order_id, &lines, None).await?;
    super::discounts::release(&mut tx, order_id).await?;
    if let Some(payment) = payment {
        record_payment(&mut tx, order_id, payment).await?;
    }
    publish(
        &mut tx,
        "order.cancelled",
        serde_json::json!({ "order_id": order_id, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One order; with `account_id`, only if it belongs to that customer.
pub async fn order(
    db: &PgPool,
    order_id: Uuid,
    account_id: Option<Uuid>,
) -> Result<Option<Order>, StoreError> {
    let Some(row) = sqlx::query!(
        r#"SELECT id, number, account_id, status AS "status: OrderStatus", currency,
                  subtotal_minor, discount_minor, shipping_minor, tax_rate_basis_points,
                  tax_minor, total_minor, refunded_minor, shipping_method, shipping_address,
                  cancel_reason, tracking_number, placed_at, paid_at, fulfilled_at, shipped_at,
                  delivered_at, cancelled_at
             FROM orders WHERE id = $1 AND ($2::uuid IS NULL OR account_id = $2)"#,
        order_id,
        account_id
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let currency = row.currency.as_str();
    let lines = sqlx::query!(
        r#"SELECT l.variant_id, l.product_id, p.slug AS product_slug, l.sku, l.product_name,
                  l.variant_title, l.unit_price_minor, l.quantity, l.line_total_minor
             FROM order_lines l JOIN products p ON p.id = l.product_id
            WHERE l.order_id = $1 ORDER BY l.line_number"#,
        order_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|line| OrderLine {
        variant_id: line.variant_id,
        product_id: line.product_id,
        product_slug: line.product_slug,
        sku: line.sku,
        product_name: line.product_name,
        variant_title: line.variant_title,
        unit_price: money(line.unit_price_minor, currency),
        quantity: line.quantity,
        line_total: money(line.line_total_minor, currency),
    })
    .collect();
    let payments = sqlx::query!(
        r#"SELECT kind, outcome, amount_minor, card_brand, card_last4, failure_code, created_at
             FROM payments WHERE order_id = $1 ORDER BY created_at"#,
        order_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|payment| PaymentAttempt {
        kind: payment.kind,
        outcome: payment.outcome,
        amount: money(payment.amount_minor, currency),
        card_brand: payment.card_brand,
        card_last4: payment.card_last4,
        failure_code: payment.failure_code,
        created_at: payment.created_at,
    })
    .collect();
    Ok(Some(Order {
        id: row.id,
        number: row.number,
        account_id: row.account_id,
        status: row.status,
        lines,
        totals: OrderTotals {
            subtotal: money(row.subtotal_minor, currency),
            discount: money(row.discount_minor, currency),
            shipping: money(row.shipping_minor, currency),
            tax_rate_basis_points: row.tax_rate_basis_points,
            tax: money(row.tax_minor, currency),
            total: money(row.total_minor, currency),
            refunded: money(row.refunded_minor, currency),
        },
        shipping_method: row.shipping_method,
        shipping_address: row.shipping_address,
        payments,
        cancel_reason: row.cancel_reason,
        tracking_number: row.tracking_number,
        placed_at: row.placed_at,
        paid_at: row.paid_at,
        fulfilled_at: row.fulfilled_at,
        shipped_at: row.shipped_at,
        delivered_at: row.delivered_at,
        cancelled_at: row.cancelled_at,
    }))
}

/// A customer's orders, newest first: the summary a history page shows.
pub async fn customer_orders(
    db: &PgPool,
    account_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrderSummary>, i64), StoreError> {
    let filter = OrderFilter {
        account_id: Some(account_id),
        ..OrderFilter::default()
    };
    list_orders(db, &filter, limit, offset).await
}

/// Why a staff change of an order was refused.
pub enum OrderChangeError {
    NotFound,
    Illegal(crate::domain::order::IllegalTransition),
    /// The refund is more than what is left to refund.
    OverRefund {
        refundable_minor: i64,
    },
    NotRefundable {
        status: OrderStatus,
    },
    Store(StoreError),
}

impl From<sqlx::Error> for OrderChangeError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// What a staff transition needs besides the target status.
pub struct TransitionInput<'a> {
    pub to: OrderStatus,
    pub tracking_number: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub actor_id: Uuid,
}

/// What a cancellation of a paid order leaves to refund.
pub struct Transitioned {
    /// Amount reserved for refund (a paid order was cancelled); the caller pays it out.
    pub refund_minor: i64,
    pub charge_reference: Option<String>,
}

/// Moves an order along the status machine, restocking when a pending or paid order is
/// cancelled; audited and announced in the same transaction.
pub async fn transition(
    db: &PgPool,
    order_id: Uuid,
    input: &TransitionInput<'_>,
) -> Result<Transitioned, OrderChangeError> {
    let mut tx = db.begin().await?;
    // Lock order: products, then the order (as the payment path does).
    let lines = lock_order_products(&mut tx, order_id).await?;
    let current = sqlx::query!(
        r#"SELECT status AS "status: OrderStatus", tracking_number, total_minor, refunded_minor,
                  paid_at
             FROM orders WHERE id = $1 FOR UPDATE"#,
        order_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(OrderChangeError::NotFound)?;
    current
        .status
        .check_transition(input.to)
        .map_err(OrderChangeError::Illegal)?;
    let refund_minor = if input.to == OrderStatus::Cancelled && current.paid_at.is_some() {
        current.total_minor - current.refunded_minor
    } else {
        0
    };
    sqlx::query!(
        r#"UPDATE orders SET
               status = $2,
               fulfilled_at = CASE WHEN $2 = 'fulfilled'::order_status THEN now() ELSE fulfilled_at END,
               shipped_at = CASE WHEN $2 = 'shipped'::order_status THEN now() ELSE shipped_at END,
               delivered_at = CASE WHEN $2 = 'delivered'::order_status THEN now() ELSE delivered_at END,
               cancelled_at = CASE WHEN $2 = 'cancelled'::order_status THEN now() ELSE cancelled_at END,
               cancel_reason = CASE WHEN $2 = 'cancelled'::order_status THEN $3 ELSE cancel_reason END,
               tracking_number = COALESCE($4, tracking_number),
               refunded_minor = refunded_minor + $5,
               updated_at = now()
           WHERE id = $1"#,
        order_id,
        input.to as OrderStatus,
        input.reason,
        input.tracking_number,
        refund_minor,
    )
    .execute(&mut *tx)
    .await?;
    if input.to == OrderStatus::Cancelled && current.status.restocks_on_cancel() {
        return_stock(&mut tx, order_id, &lines, Some(input.actor_id)).await?;
    }
    let charge_reference = sqlx::query_scalar!(
        r#"SELECT provider_reference FROM payments
            WHERE order_id = $1 AND kind = 'charge' AND outcome = 'succeeded'"#,
        order_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    audit::record(
        &mut tx,
        input.actor_id,
        &format!("order.{}", input.to.as_str()),
        Entity::Order,
        order_id,
        serde_json::json!({ "status": current.status, "tracking_number": current.tracking_number }),
        serde_json::json!({
            "status": input.to,
            "tracking_number": input.tracking_number.or(current.tracking_number.as_deref()),
            "reason": input.reason,
            "refund_reserved_minor": refund_minor,
        }),
    )
    .await?;
    publish(
        &mut tx,
        &format!("order.{}", input.to.as_str()),
        serde_json::json!({ "order_id": order_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(Transitioned {
        refund_minor,
        charge_reference,
    })
}

/// Reserves a refund: checks it fits what was paid and not yet refunded, and counts it as
/// refunded before any money moves, so two concurrent refunds can never give back more than
/// was paid. A full refund of a delivered/paid order makes it `refunded`.
pub async fn reserve_refund(
    db: &PgPool,
    order_id: Uuid,
    amount_minor: i64,
    reason: &str,
    actor_id: Uuid,
) -> Result<Option<String>, OrderChangeError> {
    let mut tx = db.begin().await?;
    let current = sqlx::query!(
        r#"SELECT status AS "status: OrderStatus", total_minor, refunded_minor, paid_at
             FROM orders WHERE id = $1 FOR UPDATE"#,
        order_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(OrderChangeError::NotFound)?;
    let refundable_status = current.status.is_refundable()
        || (current.status == OrderStatus::Cancelled && current.paid_at.is_some());
    if !refundable_status {
        return Err(OrderChangeError::NotRefundable {
            status: current.status,
        });
    }
    let refundable_minor = current.total_minor - current.refunded_minor;
    if amount_minor > refundable_minor {
        return Err(OrderChangeError::OverRefund { refundable_minor });
    }
    let full = amount_minor == refundable_minor && current.status.is_refundable();
    let status = if full {
        OrderStatus::Refunded
    } else {
        current.status
    };
    sqlx::query!(
        r#"UPDATE orders SET refunded_minor = refunded_minor + $2, status = $3, updated_at = now()
            WHERE id = $1"#,
        order_id,
        amount_minor,
        status as OrderStatus
    )
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx,
        actor_id,
        "order.refund",
        Entity::Order,
        order_id,
        serde_json::json!({ "status": current.status, "refunded_minor": current.refunded_minor }),
        serde_json::json!({ "status": status, "refunded_minor": current.refunded_minor + amount_minor, "reason": reason }),
    )
    .await?;
    publish(
        &mut tx,
        "order.refunded",
        serde_json::json!({ "order_id": order_id, "amount_minor": amount_minor }),
    )
    .await?;
    let charge_reference = sqlx::query_scalar!(
        r#"SELECT provider_reference FROM payments
            WHERE order_id = $1 AND kind = 'charge' AND outcome = 'succeeded'"#,
        order_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    tx.commit().await?;
    Ok(charge_reference)
}

/// Records how a reserved refund went at the provider; a failed one is taken back.
pub async fn settle_refund(
    db: &PgPool,
    order_id: Uuid,
    amount_minor: i64,
    payment: &PaymentRecord<'_>,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    record_payment(&mut tx, order_id, payment).await?;
    if payment.outcome != "succeeded" {
        let restored = sqlx::query_scalar!(
            r#"UPDATE orders SET refunded_minor = refunded_minor - $2,
                   status = CASE WHEN status = 'refunded'
                                 THEN (CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                                            WHEN shipped_at IS NOT NULL THEN 'shipped'
                                            WHEN fulfilled_at IS NOT NULL THEN 'fulfilled'
                                            ELSE 'paid' END)::order_status
                                 ELSE status END,
                   updated_at = now()
             WHERE id = $1 RETURNING status AS "status: OrderStatus""#,
            order_id,
            amount_minor
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor_id,
            "order.refund_failed",
            Entity::Order,
            order_id,
            serde_json::Value::Null,
            serde_json::json!({ "status": restored, "amount_minor": amount_minor }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn add_note(
    db: &PgPool,
    order_id: Uuid,
    author_id: Uuid,
    body: &str,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query_scalar!("SELECT id FROM orders WHERE id = $1", order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("order"))?;
    sqlx::query!(
        "INSERT INTO order_notes (id, order_id, author_id, body) VALUES ($1, $2, $3, $4)",
        Uuid::now_v7(),
        order_id,
        author_id,
        body
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        author_id,
        "order.note",
        Entity::Order,
        order_id,
        Value::Null,
        serde_json::json!({ "note": body }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn notes(db: &PgPool, order_id: Uuid) -> Result<Vec<OrderNote>, StoreError> {
    Ok(sqlx::query_as!(
        OrderNote,
        "SELECT author_id, body, created_at FROM order_notes WHERE order_id = $1 ORDER BY created_at",
        order_id
    )
    .fetch_all(db)
    .await?)
}

/// Filters of the staff order list.
#[derive(Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub placed_from: Option<chrono::DateTime<chrono::Utc>>,
    pub placed_to: Option<chrono::DateTime<chrono::Utc>>,
    pub account_id: Option<Uuid>,
    pub min_total_minor: Option<i64>,
    pub max_total_minor: Option<i64>,
}

pub async fn list_orders(
    db: &PgPool,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrderSummary>, i64), StoreError> {
    let rows = sqlx::query!(
        r#"SELECT o.id, o.number, o.status AS "status: OrderStatus", o.currency, o.total_minor,
                  o.placed_at,
                  (SELECT COALESCE(sum(quantity), 0) FROM order_lines WHERE order_id = o.id)
                      AS "item_count!",
                  count(*) OVER () AS "total!"
             FROM orders o
            WHERE ($1::order_status IS NULL OR o.status = $1)
              AND ($2::timestamptz IS NULL OR o.placed_at >= $2)
              AND ($3::timestamptz IS NULL OR o.placed_at < $3)
              AND ($4::uuid IS NULL OR o.account_id = $4)
              AND ($5::bigint IS NULL OR o.total_minor >= $5)
              AND ($6::bigint IS NULL OR o.total_minor <= $6)
            ORDER BY o.placed_at DESC, o.id DESC
            LIMIT $7 OFFSET $8"#,
        filter.status as Option<OrderStatus>,
        filter.placed_from,
        filter.placed_to,
        filter.account_id,
        filter.min_total_minor,
        filter.max_total_minor,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    Ok((
        rows.into_iter()
            .map(|row| OrderSummary {
                id: row.id,
                number: row.number,
                status: row.status,
                total: money(row.total_minor, &row.currency),
                item_count: row.item_count,
                placed_at: row.placed_at,
            })
            .collect(),
        total,
    ))
}
