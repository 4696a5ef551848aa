//! Returns as the API serves them: a customer sends back lines of a delivered order, staff
//! approve or refuse, receive the goods (back on the shelf or not) and refund them once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

/// Where a return is. `requested` → `approved` or `refused`; `approved` → `received` →
/// `refunded`. (The API's domain holds the rules for moving between them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "return_status", rename_all = "snake_case")
)]
pub enum ReturnStatus {
    Requested,
    Approved,
    Refused,
    Received,
    Refunded,
}

impl ReturnStatus {
    pub const ALL: [Self; 5] = [
        Self::Requested,
        Self::Approved,
        Self::Refused,
        Self::Received,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Received => "received",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// How a shopper reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::Approved => "Approved — send the items back",
            Self::Refused => "Refused",
            Self::Received => "Received — refund on its way",
            Self::Refunded => "Refunded",
        }
    }
}

/// Why a customer sends an item back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    Damaged,
    WrongItem,
    NotAsDescribed,
    DoesNotFit,
    ChangedMind,
    Other,
}

impl ReturnReason {
    pub const ALL: [Self; 6] = [
        Self::Damaged,
        Self::WrongItem,
        Self::NotAsDescribed,
        Self::DoesNotFit,
        Self::ChangedMind,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Damaged => "damaged",
            Self::WrongItem => "wrong_item",
            Self::NotAsDescribed => "not_as_described",
            Self::DoesNotFit => "does_not_fit",
            Self::ChangedMind => "changed_mind",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == raw)
    }

    /// How a shopper reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Damaged => "Arrived damaged",
            Self::WrongItem => "Wrong item sent",
            Self::NotAsDescribed => "Not as described",
            Self::DoesNotFit => "Does not fit",
            Self::ChangedMind => "Changed my mind",
            Self::Other => "Other",
        }
    }
}

/// One line of a return: which line of the order, how many units and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnLine {
    /// The order line's `line_number`.
    pub line_number: i32,
    pub sku: String,
    pub product_name: String,
    pub variant_title: String,
    pub quantity: i32,
    pub reason: ReturnReason,
    /// Once received: whether the units went back on the shelf (`false`: damaged, written
    /// off).
    pub restocked: Option<bool>,
}

/// A return of (part of) an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderReturn {
    pub id: Uuid,
    /// The number a customer quotes, e.g. 5001.
    pub number: i64,
    pub order_id: Uuid,
    pub status: ReturnStatus,
    pub lines: Vec<ReturnLine>,
    /// What the customer wrote when asking.
    pub customer_note: Option<String>,
    /// Why staff refused it.
    pub refusal_reason: Option<String>,
    /// Once received and not yet refunded: what the shop's policy refunds for it (the goods'
    /// share of what was paid, discount and tax included; shipping when the return completes
    /// the order and the policy refunds it).
    pub refund_due: Option<Money>,
    /// Once refunded: the refund (its outcome is among the order's payments).
    pub refunded: Option<Money>,
    pub requested_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub refused_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/orders/{id}/returns`: the lines to send back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
    /// Anything the shop should know (at most 2,000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The order line's `line_number`.
    pub line_number: i32,
    pub quantity: i32,
    pub reason: ReturnReason,
}

/// `201` to a return request: the return, and the order it belongs to as it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnEnvelope {
    #[serde(rename = "return")]
    pub order_return: OrderReturn,
}
