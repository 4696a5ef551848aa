//! The Idempotency-Key gate's parts that are not storage: the request's fingerprint, and
//! claiming a key — waiting for the first request with it to finish, or taking over one that
//! was interrupted.

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
    storage::orders::{self, CheckoutStart, Lease, TakenOver},
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

/// What a request may do with its key.
pub enum Claim {
    /// Place and pay: the key is new (or its first attempt failed before placing anything,
    /// or was interrupted before placing anything).
    Place(Lease),
    /// The first attempt was interrupted after placing this order: settle it.
    Settle { lease: Lease, order_id: Uuid },
    /// The key's answer is known.
    Answered(Answer),
}

/// Claims the key. Behind a first request that is still running it waits (bounded), then
/// answers as that one did, or 409 `checkout_in_progress`; a first request that was
/// interrupted is taken over. The first request holds no lock a waiter could wait on, so
/// this polls its row, backing off.
pub async fn claim(
    state: &AppState,
    account_id: Uuid,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> ApiResult<Claim> {
    let lease = state.request_lease();
    let limit = wait_for_first_limit(Duration::from_secs(
        state.settings.http.request_timeout_secs,
    ));
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match orders::start_checkout(&state.db, account_id, key, fingerprint, lease).await? {
            CheckoutStart::Owner(lease) => return Ok(Claim::Place(lease)),
            CheckoutStart::Replay { status, body } => {
                return Ok(Claim::Answered(Answer::recorded(status, body)));
            }
            CheckoutStart::Mismatch => return Err(key_reused()),
            CheckoutStart::Interrupted => {
                match orders::take_over(&state.db, account_id, key, lease).await? {
                    Some(TakenOver {
                        lease,
                        order_id: None,
                    }) => return Ok(Claim::Place(lease)),
                    Some(TakenOver {
                        lease,
                        order_id: Some(order_id),
                    }) => return Ok(Claim::Settle { lease, order_id }),
                    // Someone else took it over first: look again.
                    None => {}
                }
            }
            CheckoutStart::InProgress => {
                if started.elapsed() >= limit {
                    return Err(ApiError::conflict(
                        "checkout_in_progress",
                        "A checkout with this Idempotency-Key is still running; try again shortly.",
                    ));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
        }
    }
}
