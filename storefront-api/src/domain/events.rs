//! Behaviour events: what shoppers do on the site, validated one by one so that a batch with
//! some bad entries still stores the good ones. Churn features read them per customer.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use storefront_client::events::{EventKind, MAX_BATCH};

/// A property an event kind must carry, and the check of its value.
type RequiredProperty = (&'static str, fn(&Value) -> bool);
const MAX_PROPERTIES: usize = 20;
const MAX_PROPERTIES_BYTES: usize = 4096;

/// Properties each kind must carry, with a check of their value.
fn required(kind: EventKind) -> &'static [RequiredProperty] {
    fn uuid(value: &Value) -> bool {
        value.as_str().is_some_and(|s| s.parse::<Uuid>().is_ok())
    }
    fn text(value: &Value) -> bool {
        value
            .as_str()
            .is_some_and(|s| !s.trim().is_empty() && s.len() <= 200)
    }
    fn quantity(value: &Value) -> bool {
        value.as_i64().is_some_and(|n| (1..=1000).contains(&n))
    }
    match kind {
        EventKind::SessionStart | EventKind::CheckoutStarted => &[],
        EventKind::ProductView => &[("product_id", uuid)],
        EventKind::Search => &[("query", text)],
        EventKind::AddToCart | EventKind::RemoveFromCart => {
            &[("variant_id", uuid), ("quantity", quantity)]
        }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourEvent {
    pub kind: EventKind,
    /// Set from the session, never from the client's word.
    pub customer_id: Option<Uuid>,
    pub anonymous_id: String,
    pub occurred_at: DateTime<Utc>,
    pub properties: Map<String, Value>,
}

/// Checks one raw event; `Err` lists every reason it is refused.
pub fn validate(
    raw: &Value,
    customer_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<BehaviourEvent, Vec<String>> {
    let mut reasons = Vec::new();
    let Some(object) = raw.as_object() else {
        return Err(vec!["an event must be a JSON object".into()]);
    };
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "type" | "anonymous_id" | "occurred_at" | "properties"
        ) {
            reasons.push(format!("`{key}` is not an event field"));
        }
    }
    let kind = match object.get("type").and_then(Value::as_str) {
        Some(raw) => EventKind::parse(raw).or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            reasons.push(format!(
                "type `{raw}` is unknown; use one of {}",
                known.join(", ")
            ));
            None
        }),
        None => {
            reasons.push("type is required".into());
            None
        }
    };
    let anonymous_id = match object.get("anonymous_id").and_then(Value::as_str) {
        Some(id) if (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => {
            Some(id.to_owned())
        }
        _ => {
            reasons.push("anonymous_id must be 1-64 visible ASCII characters".into());
            None
        }
    };
    let occurred_at = match object
        .get("occurred_at")
        .and_then(Value::as_str)
        .map(DateTime::parse_from_rfc3339)
    {
        Some(Ok(at)) => {
            let at = at.with_timezone(&Utc);
            if at < now - Duration::days(7) || at > now + Duration::minutes(5) {
                reasons.push("occurred_at must be within the last 7 days".into());
                None
            } else {
                Some(at)
            }
        }
        _ => {
            reasons.push("occurred_at must be an RFC 3339 timestamp".into());
            None
        }
    };
    let properties = match object.get("properties") {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(map)) => {
            if map.len() > MAX_PROPERTIES
                || Value::Object(map.clone()).to_string().len() > MAX_PROPERTIES_BYTES
            {
                reasons.push(format!("properties may hold at most {MAX_PROPERTIES} keys and {MAX_PROPERTIES_BYTES} bytes"));
            }
            if let Some(kind) = kind {
                for (name, valid) in required(kind) {
                    if !map.get(*name).is_some_and(valid) {
                        reasons.push(format!("{} needs a valid properties.{name}", kind.as_str()));
                    }
                }
            }
            Some(map.clone())
        }
        Some(_) => {
            reasons.push("properties must be an object".into());
            None
        }
    };
    match (
        kind,
        anonymous_id,
        occurred_at,
        properties,
        reasons.is_empty(),
    ) {
        (Some(kind), Some(anonymous_id), Some(occurred_at), Some(properties), true) => {
            Ok(BehaviourEvent {
                kind,
                customer_id,
                anonymous_id,
                occurred_at,
                properties,
            })
        }
        _ => Err(reasons),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn good_events_pass_and_bad_ones_say_why() {
        let good = json!({"type": "search", "anonymous_id": "a1", "occurred_at": "2026-11-25T11:59:00Z", "properties": {"query": "boots"}});
        assert_eq!(
            validate(&good, None, now()).unwrap().kind,
            EventKind::Search
        );
        let bad = json!({"type": "add_to_cart", "anonymous_id": "", "occurred_at": "yesterday", "properties": {"quantity": 0}, "extra": 1});
        let reasons = validate(&bad, None, now()).unwrap_err();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        let stale = json!({"type": "session_start", "anonymous_id": "a1", "occurred_at": "2026-10-01T00:00:00Z"});
        assert!(validate(&stale, None, now()).is_err());
        let unknown = json!({"type": "teleport", "anonymous_id": "a1", "occurred_at": "2026-11-25T11:00:00Z"});
        assert!(validate(&unknown, None, now()).unwrap_err()[0].contains("unknown"));
    }
}
