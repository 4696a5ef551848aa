//! Interrupted checkouts, settled. A checkout can stop anywhere between claiming its key and
//! recording its answer: the process killed, the request deadline passed, a dependency gone.
//! Once its lease runs out it is taken over — at once by a retry with its key, or by the
//! reaper every instance runs — and finished from what is known. With no order placed, the
//! key is freed and a retry starts over. With an order still awaiting payment, the provider is
//! asked what became of its charge (`PaymentProvider::find_charge`, whose "none" is final):
//! the order is paid, or cancelled with its stock back on the shelf. Then the answer the
//! order's state gives is recorded, and every later retry hears it.

use std::time::Duration;

use storefront_client::orders::OrderStatus;
use uuid::Uuid;

use super::{
    Answer, Outcome,
    placing::{cancel_unpaid, settle_paid},
    record_answer,
};
use crate::{
    domain::order::views::Order,
    error::{ApiError, ApiResult},
    payments::ChargeOutcome,
    state::AppState,
    storage::orders::{self, Attempt, Lease, PaymentRecord},
};

/// How many interrupted checkouts one sweep takes over at a time.
const BATCH: i64 = 50;

/// Finishes a checkout whose first attempt was interrupted after placing `order_id`. A
/// fault (the provider or the database unreachable) lets the lease go, for the next try.
pub async fn finish(state: &AppState, lease: &Lease, order_id: Uuid) -> ApiResult<Answer> {
    let outcome = match settle(state, order_id).await {
        Ok(outcome) => outcome,
        Err(fault) => {
            if let Err(error) = orders::abandon_checkout(&state.db, lease).await {
                tracing::error!(%error, %order_id, "interrupted checkout could not be let go");
            }
            return Err(fault);
        }
    };
    record_answer(state, lease, outcome).await
}

/// Settles the order with the provider if it still awaits payment, and says how its
/// checkout ended.
async fn settle(state: &AppState, order_id: Uuid) -> Result<Outcome, ApiError> {
    let order = load(state, order_id).await?;
    if order.status != OrderStatus::PendingPayment {
        return outcome_of(order);
    }
    let no_charge = NoCharge {
        reason: "checkout_interrupted",
        attempt: None,
    };
    settle_with_provider(state, order_id, order.account_id, no_charge).await
}

/// What the order records when the provider says it made no charge (and now never will).
pub(super) struct NoCharge<'a> {
    /// The cancellation's reason.
    pub reason: &'static str,
    /// The attempt that went unanswered, if this checkout made one.
    pub attempt: Option<&'a PaymentRecord<'a>>,
}

/// Asks the provider what became of the order's charge — its answer is final — and pays the
/// order or cancels it with its stock back accordingly; then says how the checkout ended.
/// A provider that does not answer this either is a fault: the order stays awaiting payment
/// for the next try.
pub(super) async fn settle_with_provider(
    state: &AppState,
    order_id: Uuid,
    account_id: Uuid,
    no_charge: NoCharge<'_>,
) -> Result<Outcome, ApiError> {
    let found = state
        .payments
        .find_charge(order_id)
        .await
        .map_err(|unavailable| ApiError::dependency_down("payment_provider", unavailable))?;
    let provider = state.payments.name();
    let settled = match &found {
        Some(charge) => {
            let (attempt, charged) = match &charge.outcome {
                ChargeOutcome::Approved { reference } => (Attempt::Succeeded { reference }, true),
                ChargeOutcome::Declined { code, .. } => (Attempt::Declined { code }, false),
            };
            let record = PaymentRecord::charge_found(
                provider,
                charge.amount_minor,
                &charge.card_brand,
                &charge.card_last4,
                attempt,
            );
            if charged {
                settle_paid(state, order_id, account_id, &record)
                    .await
                    .map(drop)
            } else {
                cancel_unpaid(state, order_id, "payment_declined", Some(&record)).await
            }
        }
        None => cancel_unpaid(state, order_id, no_charge.reason, no_charge.attempt).await,
    };
    match settled {
        // Settled by someone else meanwhile (a retry and the reaper at once): same order.
        Ok(())
        | Err(ApiError::Conflict {
            code: "order_not_pending",
            ..
        }) => outcome_of(load(state, order_id).await?),
        Err(fault) => Err(fault),
    }
}

