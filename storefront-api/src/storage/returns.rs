//! Returns in PostgreSQL: a customer's request checked against the order under its row lock
//! (never more units than were sold, less those other returns hold), staff's steps each a
//! conditional move of the return's status under its row lock (so a double click or two staff
//! at once take a step once), goods back on the shelf through the stock ledger, and the refund
//! reserved on the order like any refund (never more than was paid).
//!
//! Lock order, as every stock path: products, then the return, then the order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::returns::{OrderReturn, ReturnLine};
use storefront_client::staff::returns::StaffReturnSummary;
use uuid::Uuid;

use super::orders::{OrderChangeError, RefundDue, RefundTerms, reserve_refund_in};
use crate::domain::{
    catalog::StockReason,
    order::OrderStatus,
    returns::{
        NewReturn, PaidTotals, RefundedBefore, ReturnReason, ReturnStatus, ReturnStep, StepRefused,
        refund_of_return, sold_for,
    },
};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    money,
    outbox::publish,
    stock,
};

/// Why a return request or a step was refused.
pub enum ReturnError {
    /// No such order of this customer, or no such return.
    NotFound(&'static str),
    /// Only a delivered order can be returned.
    NotReturnable {
        status: OrderStatus,
    },
    /// The order's return window has closed (or it was never delivered).
    WindowClosed {
        until: Option<DateTime<Utc>>,
    },
    /// The request names a line the order does not have (its index in the request).
    UnknownLine {
        index: usize,
        line_number: i32,
    },
    /// A receipt names a line the return does not have.
    NotInReturn {
        line_number: i32,
    },
    /// More units than are left to return of a line.
    ExceedsOrder {
        line_number: i32,
        returnable: i32,
    },
    /// The step does not apply to the return's status (most often: it was taken already).
    Step(StepRefused),
    /// A refund larger than what the return is worth back.
    ExceedsDue {
        refund_due_minor: i64,
    },
    /// The order refused the refund (more than is left to refund, no charge…).
    Order(OrderChangeError),
    Store(StoreError),
}

impl From<sqlx::Error> for ReturnError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<OrderChangeError> for ReturnError {
    fn from(error: OrderChangeError) -> Self {
        Self::Order(error)
    }
}

/// Records a customer's request to return lines of their delivered order, within its return
/// window; audited on the order and announced (`return.requested`) in the same transaction.
pub async fn request(
    db: &PgPool,
    order_id: Uuid,
    account_id: Uuid,
    new: &NewReturn,
) -> Result<Uuid, ReturnError> {
    let mut tx = db.begin().await?;
    let order = sqlx::query!(
        r#"SELECT status AS "status: OrderStatus", returnable_until,
                  COALESCE(returnable_until > now(), false) AS "open!"
             FROM orders WHERE id = $1 AND account_id = $2 FOR UPDATE"#,
        order_id,
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ReturnError::NotFound("order"))?;
    if order.status != OrderStatus::Delivered {
        return Err(ReturnError::NotReturnable {
            status: order.status,
        });
    }
    if !order.open {
        return Err(ReturnError::WindowClosed {
            until: order.returnable_until,
        });
    }
    let returnable: BTreeMap<i32, i32> = returnable_units(&mut tx, order_id).await?;
    for (index, (line_number, quantity, _)) in new.lines.iter().enumerate() {
        let Some(&left) = returnable.get(line_number) else {
            return Err(ReturnError::UnknownLine {
                index,
                line_number: *line_number,
            });
        };
        if *quantity > left {
            return Err(ReturnError::ExceedsOrder {
                line_number: *line_number,
                returnable: left,
            });
        }
    }
    let return_id = Uuid::now_v7();
    let number = sqlx::query_scalar!(
        "INSERT INTO returns (id, order_id, customer_note) VALUES ($1, $2, $3) RETURNING number",
        return_id,
        order_id,
        new.note
    )
    .fetch_one(&mut *tx)
    .await?;
    let line_numbers: Vec<i32> = new.lines.iter().map(|line| line.0).collect();
    let quantities: Vec<i32> = new.lines.iter().map(|line| line.1).collect();
    let reasons: Vec<&str> = new.lines.iter().map(|line| line.2.as_str()).collect();
    sqlx::query!(
        r#"INSERT INTO return_lines (return_id, order_id, line_number, quantity, reason)
           SELECT $1, $2, * FROM UNNEST($3::int[], $4::int[], $5::text[])"#,
        return_id,
        order_id,
        &line_numbers,
        &quantities,
        &reasons as &[&str],
    )
    .execute(&mut *tx)
    .await?;
    let lines: Vec<_> = new
        .lines
        .iter()
        .map(|(line_number, quantity, reason)| {
            json!({ "line_number": line_number, "quantity": quantity, "reason": reason })
        })
        .collect();
    audit::record(
        &mut tx,
        account_id,
        "return.requested",
        Entity::Order,
        order_id,
        serde_json::Value::Null,
        json!({ "return_id": return_id, "number": number, "lines": lines, "note": new.note }),
    )
    .await?;
    announce(&mut tx, ReturnStatus::Requested, order_id, return_id).await?;
    tx.commit().await?;
    Ok(return_id)
}

/// Units of each line of an order still returnable: sold, less those held by returns that
/// were not refused. The caller holds the order's row lock.
async fn returnable_units(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<BTreeMap<i32, i32>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT l.line_number,
                  l.quantity - COALESCE((SELECT SUM(rl.quantity) FROM return_lines rl
                                           JOIN returns r ON r.id = rl.return_id
                                          WHERE rl.order_id = l.order_id
                                            AND rl.line_number = l.line_number
                                            AND r.status <> 'refused'), 0)::int AS "left!"
             FROM order_lines l WHERE l.order_id = $1"#,
        order_id
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.line_number, row.left))
        .collect())
}

