//! The staff's changes to an order: status transitions (with stock back on cancel),
//! refunds reserved then settled (never more than was paid), notes.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{PaymentRecord, lock_order_products, publish, record_payment};
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
}

/// What a staff transition leaves to do.
pub struct Transitioned {
    /// A paid order was cancelled: this refund is reserved; the caller pays it out.
    pub refund: Option<RefundDue>,
}

/// A reserved refund and the charge it goes back to.
pub struct RefundDue {
    pub amount_minor: i64,
    pub charge_reference: String,
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
        stock::return_to_shelf(&mut tx, order_id, &lines, Some(input.actor_id)).await?;
    }
    let refund = if refund_minor > 0 {
        Some(RefundDue {
            amount_minor: refund_minor,
            charge_reference: paid_charge(&mut tx, order_id).await?,
        })
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
) -> Result<String, OrderChangeError> {
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
    let charge_reference = paid_charge(&mut tx, order_id).await?;
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
    if !payment.succeeded() {
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
