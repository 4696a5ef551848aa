//! Behaviour events: what shoppers do on the site, sent to `POST /api/v1/events` in batches.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A visit began (no properties).
    SessionStart,
    /// `properties.product_id`.
    ProductView,
    /// `properties.query`.
    Search,
    /// `properties.variant_id`, `properties.quantity`.
    AddToCart,
    /// `properties.variant_id`, `properties.quantity`.
    RemoveFromCart,
    /// The checkout page was opened (no properties).
    CheckoutStarted,
}

impl EventKind {
    pub const ALL: [Self; 6] = [
        Self::SessionStart,
        Self::ProductView,
        Self::Search,
        Self::AddToCart,
        Self::RemoveFromCart,
        Self::CheckoutStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStart => "session_start",
            Self::ProductView => "product_view",
            Self::Search => "search",
            Self::AddToCart => "add_to_cart",
            Self::RemoveFromCart => "remove_from_cart",
            Self::CheckoutStarted => "checkout_started",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// One event as a client sends it. The API checks each on its own and attributes it to the
/// logged-in account from the session, never from the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopEvent {
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The browser's own id (1-64 visible ASCII characters), kept across visits.
    pub anonymous_id: String,
    /// Within the last 7 days.
    pub occurred_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
}

/// What a client sends: 1 to [`MAX_BATCH`] events. (The API reads each event as raw JSON, so
/// that one malformed event is reported rather than refusing the batch.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<ShopEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedEvent {
    /// Position in the batch, from 0.
    pub index: usize,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchResult {
    pub accepted: u64,
    pub rejected: Vec<RejectedEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_as_the_api_reads_them() {
        let event = ShopEvent {
            kind: EventKind::Search,
            anonymous_id: "a1".into(),
            occurred_at: DateTime::parse_from_rfc3339("2026-11-25T11:59:00Z")
                .unwrap()
                .with_timezone(&Utc),
            properties: serde_json::json!({"query": "boots"})
                .as_object()
                .cloned()
                .unwrap(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "search");
        assert_eq!(json["occurred_at"], "2026-11-25T11:59:00Z");
        assert_eq!(json["properties"]["query"], "boots");
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
    }
}
