//! Staff return handling: the queue of returns, and each step — approve, refuse, receive
//! (back on the shelf or written off), refund.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::PageMeta;
use crate::returns::{OrderReturn, ReturnStatus};

/// `GET /api/v1/admin/returns` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct StaffReturnListParams {
    #[cfg_attr(feature = "openapi", param(inline))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ReturnStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

/// One return in the staff's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffReturnSummary {
    pub id: Uuid,
    pub number: i64,
    pub order_id: Uuid,
    pub order_number: i64,
    pub customer_email: Option<String>,
    pub status: ReturnStatus,
    /// Units in the return.
    pub item_count: i64,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffReturnList {
    pub returns: Vec<StaffReturnSummary>,
    pub meta: PageMeta,
}

/// A return with the order it belongs to (its lines, payments, notes and audit trail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffReturnEnvelope {
    #[serde(rename = "return")]
    pub order_return: OrderReturn,
    pub order: super::orders::StaffOrder,
}

/// `POST /api/v1/admin/returns/{id}/refuse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefuseReturnRequest {
    /// Told to the customer (at most 500 characters).
    pub reason: String,
}

/// `POST /api/v1/admin/returns/{id}/receive`: for each line of the return, whether its units
/// go back on the shelf. A line not named is restocked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturnRequest {
    #[serde(default)]
    pub lines: Vec<ReceivedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    pub line_number: i32,
    /// `false`: damaged, written off instead of restocked.
    pub restock: bool,
}

/// `POST /api/v1/admin/returns/{id}/refund`: by default what the policy refunds
/// (`refund_due`); less with `amount_minor` (e.g. an item sent back worn).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundReturnRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
}
