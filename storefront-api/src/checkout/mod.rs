//! Checkout, the application service behind `POST /api/v1/checkout`: it turns the caller's
//! cart into a paid order.
//!
//! Every checkout carries an `IdempotencyKey`: the same key with the same request answers
//! exactly as the first time (also while the first is still running: it waits, then
//! replays, or answers 409 `checkout_in_progress`), the same key with another request is a
//! 422, and no key ever makes a second order (`idempotency.rs`). Stock is taken in the
//! transaction that creates the order; the payment provider is called after that
//! transaction committed; a declined or failed payment cancels the order and puts the stock
//! back (`placing.rs`). A checkout interrupted anywhere in between — the process killed, the
//! deadline passed — is settled with the provider once its lease runs out, by a retry with
//! its key or by the reaper every instance runs (`recovery.rs`).

mod idempotency;
mod placing;
mod recovery;

pub use recovery::{Reaped, reap, spawn_reaper};

use axum::http::StatusCode;
use serde_json::Value;
use storefront_client::orders::CheckoutRequest;
use uuid::Uuid;

use crate::{
    domain::{checkout::IdempotencyKey, order::views::Order, payment::Card},
    error::{ApiError, ApiResult},
    state::AppState,
    storage::orders::{self, Lease},
};
use idempotency::Claim;

/// What a checkout request is answered with: the first request's answer, or its replay.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    fn recorded(status: u16, body: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        }
    }
}

/// Checks the request, claims the key, places and pays the order, and records the answer
/// for replays. A fault (a dependency down, a bug) records nothing: before an order was placed
/// the key is freed, so a retry starts over; after, the retry settles that order.
pub async fn checkout(
    state: &AppState,
    account_id: Uuid,
    key: &IdempotencyKey,
    request: &CheckoutRequest,
) -> ApiResult<Answer> {
    let card = Card::parse(
        &request.payment.card_number,
        request.payment.expiry_month,
        request.payment.expiry_year,
        &request.payment.cvc,
        chrono::Utc::now().date_naive(),
    )
    .map_err(ApiError::Validation)?;
    let address = placing::shipping_address(state, account_id, request).await?;
    let fingerprint = idempotency::fingerprint(request);
    let lease = match idempotency::claim(state, account_id, key, &fingerprint).await? {
        Claim::Place(lease) => lease,
        Claim::Settle { lease, order_id } => {
            return recovery::finish(state, &lease, order_id).await;
        }
        Claim::Answered(answer) => return Ok(answer),
    };
    fail::fail_point!("checkout::claimed", |_| -> ApiResult<Answer> {
        std::process::abort()
    });
    let outcome = match placing::place_and_pay(state, &lease, request, &card, &address).await {
        Ok(outcome) => outcome,
        Err(fault) => {
            if let Err(error) = orders::abandon_checkout(&state.db, &lease).await {
                tracing::error!(%error, "checkout request could not be let go after a failure");
            }
            return Err(fault);
        }
    };
    fail::fail_point!("checkout::answered", |_| -> ApiResult<Answer> {
        std::process::abort()
    });
    record_answer(state, &lease, outcome).await
}

/// Records how the checkout ended, for every retry to hear. If it cannot be recorded the
/// lease ends now, so that the next retry settles the order at once instead of waiting the
/// lease out.
async fn record_answer(state: &AppState, lease: &Lease, outcome: Outcome) -> ApiResult<Answer> {
    let (status, body, order_id) = outcome.answer();
    if let Err(fault) =
        orders::finish_checkout(&state.db, lease, status.as_u16(), &body, order_id).await
    {
        if let Err(error) = orders::abandon_checkout(&state.db, lease).await {
            tracing::error!(%error, "checkout request could not be let go after a failure");
        }
        return Err(fault.into());
    }
    Ok(Answer { status, body })
}

/// How a checkout that ran ended, as far as the shopper is concerned. Both are answers to
/// record and replay; a fault is an `Err` beside it.
pub enum Outcome {
    /// The order is placed and paid.
    Paid(Box<Order>),
    /// The shop said no: a declined card, stock gone, an unusable discount, an empty cart, a
    /// provider that did not answer. Nothing was charged.
    Refused(ApiError),
}

impl Outcome {
    /// Status, body and the order concerned (a refused payment names its cancelled order).
    fn answer(self) -> (StatusCode, Value, Option<Uuid>) {
        match self {
            Self::Paid(order) => {
                let order_id = order.id;
                (
                    StatusCode::CREATED,
                    serde_json::json!({ "order": order }),
                    Some(order_id),
                )
            }
            Self::Refused(refusal) => (refusal.status(), refusal.envelope(), refusal.order_id()),
        }
    }
}
