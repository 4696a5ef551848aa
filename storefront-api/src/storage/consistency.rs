//! The consistency check operators run (`storefront-api check`) and the crash tests assert:
//! every rule an order, its payments and the stock ledger keep together, as one query each
//! that lists the rows breaking it. A healthy shop at rest breaks none.

use sqlx::PgPool;

use super::StoreError;

/// One rule and the rows that break it.
pub struct Finding {
    pub rule: &'static str,
    /// How many rows break it, and the first few of them.
    pub count: usize,
    pub examples: Vec<String>,
}

/// The rules, each a query returning one identifying text per row that breaks it.
const RULES: &[(&str, &str)] = &[
    (
        "every order has lines",
        "SELECT o.number::text FROM orders o
          WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
    ),
    (
        "an order's subtotal is the sum of its lines",
        "SELECT o.number::text FROM orders o
          WHERE o.subtotal_minor <> (SELECT COALESCE(sum(l.line_total_minor), 0)
                                       FROM order_lines l WHERE l.order_id = o.id)",
    ),
    (
        "an order's discount and tax are the sums of its lines' (and shipping's tax)",
        "SELECT o.number::text FROM orders o
          CROSS JOIN LATERAL (SELECT sum(l.promotion_discount_minor + l.code_discount_minor)
                                       AS discount,
                                     sum(l.tax_minor) AS tax,
                                     count(*) FILTER (WHERE l.tax_minor IS NULL
                                                         OR l.code_discount_minor IS NULL)
                                       AS untaxed
                                FROM order_lines l WHERE l.order_id = o.id) lines
          WHERE o.shipping_tax_minor IS NOT NULL
            AND (lines.untaxed > 0
                 OR o.discount_minor IS DISTINCT FROM lines.discount
                 OR o.tax_minor IS DISTINCT FROM lines.tax + o.shipping_tax_minor)",
    ),
    (
        "a paid order has exactly one successful charge, of its total",
        "SELECT o.number::text FROM orders o
          WHERE o.status IN ('paid', 'fulfilled', 'shipped', 'delivered', 'refunded')
            AND (SELECT count(*) FILTER (WHERE p.amount_minor = o.total_minor) <> 1 OR count(*) <> 1
                   FROM payments p
                  WHERE p.order_id = o.id AND p.kind = 'charge' AND p.outcome = 'succeeded')",
    ),
    (
        "an order awaiting payment has not been charged",
        "SELECT o.number::text FROM orders o
          WHERE o.status = 'pending_payment'
            AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id
                           AND p.kind = 'charge' AND p.outcome = 'succeeded')",
    ),
    (
        "a cancelled order keeps no money (a pending refund is on its way back)",
        "SELECT o.number::text FROM orders o
          WHERE o.status = 'cancelled'
            AND (SELECT COALESCE(sum(p.amount_minor)
                          FILTER (WHERE p.kind = 'charge' AND p.outcome = 'succeeded'), 0)
                      - COALESCE(sum(p.amount_minor)
                          FILTER (WHERE p.kind = 'refund' AND p.outcome IN ('succeeded', 'pending')), 0)
                   FROM payments p WHERE p.order_id = o.id) <> 0",
    ),
    (
        "an order's refunded amount is the sum of its successful and pending refunds",
        "SELECT o.number::text FROM orders o
          WHERE o.refunded_minor <> (SELECT COALESCE(sum(p.amount_minor), 0) FROM payments p
                                      WHERE p.order_id = o.id AND p.kind = 'refund'
                                        AND p.outcome IN ('succeeded', 'pending'))",
    ),
    (
        "no refund is left pending (the reaper asks the provider again within a sweep)",
        "SELECT p.id::text FROM payments p
          WHERE p.outcome = 'pending' AND p.settle_after < now() - interval '5 minutes'",
    ),
    (
        "an order's sale took exactly its lines' quantities from stock",
        // Orders placed by checkout take their stock in their own transaction, so they
        // always have movements; the demo's history orders were loaded without any.
        "SELECT o.number::text FROM orders o
          WHERE EXISTS (SELECT 1 FROM stock_movements m WHERE m.order_id = o.id)
            AND (SELECT COALESCE(sum(m.delta), 0) FROM stock_movements m
                  WHERE m.order_id = o.id AND m.reason = 'sale')
             <> -(SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id)",
    ),
    (
        "an order cancelled unpaid has all its stock back on the shelf",
        "SELECT o.number::text FROM orders o
          WHERE o.status = 'cancelled' AND o.paid_at IS NULL
            AND (SELECT COALESCE(sum(m.delta), 0) FROM stock_movements m
                  WHERE m.order_id = o.id) <> 0",
    ),
    (
        "a variant's stock movements sum to its stock on hand",
        "SELECT v.sku FROM variants v
          WHERE v.stock_on_hand <> COALESCE(
                (SELECT sum(m.delta) FROM stock_movements m WHERE m.variant_id = v.id), 0)",
    ),
    (
        "no order line is in returns (not refused) for more units than were sold",
        "SELECT o.number::text || ' line ' || l.line_number FROM order_lines l
           JOIN orders o ON o.id = l.order_id
          WHERE l.quantity < (SELECT COALESCE(sum(rl.quantity), 0) FROM return_lines rl
                                JOIN returns r ON r.id = rl.return_id
                               WHERE rl.order_id = l.order_id AND rl.line_number = l.line_number
                                 AND r.status <> 'refused')",
    ),
    (
        "a return put back on the shelf exactly the units of its restocked lines",
        "SELECT r.number::text FROM returns r
          WHERE (SELECT COALESCE(sum(rl.quantity), 0) FROM return_lines rl
                  WHERE rl.return_id = r.id AND rl.restocked)
             <> (SELECT COALESCE(sum(m.delta), 0) FROM stock_movements m
                  WHERE m.order_id = r.order_id AND m.reason = 'returned'
                    AND m.note = 'return ' || r.number)",
    ),
    (
        "a refunded return's refund is among its order's refunds, of its amount",
        "SELECT r.number::text FROM returns r
          WHERE r.refund_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM payments p
                             WHERE p.id = r.refund_id AND p.order_id = r.order_id
                               AND p.kind = 'refund' AND p.amount_minor = r.refund_minor
                               AND p.outcome IN ('succeeded', 'pending'))",
    ),
    (
        "no checkout is left interrupted (the reaper settles them within a sweep)",
        "SELECT r.idempotency_key FROM checkout_requests r
          WHERE r.completed_at IS NULL AND r.lease_expires_at < now() - interval '5 minutes'",
    ),
    (
        "no order awaits payment past its checkout (settled by the reaper)",
        "SELECT o.number::text FROM orders o
          WHERE o.status = 'pending_payment' AND o.placed_at < now() - interval '10 minutes'",
    ),
];

/// How many rows of each rule to name.
const EXAMPLES: usize = 5;

/// Runs every rule; the findings come in the rules' order, broken or not.
pub async fn check(db: &PgPool) -> Result<Vec<Finding>, StoreError> {
    let mut findings = Vec::with_capacity(RULES.len());
    for (rule, query) in RULES {
        let rows: Vec<String> = sqlx::query_scalar(query).fetch_all(db).await?;
        findings.push(Finding {
            rule,
            count: rows.len(),
            examples: rows.into_iter().take(EXAMPLES).collect(),
        });
    }
    Ok(findings)
}
