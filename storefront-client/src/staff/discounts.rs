//! Discount codes as staff manage them under `/api/v1/admin/discount-codes` (retention
//! offers are issued the same way).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;

/// A discount code with its rules and usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffDiscountCode {
    pub id: Uuid,
    /// Upper case; matched case-insensitively at checkout.
    pub code: String,
    /// `percent` or `fixed`.
    pub kind: String,
    /// For `percent`: basis points of the goods (1000 = 10 %).
    pub percent_basis_points: Option<i32>,
    /// For `fixed`: minor units of `currency`.
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub min_subtotal_minor: i64,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Uses in total across all customers.
    pub usage_limit: Option<i32>,
    pub times_used: i32,
    pub once_per_customer: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/admin/discount-codes`: every code, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscountCodeList {
    pub discount_codes: Vec<StaffDiscountCode>,
    pub meta: CountMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscountCodeEnvelope {
    pub discount_code: StaffDiscountCode,
}

/// `POST /api/v1/admin/discount-codes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DiscountCodeDraft {
    /// 3-32 letters, digits, `_` or `-`; matched case-insensitively.
    pub code: String,
    /// Percentage off the goods, in basis points (1000 = 10 %). Give this or `amount_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_basis_points: Option<u32>,
    /// A fixed amount off the goods, with `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub min_subtotal_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Uses in total across all customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<i32>,
    #[serde(default)]
    pub once_per_customer: bool,
}

/// `PATCH /api/v1/admin/discount-codes/{id}`: switches a code on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DiscountCodePatch {
    pub active: bool,
}