/// What a staff step needs besides the step itself.
pub struct StepInput<'a> {
    pub actor_id: Uuid,
    /// For a refusal: why, as the customer is told.
    pub refusal_reason: Option<&'a str>,
    /// For a receipt: `(line number, back on the shelf?)` for the lines staff named; a line
    /// not named goes back on the shelf.
    pub receipt: &'a [(i32, bool)],
}

/// Approves, refuses or receives a return — once: the step is a conditional move of the
/// return's status under its row lock. Receiving puts each line's units back on the shelf
/// (a `returned` stock movement) unless written off. Audited on the order and announced.
/// Returns the order's id.
pub async fn take_step(
    db: &PgPool,
    return_id: Uuid,
    step: ReturnStep,
    input: &StepInput<'_>,
) -> Result<Uuid, ReturnError> {
    debug_assert!(
        step != ReturnStep::Refund,
        "refunds go through reserve_refund"
    );
    let mut tx = db.begin().await?;
    // Products first (the lock order of every stock path), then the return.
    let lines = sqlx::query!(
        r#"SELECT rl.line_number, rl.quantity, l.variant_id, l.product_id
             FROM return_lines rl
             JOIN order_lines l ON l.order_id = rl.order_id AND l.line_number = rl.line_number
            WHERE rl.return_id = $1 ORDER BY l.variant_id"#,
        return_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if step == ReturnStep::Receive {
        let products: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
        stock::lock_products(&mut tx, &products).await?;
    }
    let current = sqlx::query!(
        r#"SELECT order_id, number, status AS "status: ReturnStatus"
             FROM returns WHERE id = $1 FOR UPDATE"#,
        return_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ReturnError::NotFound("return"))?;
    let to = step.check(current.status).map_err(ReturnError::Step)?;
    if let Some(&(line_number, _)) = input
        .receipt
        .iter()
        .find(|(n, _)| !lines.iter().any(|line| line.line_number == *n))
    {
        return Err(ReturnError::NotInReturn { line_number });
    }
    sqlx::query!(
        r#"UPDATE returns SET
               status = $2,
               approved_at = CASE WHEN $2 = 'approved'::return_status THEN now() ELSE approved_at END,
               refused_at = CASE WHEN $2 = 'refused'::return_status THEN now() ELSE refused_at END,
               received_at = CASE WHEN $2 = 'received'::return_status THEN now() ELSE received_at END,
               refusal_reason = COALESCE($3, refusal_reason),
               updated_at = now()
           WHERE id = $1"#,
        return_id,
        to as ReturnStatus,
        input.refusal_reason,
    )
    .execute(&mut *tx)
    .await?;
    let mut restocked = Vec::new();
    if step == ReturnStep::Receive {
        for line in &lines {
            let restock = !input
                .receipt
                .iter()
                .any(|&(n, back)| n == line.line_number && !back);
            sqlx::query!(
                "UPDATE return_lines SET restocked = $3 WHERE return_id = $1 AND line_number = $2",
                return_id,
                line.line_number,
                restock
            )
            .execute(&mut *tx)
            .await?;
            if !restock {
                continue;
            }
            let stock_after = sqlx::query_scalar!(
                r#"UPDATE variants SET stock_on_hand = stock_on_hand + $2, updated_at = now()
                    WHERE id = $1 RETURNING stock_on_hand"#,
                line.variant_id,
                line.quantity
            )
            .fetch_one(&mut *tx)
            .await?;
            let note = format!("return {}", current.number);
            stock::record(
                &mut tx,
                &stock::Movement {
                    variant_id: line.variant_id,
                    delta: line.quantity,
                    reason: StockReason::Returned,
                    note: Some(&note),
                    stock_after,
                    order_id: Some(current.order_id),
                    actor_id: Some(input.actor_id),
                },
            )
            .await?;
            restocked.push(line.line_number);
        }
        let products: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
        stock::refresh_rollups(&mut tx, &products).await?;
    }
    audit::record(
        &mut tx,
        input.actor_id,
        &format!("return.{}", to.as_str()),
        Entity::Order,
        current.order_id,
        json!({ "return_id": return_id, "number": current.number, "status": current.status }),
        json!({
            "return_id": return_id,
            "number": current.number,
            "status": to,
            "refusal_reason": input.refusal_reason,
            "restocked_lines": (step == ReturnStep::Receive).then_some(&restocked),
        }),
    )
    .await?;
    announce(&mut tx, to, current.order_id, return_id).await?;
    tx.commit().await?;
    Ok(current.order_id)
}

/// Announces a return's new status: `return.{status}` with the order and the return, so the
/// relay attaches the order (and its returns) as it stands.
async fn announce(
    tx: &mut Transaction<'_, Postgres>,
    status: ReturnStatus,
    order_id: Uuid,
    return_id: Uuid,
) -> Result<(), sqlx::Error> {
    publish(
        tx,
        &format!("return.{}", status.as_str()),
        json!({ "order_id": order_id, "return_id": return_id }),
    )
    .await
}

/// What a received return refunds under the shop's policy, and what it needs to reserve it.
struct Due {
    order_id: Uuid,
    number: i64,
    /// What the policy says the return is worth back.
    refund_due_minor: i64,
    /// What is left to refund of the order (staff may have refunded part of it by hand).
    refundable_minor: i64,
}

/// Computes what a return refunds: the policy's value of the goods of the order's refunded
/// returns and this one, less what the policy counted for those (see
/// `domain::returns::refund_of_return`). Exact when the caller holds the order's row lock
/// (no other return of the order is being refunded meanwhile).
async fn refund_due(
    tx: &mut Transaction<'_, Postgres>,
    return_id: Uuid,
    refund_shipping: bool,
) -> Result<Due, ReturnError> {
    let row = sqlx::query!(
        r#"SELECT r.order_id, r.number, o.discount_minor, o.shipping_minor,
                  o.tax_rate_basis_points, o.prices_include_tax, o.total_minor, o.refunded_minor,
                  (SELECT COALESCE(SUM(p.policy_minor), 0) FROM returns p
                    WHERE p.order_id = r.order_id AND p.status = 'refunded' AND p.id <> r.id)::bigint
                      AS "policy_before!"
             FROM returns r JOIN orders o ON o.id = r.order_id
            WHERE r.id = $1"#,
        return_id
    )
    .fetch_one(&mut **tx)
    .await?;
    // Each line of the order with the units of it refunded before and in this return.
    let lines = sqlx::query!(
        r#"SELECT l.unit_price_minor, l.quantity, l.promotion_discount_minor,
                  (SELECT COALESCE(SUM(rl.quantity), 0) FROM return_lines rl
                     JOIN returns p ON p.id = rl.return_id
                    WHERE rl.order_id = l.order_id AND rl.line_number = l.line_number
                      AND p.status = 'refunded' AND p.id <> $2)::integer AS "units_before!",
                  (SELECT COALESCE(SUM(rl.quantity), 0) FROM return_lines rl
                    WHERE rl.return_id = $2 AND rl.line_number = l.line_number)::integer
                      AS "units_now!"
             FROM order_lines l WHERE l.order_id = $1"#,
        row.order_id,
        return_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let (mut sold, mut promotions, mut goods_before, mut goods_after) = (0, 0, 0, 0);
    let (mut units_sold, mut units_back) = (0, 0);
    for line in &lines {
        let of = |units| {
            sold_for(
                line.unit_price_minor,
                line.quantity,
                line.promotion_discount_minor,
                units,
            )
        };
        sold += of(line.quantity);
        promotions += line.promotion_discount_minor;
        goods_before += of(line.units_before);
        goods_after += of(line.units_before + line.units_now);
        units_sold += line.quantity;
        units_back += line.units_before + line.units_now;
    }
    let order = PaidTotals {
        // Promotions are already off the lines' goods; the rest of the discount (a code) is
        // the order's, shared by what the goods cost.
        subtotal_minor: sold,
        discount_minor: row.discount_minor - promotions,
        shipping_minor: row.shipping_minor,
        tax: crate::domain::tax::TaxRate {
            basis_points: u32::try_from(row.tax_rate_basis_points).unwrap_or(0),
            treatment: crate::domain::tax::TaxTreatment::from_prices_include_tax(
                row.prices_include_tax,
            ),
        },
        total_minor: row.total_minor,
    };
    let before = RefundedBefore {
        goods_minor: goods_before,
        policy_minor: row.policy_before,
    };
    let completes = units_back >= units_sold;
    Ok(Due {
        order_id: row.order_id,
        number: row.number,
        refund_due_minor: refund_of_return(
            &order,
            before,
            goods_after - goods_before,
            completes,
            refund_shipping,
        ),
        refundable_minor: row.total_minor - row.refunded_minor,
    })
}

/// A return's refund, reserved.
pub struct ReturnRefund {
    pub order_id: Uuid,
    /// What goes back to the card; `None` when the return was worth nothing back (the goods
    /// were free), so there is nothing to pay out.
    pub due: Option<RefundDue>,
}

/// Refunds a received return — once: under the return's row lock its status moves to
/// `refunded` and the refund (`amount_minor`, by default all that is due) is reserved on the
/// order as a pending payment, in one transaction. The caller pays it out; a provider's
/// refusal puts the return back to `received` (`orders::settle_refund`).
pub async fn reserve_refund(
    db: &PgPool,
    return_id: Uuid,
    amount_minor: Option<i64>,
    actor_id: Uuid,
    terms: RefundTerms<'_>,
    refund_shipping: bool,
) -> Result<ReturnRefund, ReturnError> {
    let mut tx = db.begin().await?;
    let status = sqlx::query_scalar!(
        r#"SELECT status AS "status: ReturnStatus" FROM returns WHERE id = $1 FOR UPDATE"#,
        return_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ReturnError::NotFound("return"))?;
    ReturnStep::Refund
        .check(status)
        .map_err(ReturnError::Step)?;
    // The order next (return, then order): another return of it refunded at the same moment
    // waits, so each sees what the other's refund counted.
    sqlx::query!(
        "SELECT 1 AS locked FROM orders WHERE id = (SELECT order_id FROM returns WHERE id = $1)
            FOR UPDATE",
        return_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let due = refund_due(&mut tx, return_id, refund_shipping).await?;
    let amount = amount_minor.unwrap_or(due.refund_due_minor.min(due.refundable_minor));
    if amount > due.refund_due_minor {
        return Err(ReturnError::ExceedsDue {
            refund_due_minor: due.refund_due_minor,
        });
    }
    let reason = format!("return {}", due.number);
    let refund = if amount > 0 {
        Some(reserve_refund_in(&mut tx, due.order_id, amount, &reason, actor_id, terms).await?)
    } else {
        None
    };
    sqlx::query!(
        r#"UPDATE returns SET status = 'refunded', refund_minor = $2, refund_id = $3,
                              policy_minor = $4, refunded_at = now(), updated_at = now()
            WHERE id = $1"#,
        return_id,
        amount,
        refund.as_ref().map(|due| due.refund_id),
        due.refund_due_minor,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor_id,
        "return.refunded",
        Entity::Order,
        due.order_id,
        json!({ "return_id": return_id, "number": due.number, "status": status }),
        json!({
            "return_id": return_id,
            "number": due.number,
            "status": ReturnStatus::Refunded,
            "refund_minor": amount,
            "refund_due_minor": due.refund_due_minor,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(ReturnRefund {
        order_id: due.order_id,
        due: refund,
    })
}

/// What a received return would refund now, for showing before staff refund it: the
/// policy's amount, or what is left of the order's payment when staff refunded part of it by
/// hand.
pub async fn refund_due_now(
    db: &PgPool,
    return_id: Uuid,
    refund_shipping: bool,
) -> Result<i64, ReturnError> {
    let mut tx = db.begin().await?;
    let due = refund_due(&mut tx, return_id, refund_shipping).await?;
    tx.rollback().await?;
    Ok(due.refund_due_minor.min(due.refundable_minor).max(0))
}

/// The returns of an order, oldest first (`refund_due` left for the caller, who knows the
/// policy).
pub async fn of_order(
    db: &PgPool,
    order_id: Uuid,
    currency: &str,
) -> Result<Vec<OrderReturn>, StoreError> {
    let returns = sqlx::query!(
        r#"SELECT id, number, order_id, status AS "status: ReturnStatus", customer_note,
                  refusal_reason, refund_minor, requested_at, approved_at, refused_at,
                  received_at, refunded_at
             FROM returns WHERE order_id = $1 ORDER BY requested_at, number"#,
        order_id
    )
    .fetch_all(db)
    .await?;
    if returns.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines: BTreeMap<Uuid, Vec<ReturnLine>> = BTreeMap::new();
    for line in sqlx::query!(
        r#"SELECT rl.return_id, rl.line_number, l.sku, l.product_name, l.variant_title,
                  rl.quantity, rl.reason, rl.restocked
             FROM return_lines rl
             JOIN order_lines l ON l.order_id = rl.order_id AND l.line_number = rl.line_number
            WHERE rl.order_id = $1 ORDER BY rl.line_number"#,
        order_id
    )
    .fetch_all(db)
    .await?
    {
        let reason = ReturnReason::parse(&line.reason)
            .ok_or_else(|| StoreError::Corrupt(format!("return line reason {:?}", line.reason)))?;
        lines.entry(line.return_id).or_default().push(ReturnLine {
            line_number: line.line_number,
            sku: line.sku,
            product_name: line.product_name,
            variant_title: line.variant_title,
            quantity: line.quantity,
            reason,
            restocked: line.restocked,
        });
    }
    Ok(returns
        .into_iter()
        .map(|row| OrderReturn {
            id: row.id,
            number: row.number,
            order_id: row.order_id,
            status: row.status,
            lines: lines.remove(&row.id).unwrap_or_default(),
            customer_note: row.customer_note,
            refusal_reason: row.refusal_reason,
            refund_due: None,
            refunded: row.refund_minor.map(|minor| money(minor, currency)),
            requested_at: row.requested_at,
            approved_at: row.approved_at,
            refused_at: row.refused_at,
            received_at: row.received_at,
            refunded_at: row.refunded_at,
        })
        .collect())
}

/// The order a return belongs to.
pub async fn order_of(db: &PgPool, return_id: Uuid) -> Result<Option<Uuid>, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT order_id FROM returns WHERE id = $1", return_id)
            .fetch_optional(db)
            .await?,
    )
}

/// The staff's queue of returns, newest first, with the total for paging.
pub async fn list(
    db: &PgPool,
    status: Option<ReturnStatus>,
    order_id: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<StaffReturnSummary>, i64), StoreError> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.number, r.order_id, o.number AS order_number, a.email AS "email?",
                  r.status AS "status: ReturnStatus", r.requested_at,
                  (SELECT COALESCE(SUM(quantity), 0) FROM return_lines
                    WHERE return_id = r.id)::bigint AS "item_count!",
                  COUNT(*) OVER () AS "total!"
             FROM returns r
             JOIN orders o ON o.id = r.order_id
             LEFT JOIN accounts a ON a.id = o.account_id
            WHERE ($1::return_status IS NULL OR r.status = $1)
              AND ($2::uuid IS NULL OR r.order_id = $2)
            ORDER BY r.requested_at DESC, r.number DESC
            LIMIT $3 OFFSET $4"#,
        status as Option<ReturnStatus>,
        order_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    Ok((
        rows.into_iter()
            .map(|row| StaffReturnSummary {
                id: row.id,
                number: row.number,
                order_id: row.order_id,
                order_number: row.order_number,
                customer_email: row.email,
                status: row.status,
                item_count: row.item_count,
                requested_at: row.requested_at,
            })
            .collect(),
        total,
    ))
}
