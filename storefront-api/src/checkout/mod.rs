//! Checkout, the application service behind `POST /api/v1/checkout`: it turns the caller's
//! cart into a paid order.
//!
//! Every checkout carries an `IdempotencyKey`: the same key with the same request answers
//! exactly as the first time (also while the first is still running: it waits, then
//! replays), the same key with another request is a 422, and no key ever makes a second
//! order (`idempotency.rs`). Stock is taken in the transaction that creates the order; the
//! payment provider is called after that transaction committed; a declined or failed payment
//! cancels the order and puts the stock back (`placing.rs`).

mod idempotency;
mod placing;

use axum::http::StatusCode;
use serde_json::Value;
use storefront_client::orders::CheckoutRequest;
use uuid::Uuid;

use crate::{
    domain::{checkout::IdempotencyKey, order::views::Order, payment::Card},
    error::{ApiError, ApiResult},
    state::AppState,
    storage::orders::{self, CheckoutStart},
};

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
/// for replays. A fault (a dependency down, a bug) records nothing and frees the key, so a
/// retry with the same key starts over.
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
    match orders::start_checkout(&state.db, account_id, key, &fingerprint).await? {
        CheckoutStart::Owner => {}
        CheckoutStart::Replay { status, body } => return Ok(Answer::recorded(status, body)),
        CheckoutStart::Mismatch => return Err(idempotency::key_reused()),
        CheckoutStart::InProgress => {
            return idempotency::wait_for_first(state, account_id, key, &fingerprint).await;
        }
    }
    let outcome = match placing::place_and_pay(state, account_id, request, &card, &address).await {
        Ok(outcome) => outcome,
        Err(fault) => {
            // Nothing to replay: let a retry with the same key start over.
            if let Err(error) = orders::forget_checkout(&state.db, account_id, key).await {
                tracing::error!(%error, "checkout request could not be forgotten after a failure");
            }
            return Err(fault);
        }
    };
    let (status, body, order_id) = outcome.answer();
    orders::finish_checkout(&state.db, account_id, key, status.as_u16(), &body, order_id).await?;
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
