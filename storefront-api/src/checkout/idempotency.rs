//! The Idempotency-Key gate's parts that are not storage: the request's fingerprint, and
//! waiting for the first request with a key to finish.

use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use storefront_client::orders::CheckoutRequest;
use uuid::Uuid;

use super::Answer;
use crate::{
    domain::checkout::IdempotencyKey,
    error::{ApiError, ApiResult},
    state::AppState,
    storage::{
        StoreError,
        orders::{self, CheckoutStart},
    },
};

/// How long a repeated request waits for the first one to finish before answering 409
/// `checkout_in_progress`: a third of the request deadline, at most 5 s. Waiting as long as
/// the deadline (it was 30 s, the deadline's own length) meant a retry behind a first request
/// that had died never heard the 409, only the deadline's 503.
fn wait_for_first_limit(request_deadline: Duration) -> Duration {
    (request_deadline / 3).min(Duration::from_secs(5))
}

/// The fingerprint of a request for idempotency: everything but the full card number and
/// CVC, which are never stored, not even hashed.
pub fn fingerprint(request: &CheckoutRequest) -> String {
    let digits: String = request
        .payment
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    let material = json!({
        "shipping_address": request.shipping_address,
        "address_id": request.address_id,
        "shipping_method": request.shipping_method,
        "discount_code": request.discount_code.as_deref().map(|c| c.trim().to_uppercase()),
        "card_last4": last4,
        "expiry": [request.payment.expiry_month, request.payment.expiry_year],
    });
    let digest = Sha256::digest(material.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn key_reused() -> ApiError {
    ApiError::invalid(
        "Idempotency-Key",
        "was already used for a different checkout request; use a new key",
    )
}

/// Waits (bounded) for the first request with this key to finish, then answers as it did.
/// The first request holds no lock a waiter could wait on, so this polls its row, backing off.
pub async fn wait_for_first(
    state: &AppState,
    account_id: Uuid,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> ApiResult<Answer> {
    let limit = wait_for_first_limit(Duration::from_secs(
        state.settings.http.request_timeout_secs,
    ));
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    while started.elapsed() < limit {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
        match orders::recorded_checkout(&state.db, account_id, key, fingerprint).await {
            Ok(CheckoutStart::Replay { status, body }) => {
                return Ok(Answer::recorded(status, body));
            }
            Ok(CheckoutStart::Mismatch) => return Err(key_reused()),
            Ok(CheckoutStart::InProgress | CheckoutStart::Owner) => {}
            // The first request failed internally and forgot the key: this one may start over.
            Err(StoreError::Database(sqlx::Error::RowNotFound)) => {
                return Err(ApiError::conflict(
                    "checkout_retry",
                    "The first attempt failed; send the request again.",
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::conflict(
        "checkout_in_progress",
        "A checkout with this Idempotency-Key is still running; try again shortly.",
    ))
}
