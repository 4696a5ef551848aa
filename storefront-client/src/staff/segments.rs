//! Customer groups and segments under `/api/v1/admin/segments`: static groups staff fill by
//! hand, and dynamic segments whose members are whoever matches a rule over their order
//! history and the churn engine's latest scores, now. Either can be a promotion's condition
//! and is exported as CSV.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::{CountMeta, PageMeta};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// Members are added and removed by staff.
    Static,
    /// Members are whoever matches the rule at the moment it is asked.
    Dynamic,
}

/// Who belongs to a dynamic segment. Every condition given must hold; churn conditions
/// (bands, probability, predicted value) need the latest scoring run, and customers it did
/// not score do not match them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    /// `low`, `medium`, `high`; empty for every band (and no churn condition).
    #[serde(default)]
    pub risk_bands: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_probability: Option<f64>,
    /// Predicted spend over the next 365 days, at least (minor units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_predicted_value_minor: Option<i64>,
    /// No order in the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_since_last_order: Option<i32>,
    /// An order within the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_since_last_order: Option<i32>,
    /// Paid orders (not cancelled), at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_orders: Option<i32>,
    /// Spent in all, net of refunds, at least (minor units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spent_minor: Option<i64>,
}

impl SegmentRule {
    /// Whether the rule asks anything of the churn scores.
    pub fn needs_scores(&self) -> bool {
        !self.risk_bands.is_empty()
            || self.min_probability.is_some()
            || self.max_probability.is_some()
            || self.min_predicted_value_minor.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segment {
    pub id: Uuid,
    pub name: String,
    pub kind: SegmentKind,
    /// A dynamic segment's rule; `null` for a static group.
    pub rule: Option<SegmentRule>,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/admin/segments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentList {
    pub segments: Vec<Segment>,
    pub meta: CountMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentEnvelope {
    pub segment: Segment,
}

/// `POST /api/v1/admin/segments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SegmentDraft {
    /// 1-80 characters, unique.
    pub name: String,
    pub kind: SegmentKind,
    /// Required for a dynamic segment; absent for a static group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<SegmentRule>,
}

/// One member, with what the rule looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentMember {
    pub account_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub orders: i64,
    /// Net of refunds, minor units of the shop's currency.
    pub spent_minor: i64,
    pub last_order_at: Option<DateTime<Utc>>,
    /// From the latest scoring run, when it scored the customer.
    pub risk_band: Option<String>,
    pub churn_probability: Option<f64>,
    pub predicted_value_minor: Option<i64>,
}

/// `GET /api/v1/admin/segments/{id}/members`: the members now, by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentMemberList {
    pub members: Vec<SegmentMember>,
    pub meta: PageMeta,
}

/// `POST /api/v1/admin/segments/{id}/members`: customers added to a static group (those
/// already in it stay, once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMembers {
    /// 1-1000 customer account ids.
    pub account_ids: Vec<Uuid>,
}

/// `GET /api/v1/admin/segments/{id}/members` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SegmentMemberParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

/// `POST /api/v1/admin/segments/{id}/members`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembersAdded {
    /// Customers who were not in the group before.
    pub added: u64,
}
