//! The staff's changes to an order: status transitions (with stock back on cancel),
//! refunds reserved then settled (never more than was paid), notes.
//!
//! A refund is reserved on the order and written as a `pending` payment in one transaction,
//! before the provider is asked; the provider's final answer settles that row once
//! (`settle_refund`). Without an answer the row stays pending — the money may have moved —
//! and the reaper asks the provider again with the same refund id (`take_over_pending_refunds`).

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{lock_order_products, publish};
use crate::domain::order::{OrderStatus, OrderStatusRules};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
    stock,
};

/// Why a staff change of an order was refused.
pub enum OrderChangeError {
    NotFound,
    Illegal(crate::domain::order::IllegalTransition),
    /// The order's checkout is still settling its payment: only checkout and the reaper move
    /// an order out of `pending_payment`, from what the provider says.
    AwaitingPayment,
    /// The change would refund money and the caller may not.
    RefundNotPermitted,
    /// The refund is more than what is left to refund.
    OverRefund {
        refundable_minor: i64,
    },
    NotRefundable {
        status: OrderStatus,
    },
    /// The order has no successful charge with a provider reference to refund against.
    NoCharge,
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
    /// For a paid order's cancellation, how its refund is reserved.
    pub refunds: RefundTerms<'a>,
    /// Whether the caller may give money back: cancelling a paid order refunds it.
    pub may_refund: bool,
    /// How long after delivery the customer may ask to return it.
    pub return_window_days: u32,
}

/// What a staff transition leaves to do.
pub struct Transitioned {
    /// A paid order was cancelled: this refund is reserved; the caller pays it out.
    pub refund: Option<RefundDue>,
}

/// How a refund is reserved: the provider that pays it out, and how long the request that
/// reserved it has to settle it before the reaper may ask the provider again.
#[derive(Debug, Clone, Copy)]
pub struct RefundTerms<'a> {
    pub provider: &'a str,
    pub lease: Duration,
}

/// A reserved refund: its id (the provider's idempotency key), and the charge it goes back to.
#[derive(Debug, Clone)]
pub struct RefundDue {
    pub refund_id: Uuid,
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub charge_reference: String,
}

