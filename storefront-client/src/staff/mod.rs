//! What staff send and receive under `/api/v1/admin`: catalog management, orders, customers,
//! discount codes, promotions, the churn model registry and scores, the dashboard, webhook endpoints and
//! their delivery logs, and the audit log.

pub mod campaigns;
pub mod catalog;
pub mod catalog_import;
pub mod churn;
pub mod customers;
pub mod dashboard;
pub mod discounts;
pub mod orders;
pub mod promotions;
pub mod returns;
pub mod segments;
pub mod team;
pub mod webhooks;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::lists::CountMeta;

/// One staff change: who, what, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity: String,
    pub entity_id: Uuid,
    /// The row before the change; `null` for a creation.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<Value>,
    /// The row after the change; `null` for a deletion.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<Value>,
    pub at: DateTime<Utc>,
}

/// `GET /api/v1/admin/audit-log` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `product`, `variant`, `category`, `discount_code`, `order`, `review`, `churn_model` or `account` (with `entity_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<Uuid>,
    /// How many of the latest entries (1-500, default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
    pub meta: CountMeta,
}
