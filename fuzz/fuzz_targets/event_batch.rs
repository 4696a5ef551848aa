//! The shop's behaviour events as `POST /api/v1/events` checks them, given any JSON: each
//! event accepted or refused with reasons, never a panic; an accepted event keeps the limits
//! the churn features rely on (a recent time, a bounded anonymous id and properties).
#![no_main]

use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use storefront_api::domain::events::{MAX_BATCH, validate};

fuzz_target!(|bytes: &[u8]| {
    let Ok(Value::Array(events)) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
    for raw in events.iter().take(MAX_BATCH) {
        match validate(raw, None, now) {
            Ok(event) => {
                assert!(event.occurred_at >= now - Duration::days(7));
                assert!(event.occurred_at <= now + Duration::minutes(5));
                assert!((1..=64).contains(&event.anonymous_id.len()));
                assert!(serde_json::to_vec(&event.properties).unwrap().len() <= 4096);
            }
            Err(reasons) => assert!(!reasons.is_empty()),
        }
    }
});
