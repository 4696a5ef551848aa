//! Reading orders: one order with its lines, payments and history; a customer's orders;
//! the staff's filtered list; the staff's notes.

use sqlx::PgPool;
use storefront_client::staff::orders::OrderNote;
use uuid::Uuid;

use crate::domain::order::{
    OrderStatus,
    views::{Order, OrderLine, OrderSummary, OrderTotals, PaymentAttempt},
};
use crate::storage::{StoreError, money};

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
                  delivered_at, cancelled_at, returnable_until, prices_include_tax,
                  shipping_tax_minor
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
        r#"SELECT l.line_number, l.variant_id, l.product_id, p.slug AS product_slug, l.sku, l.product_name,
                  l.variant_title, l.unit_price_minor, l.quantity, l.line_total_minor,
                  l.promotion_discount_minor, l.code_discount_minor, l.tax_minor
             FROM order_lines l JOIN products p ON p.id = l.product_id
            WHERE l.order_id = $1 ORDER BY l.line_number"#,
        order_id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|line| OrderLine {
        line_number: line.line_number,
        variant_id: line.variant_id,
        product_id: line.product_id,
        product_slug: line.product_slug,
        sku: line.sku,
        product_name: line.product_name,
        variant_title: line.variant_title,
        unit_price: money(line.unit_price_minor, currency),
        quantity: line.quantity,
        line_total: money(line.line_total_minor, currency),
        promotion_discount_minor: line.promotion_discount_minor,
        code_discount_minor: line.code_discount_minor,
        tax_minor: line.tax_minor,
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
            prices_include_tax: row.prices_include_tax,
            tax: money(row.tax_minor, currency),
            shipping_tax: row.shipping_tax_minor.map(|amount| money(amount, currency)),
            total: money(row.total_minor, currency),
            refunded: money(row.refunded_minor, currency),
        },
        shipping_method: row.shipping_method,
        shipping_address: serde_json::from_value(row.shipping_address).map_err(|error| {
            StoreError::Corrupt(format!("order {}: shipping address: {error}", row.id))
        })?,
        payments,
        cancel_reason: row.cancel_reason,
        tracking_number: row.tracking_number,
        placed_at: row.placed_at,
        paid_at: row.paid_at,
        fulfilled_at: row.fulfilled_at,
        shipped_at: row.shipped_at,
        delivered_at: row.delivered_at,
        cancelled_at: row.cancelled_at,
        returnable_until: row.returnable_until,
        returns: crate::storage::returns::of_order(db, order_id, currency).await?,
        promotions: crate::storage::promotions::of_order(db, order_id).await?,
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

/// Every order of a customer in full, oldest first (their data export).
pub async fn all_customer_orders(db: &PgPool, account_id: Uuid) -> Result<Vec<Order>, StoreError> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM orders WHERE account_id = $1 ORDER BY placed_at, id",
        account_id
    )
    .fetch_all(db)
    .await?;
    let mut orders = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(order) = order(db, id, Some(account_id)).await? {
            orders.push(order);
        }
    }
    Ok(orders)
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
