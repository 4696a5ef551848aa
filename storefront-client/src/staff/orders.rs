//! Staff order management: lists with filters, the detail with notes and audit trail, status
//! transitions, refunds and notes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuditEntry;
use crate::lists::PageMeta;
use crate::orders::{Order, OrderStatus, OrderSummary};

/// `GET /api/v1/admin/orders` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct StaffOrderListParams {
    #[cfg_attr(feature = "openapi", param(inline))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// Placed at or after (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_to: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    /// Lowest total, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_total: Option<i64>,
    /// Highest total, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffOrderList {
    pub orders: Vec<OrderSummary>,
    pub meta: PageMeta,
}

/// A staff note on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderNote {
    pub author_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One order as staff see it: the shopper's view plus notes and the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffOrder {
    #[serde(flatten)]
    pub order: Order,
    pub notes: Vec<OrderNote>,
    pub audit_trail: Vec<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffOrderEnvelope {
    pub order: StaffOrder,
}

/// `POST /api/v1/admin/orders/{id}/transitions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `fulfilled`, `shipped` (needs `tracking_number`), `delivered` or `cancelled`.
    pub to: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Why, for cancellations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/admin/orders/{id}/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Positive; at most what is left of the payment.
    pub amount_minor: i64,
    /// 1-500 characters.
    pub reason: String,
}

/// `POST /api/v1/admin/orders/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1-5000 characters.
    pub body: String,
}