/// The provider's final answer to a refund.
#[derive(Debug, Clone, Copy)]
pub enum RefundSettlement<'a> {
    Refunded { reference: &'a str },
    Refused { code: &'a str },
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
    if current.status == OrderStatus::PendingPayment {
        return Err(OrderChangeError::AwaitingPayment);
    }
    current
        .status
        .check_transition(input.to)
        .map_err(OrderChangeError::Illegal)?;
    let refund_minor = if input.to == OrderStatus::Cancelled && current.paid_at.is_some() {
        current.total_minor - current.refunded_minor
    } else {
        0
    };
    if refund_minor > 0 && !input.may_refund {
        return Err(OrderChangeError::RefundNotPermitted);
    }
    sqlx::query!(
        r#"UPDATE orders SET
               status = $2,
               fulfilled_at = CASE WHEN $2 = 'fulfilled'::order_status THEN now() ELSE fulfilled_at END,
               shipped_at = CASE WHEN $2 = 'shipped'::order_status THEN now() ELSE shipped_at END,
               delivered_at = CASE WHEN $2 = 'delivered'::order_status THEN now() ELSE delivered_at END,
               returnable_until = CASE WHEN $2 = 'delivered'::order_status
                                       THEN now() + make_interval(days => $6)
                                       ELSE returnable_until END,
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
        i32::try_from(input.return_window_days).unwrap_or(i32::MAX),
    )
    .execute(&mut *tx)
    .await?;
    if input.to == OrderStatus::Cancelled && current.status.restocks_on_cancel() {
        stock::return_to_shelf(&mut tx, order_id, &lines, Some(input.actor_id)).await?;
    }
    let refund = if refund_minor > 0 {
        Some(reserve_pending_refund(&mut tx, order_id, refund_minor, input.refunds).await?)
    } else {
        None
    };
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
    Ok(Transitioned { refund })
}

/// The provider's reference of the order's successful charge. Without one there is nothing
/// to refund against, and the change is refused (its transaction rolls back) rather than
/// sending the provider a refund of an empty reference.
async fn paid_charge(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<String, OrderChangeError> {
    sqlx::query_scalar!(
        r#"SELECT provider_reference FROM payments
            WHERE order_id = $1 AND kind = 'charge' AND outcome = 'succeeded'"#,
        order_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .flatten()
    .ok_or(OrderChangeError::NoCharge)
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
    terms: RefundTerms<'_>,
) -> Result<RefundDue, OrderChangeError> {
    let mut tx = db.begin().await?;
    let due = reserve_refund_in(&mut tx, order_id, amount_minor, reason, actor_id, terms).await?;
    tx.commit().await?;
    Ok(due)
}

/// [`reserve_refund`] in the caller's transaction (a return's refund is reserved with the
/// return's move to `refunded`); takes the order's row lock.
pub async fn reserve_refund_in(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    amount_minor: i64,
    reason: &str,
    actor_id: Uuid,
    terms: RefundTerms<'_>,
) -> Result<RefundDue, OrderChangeError> {
    let current = sqlx::query!(
        r#"SELECT status AS "status: OrderStatus", total_minor, refunded_minor, paid_at
             FROM orders WHERE id = $1 FOR UPDATE"#,
        order_id
    )
    .fetch_optional(&mut **tx)
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
    .execute(&mut **tx)
    .await?;
    audit::record(tx,
        actor_id,
        "order.refund",
        Entity::Order,
        order_id,
        serde_json::json!({ "status": current.status, "refunded_minor": current.refunded_minor }),
        serde_json::json!({ "status": status, "refunded_minor": current.refunded_minor + amount_minor, "reason": reason }),
    )
    .await?;
    reserve_pending_refund(tx, order_id, amount_minor, terms).await
}

/// Writes the pending refund row in the reserving transaction.
async fn reserve_pending_refund(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    amount_minor: i64,
    terms: RefundTerms<'_>,
) -> Result<RefundDue, OrderChangeError> {
    let charge_reference = paid_charge(tx, order_id).await?;
    let refund_id = Uuid::now_v7();
    sqlx::query!(
        r#"INSERT INTO payments (id, order_id, kind, outcome, amount_minor, provider, settle_after)
           VALUES ($1, $2, 'refund', 'pending', $3, $4, now() + make_interval(secs => $5))"#,
        refund_id,
        order_id,
        amount_minor,
        terms.provider,
        terms.lease.as_secs_f64(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(RefundDue {
        refund_id,
        order_id,
        amount_minor,
        charge_reference,
    })
}

/// Records the provider's final answer to a pending refund, once: `false` if it was settled
/// already (by the reaper and the request at once — both heard the same answer). A refused
/// refund gives its reservation back to the order.
pub async fn settle_refund(
    db: &PgPool,
    refund_id: Uuid,
    answer: RefundSettlement<'_>,
    actor_id: Option<Uuid>,
) -> Result<bool, StoreError> {
    let (outcome, reference, code) = match answer {
        RefundSettlement::Refunded { reference } => ("succeeded", Some(reference), None),
        RefundSettlement::Refused { code } => ("declined", None, Some(code)),
    };
    let mut tx = db.begin().await?;
    let Some(settled) = sqlx::query!(
        r#"UPDATE payments SET outcome = $2, provider_reference = $3, failure_code = $4,
                               settle_after = NULL
            WHERE id = $1 AND outcome = 'pending'
        RETURNING order_id, amount_minor"#,
        refund_id,
        outcome,
        reference,
        code,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    if let RefundSettlement::Refunded { .. } = answer {
        // Announced once the money went back, not when it was reserved.
        publish(
            &mut tx,
            "order.refunded",
            serde_json::json!({
                "order_id": settled.order_id,
                "refund_id": refund_id,
                "amount_minor": settled.amount_minor,
            }),
        )
        .await?;
    }
    if let RefundSettlement::Refused { code } = answer {
        // A return refunded with it is received again: staff may refund it once more.
        sqlx::query!(
            r#"UPDATE returns SET status = 'received', refund_id = NULL, refund_minor = NULL,
                                  policy_minor = NULL, refunded_at = NULL, updated_at = now()
                WHERE refund_id = $1"#,
            refund_id
        )
        .execute(&mut *tx)
        .await?;
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
            settled.order_id,
            settled.amount_minor
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor_id,
            "order.refund_refused",
            Entity::Order,
            settled.order_id,
            Value::Null,
            serde_json::json!({
                "status": restored,
                "amount_minor": settled.amount_minor,
                "refusal_code": code,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Takes over up to `limit` refunds left pending past their lease (the request that reserved
/// them died, or the provider did not answer), oldest first, each for another lease; another
/// instance's reaper skips them meanwhile.
pub async fn take_over_pending_refunds(
    db: &PgPool,
    lease: Duration,
    limit: i64,
) -> Result<Vec<RefundDue>, StoreError> {
    let rows = sqlx::query!(
        r#"UPDATE payments p SET settle_after = now() + make_interval(secs => $1)
             FROM (SELECT id FROM payments
                    WHERE outcome = 'pending' AND settle_after < now()
                    ORDER BY settle_after LIMIT $2
                    FOR UPDATE SKIP LOCKED) due
            WHERE p.id = due.id
        RETURNING p.id, p.order_id, p.amount_minor,
                  (SELECT c.provider_reference FROM payments c
                    WHERE c.order_id = p.order_id AND c.kind = 'charge'
                      AND c.outcome = 'succeeded') AS charge_reference"#,
        lease.as_secs_f64(),
        limit,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let charge_reference = row.charge_reference.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "pending refund {} belongs to order {} which has no successful charge",
                    row.id, row.order_id
                ))
            })?;
            Ok(RefundDue {
                refund_id: row.id,
                order_id: row.order_id,
                amount_minor: row.amount_minor,
                charge_reference,
            })
        })
        .collect()
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