async fn load(state: &AppState, order_id: Uuid) -> Result<Order, ApiError> {
    orders::order(&state.db, order_id, None)
        .await?
        .ok_or(ApiError::NotFound("order"))
}

/// How the checkout of a settled order ended, as its shopper hears it: paid (whatever
/// happened to the order since), or refused — declined by the card, or not charged at all.
fn outcome_of(order: Order) -> Result<Outcome, ApiError> {
    let order_id = order.id;
    match order.status {
        OrderStatus::PendingPayment => {
            Err(ApiError::unavailable("the order is still awaiting payment"))
        }
        OrderStatus::Cancelled => {
            let declined = order
                .payments
                .iter()
                .rev()
                .find(|payment| payment.kind == "charge" && payment.outcome == "declined");
            Ok(Outcome::Refused(match declined {
                Some(charge) => ApiError::PaymentDeclined {
                    code: charge
                        .failure_code
                        .clone()
                        .unwrap_or_else(|| "card_declined".into()),
                    message: "The card was declined.".into(),
                    order_id,
                },
                None => ApiError::PaymentUnavailable { order_id },
            }))
        }
        _ => Ok(Outcome::Paid(Box::new(order))),
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// Orders paid: the provider had charged them.
    pub paid: usize,
    /// Orders cancelled with their stock back: declined, or never charged.
    pub cancelled: usize,
    /// Checkout requests interrupted before an order was placed, freed for a retry.
    pub freed: usize,
    /// Checkouts that could not be settled now (the provider or a store unreachable).
    pub failed: usize,
}

impl Reaped {
    fn record(&mut self, outcome: &'static str) {
        match outcome {
            "paid" => self.paid += 1,
            "freed" => self.freed += 1,
            "failed" => self.failed += 1,
            _ => self.cancelled += 1,
        }
        metrics::counter!("checkouts_recovered_total", "outcome" => outcome).increment(1);
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Takes over and settles every checkout interrupted past its lease.
pub async fn reap(state: &AppState) -> ApiResult<Reaped> {
    let mut reaped = Reaped::default();
    loop {
        let taken = orders::take_over_interrupted(&state.db, state.request_lease(), BATCH).await?;
        let full = i64::try_from(taken.len()).unwrap_or(i64::MAX) == BATCH;
        for interrupted in taken {
            let Some(order_id) = interrupted.order_id else {
                // One request that cannot be let go now must not end the sweep for the rest.
                match orders::abandon_checkout(&state.db, &interrupted.lease).await {
                    Ok(()) => reaped.record("freed"),
                    Err(error) => {
                        tracing::warn!(%error, "interrupted checkout request not freed yet");
                        reaped.record("failed");
                    }
                }
                continue;
            };
            match finish(state, &interrupted.lease, order_id).await {
                Ok(answer) if answer.status.is_success() => reaped.record("paid"),
                Ok(_) => reaped.record("cancelled"),
                Err(error) => {
                    tracing::warn!(%error, %order_id, "interrupted checkout not settled yet");
                    reaped.record("failed");
                }
            }
        }
        // A failure's lease ends at once; sweeping on would take it straight back.
        if !full || reaped.failed > 0 {
            return Ok(reaped);
        }
    }
}

/// Sweeps every `checkout.recovery_interval_secs`, on every instance (they share the work:
/// each takes over different rows), for interrupted checkouts and for refunds whose
/// provider's answer never came (`refunds::settle_pending`).
pub fn spawn_reaper(state: AppState) {
    let every = Duration::from_secs(state.settings.checkout.recovery_interval_secs.max(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match reap(&state).await {
                Ok(reaped) if !reaped.is_empty() => {
                    tracing::info!(?reaped, "interrupted checkouts settled");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep for interrupted checkouts failed"),
            }
            match crate::refunds::settle_pending(&state).await {
                Ok(settled) if !settled.is_empty() => {
                    tracing::info!(?settled, "pending refunds settled");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep for pending refunds failed"),
            }
        }
    });
}
