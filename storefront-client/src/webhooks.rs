//! What a webhook receiver gets, and how it checks that Nexus sent it.
//!
//! Deliveries follow the Standard Webhooks scheme (<https://www.standardwebhooks.com>), so
//! its libraries in other languages verify them too: a POST with a JSON [`WebhookMessage`]
//! body and three headers, `webhook-id` (the message's id: the same on every attempt, drop
//! duplicates by it), `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under
//! the endpoint's secret, whose `whsec_` prefix is dropped and the rest base64-decoded).

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// The message id's header.
pub const ID_HEADER: &str = "webhook-id";
/// The attempt's time (Unix seconds) header.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The signature header: space-separated `v1,<base64>` signatures (one per secret in use).
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// A signing secret's prefix.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a delivery's timestamp may be from the receiver's clock before it is refused
/// as a replay (Standard Webhooks' default).
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// The topics an endpoint can subscribe to: what happened in the shop.
pub const TOPICS: [&str; 16] = [
    "order.placed",
    "order.paid",
    "order.cancelled",
    "order.fulfilled",
    "order.shipped",
    "order.delivered",
    "order.refunded",
    "return.requested",
    "return.approved",
    "return.refused",
    "return.received",
    "customer.registered",
    "customer.erased",
    "customer.password_reset_requested",
    "customer.offer_made",
    "stock.low",
];

/// The body of every delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookMessage {
    /// The message's id, as in `webhook-id`: the same on every attempt and every replay.
    pub id: Uuid,
    /// One of [`TOPICS`].
    #[serde(rename = "type")]
    pub topic: String,
    /// When the change happened (the message was written with it).
    pub timestamp: DateTime<Utc>,
    /// What the topic announces: ids, and the order as it was when the relay took the
    /// message for order topics.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// Why a delivery was refused by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the secret is not `whsec_` and base64")]
    BadSecret,
    #[error("the webhook-timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the delivery's timestamp is more than {tolerance_secs} s from now (a replay?)")]
    Stale { tolerance_secs: i64 },
    #[error("no signature in webhook-signature matches the body")]
    BadSignature,
}

fn key(secret: &str) -> Result<Vec<u8>, VerifyError> {
    BASE64
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| VerifyError::BadSecret)
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value of a delivery (what the relay sends).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, VerifyError> {
    let signature = mac(&key(secret)?, id, timestamp, body)
        .finalize()
        .into_bytes();
    Ok(format!("v1,{}", BASE64.encode(signature)))
}

/// Checks a delivery as a receiver must before trusting it: the timestamp within
/// `tolerance_secs` of `now`, and one of the header's signatures made with `secret` over
/// exactly these id, timestamp and body bytes (compared in constant time).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let key = key(secret)?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    if (now.timestamp() - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Stale { tolerance_secs });
    }
    let expected = mac(&key, id, timestamp, body);
    let matches = signatures.split_whitespace().any(|signature| {
        signature
            .strip_prefix("v1,")
            .and_then(|encoded| BASE64.decode(encoded).ok())
            .is_some_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn the_standard_webhooks_example_verifies() {
        // The example of the Standard Webhooks specification, byte for byte.
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(SECRET, id, 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let now = at(1614265330 + 10);
        assert_eq!(
            verify(SECRET, id, "1614265330", &signature, body, now, 300),
            Ok(())
        );
    }

    #[test]
    fn forged_altered_or_stale_deliveries_are_refused() {
        let id = "0b6a4f4e-1f5e-4a7e-9d55-1d2b3c4d5e6f";
        let body = br#"{"type":"order.paid"}"#;
        let signature = sign(SECRET, id, 1_800_000_000, body).unwrap();
        let now = at(1_800_000_030);
        let check = |secret, id, timestamp, signature: &str, body: &[u8]| {
            verify(secret, id, timestamp, signature, body, now, 300)
        };
        assert_eq!(check(SECRET, id, "1800000000", &signature, body), Ok(()));
        // Several signatures (a secret being rotated): any one may match.
        let both = format!("v1,AAAA {signature}");
        assert_eq!(check(SECRET, id, "1800000000", &both, body), Ok(()));

        let other_secret = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";
        let forged = sign(other_secret, id, 1_800_000_000, body).unwrap();
        assert_eq!(
            check(SECRET, id, "1800000000", &forged, body),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            check(
                SECRET,
                id,
                "1800000000",
                &signature,
                br#"{"type":"order.refunded"}"#
            ),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            check(SECRET, "another-id", "1800000000", &signature, body),
            Err(VerifyError::BadSignature)
        );
        // The same signature moved to another time no longer matches; an old one is stale.
        assert_eq!(
            check(SECRET, id, "1800000001", &signature, body),
            Err(VerifyError::BadSignature)
        );
        let old = sign(SECRET, id, 1_799_999_000, body).unwrap();
        assert_eq!(
            check(SECRET, id, "1799999000", &old, body),
            Err(VerifyError::Stale {
                tolerance_secs: 300
            })
        );
        assert_eq!(
            check(SECRET, id, "yesterday", &signature, body),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            check("whsec_not base64!", id, "1800000000", &signature, body),
            Err(VerifyError::BadSecret)
        );
    }
}
