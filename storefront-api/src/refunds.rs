//! Refunds, the application service behind staff refunds and the cancellation of a paid
//! order. A refund is reserved on the order and written as a pending payment in one
//! transaction (`storage::orders`), so two refunds can never give back more than was paid;
//! then the provider is asked, with the refund's id as its idempotency key, and its final
//! answer settles the refund once. When the answer does not come (the provider down, the
//! answer lost, the process killed), nothing is concluded — the money may have moved — and
//! the reaper asks again with the same id once the request's lease has run out, until the
//! provider answers. So a refund is paid exactly once and never forgotten.

use uuid::Uuid;

use crate::{
    error::ApiResult,
    payments::{RefundOutcome, RefundRequest},
    state::AppState,
    storage::orders::{self, RefundDue, RefundSettlement, RefundTerms},
};

/// How many pending refunds one sweep takes over at a time.
const BATCH: i64 = 50;

/// How this shop reserves refunds: through its provider, settled within a request's lease.
pub fn terms(state: &AppState) -> RefundTerms<'static> {
    RefundTerms {
        provider: state.payments.name(),
        lease: state.request_lease(),
    }
}

/// Where a refund stands after the provider was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaidOut {
    /// The money went back to the card.
    Refunded,
    /// The provider refused; the reservation was given back to the order.
    Refused { code: String },
    /// No answer: the refund stays pending and the reaper asks again.
    Pending,
}

/// Asks the provider to pay out a reserved refund and settles it from the answer. `actor_id`
/// is the staff member who asked, for the audit trail (`None` for the reaper).
pub async fn pay_out(
    state: &AppState,
    due: &RefundDue,
    actor_id: Option<Uuid>,
) -> ApiResult<PaidOut> {
    let answer = state
        .payments
        .refund(RefundRequest {
            refund_id: due.refund_id,
            charge_reference: &due.charge_reference,
            amount_minor: due.amount_minor,
        })
        .await;
    let (settlement, paid_out) = match &answer {
        Ok(RefundOutcome::Refunded { reference }) => {
            (RefundSettlement::Refunded { reference }, PaidOut::Refunded)
        }
        Ok(RefundOutcome::Refused { code }) => (
            RefundSettlement::Refused { code },
            PaidOut::Refused { code: code.clone() },
        ),
        Err(unavailable) => {
            tracing::warn!(refund_id = %due.refund_id, order_id = %due.order_id,
                error = %unavailable, "refund not answered; it stays pending for the reaper");
            return Ok(PaidOut::Pending);
        }
    };
    orders::settle_refund(&state.db, due.refund_id, settlement, actor_id).await?;
    metrics::counter!("refunds_settled_total", "outcome" => match paid_out {
        PaidOut::Refunded => "refunded",
        _ => "refused",
    })
    .increment(1);
    Ok(paid_out)
}

/// What one sweep of pending refunds did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SettledRefunds {
    pub refunded: usize,
    pub refused: usize,
    /// Still unanswered: asked again after another lease.
    pub pending: usize,
}

impl SettledRefunds {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Asks the provider again about every refund left pending past its lease.
pub async fn settle_pending(state: &AppState) -> ApiResult<SettledRefunds> {
    let mut settled = SettledRefunds::default();
    loop {
        let taken =
            orders::take_over_pending_refunds(&state.db, state.request_lease(), BATCH).await?;
        let full = i64::try_from(taken.len()).unwrap_or(i64::MAX) == BATCH;
        for due in taken {
            match pay_out(state, &due, None).await {
                Ok(PaidOut::Refunded) => settled.refunded += 1,
                Ok(PaidOut::Refused { .. }) => settled.refused += 1,
                Ok(PaidOut::Pending) => settled.pending += 1,
                Err(error) => {
                    tracing::warn!(%error, refund_id = %due.refund_id, "pending refund not settled yet");
                    settled.pending += 1;
                }
            }
        }
        // An unanswered refund keeps its new lease; sweeping on would not retake it anyway,
        // but a provider that is down need not be asked fifty times more this tick.
        if !full || settled.pending > 0 {
            return Ok(settled);
        }
    }
}
