//! The churn model registry (upload, list, activate, roll back), one customer's churn score,
//! and score-all jobs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A registered model as staff see it in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisteredModel {
    pub id: Uuid,
    pub version: String,
    pub kind: String,
    pub feature_definition_version: u32,
    pub created_at: DateTime<Utc>,
    pub uploaded_at: DateTime<Utc>,
    pub size_bytes: i64,
    /// Validation and test metrics as the artifact reports them.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metrics: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub training: serde_json::Value,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelEnvelope {
    pub model: RegisteredModel,
}

/// Registered models, newest upload first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelList {
    pub models: Vec<RegisteredModel>,
    pub meta: ModelListMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelListMeta {
    /// The version requests are scored with, if any.
    pub active: Option<String>,
    /// Artifacts must carry this feature-definition version.
    pub feature_definition_version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChurnEnvelope {
    pub churn: CustomerChurn,
}

/// One customer's churn probability now, with the features behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerChurn {
    pub customer_id: Uuid,
    /// False when the customer has no paid order yet: there is nothing to score.
    pub scorable: bool,
    /// Why the customer cannot be scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// `low`, `medium` or `high`, from the model's risk bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_band: Option<String>,
    pub model_version: String,
    pub scored_at: DateTime<Utc>,
    /// The features pushing the probability up, strongest first.
    pub drivers: Vec<Driver>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub features: BTreeMap<String, f64>,
    /// What the customer is expected to buy over the next 365 days and when they are next
    /// expected to order; `null` when the active model carries no lifetime models (trained
    /// before they existed) or the customer is not scorable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeValue>,
}

/// A customer's expected value (BG/NBD for how often they buy, Gamma-Gamma for how much),
/// or why there is no prediction yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LifetimeValue {
    /// One-time buyers and customers whose first order is recent: a rhythm cannot be read
    /// from one order.
    NotEnoughHistory {
        /// `new_customer` or `single_order_day`.
        reason: String,
        /// The reason in words, for staff.
        message: String,
    },
    Predicted {
        /// Orders expected over the next 365 days.
        expected_orders_365: f64,
        /// Spend expected per order, in minor units of `currency`.
        expected_order_value_minor: i64,
        /// Spend expected over the next 365 days (the two above multiplied), in minor units of
        /// `currency`.
        predicted_value_365_minor: i64,
        /// The currency of the customer's orders, which the amounts are in; `null` when they
        /// bought in several, and the amounts add up different currencies (read them as a
        /// rough size only).
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "EUR"))]
        currency: Option<crate::money::Currency>,
        /// The chance of at least one order within 365 days.
        order_chance_365: f64,
        /// The day by which another order is more likely than not; `null` when that day does
        /// not come within the year.
        next_order_expected_on: Option<chrono::NaiveDate>,
    },
}

/// A feature that pushes a customer's churn probability up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Driver {
    pub feature: String,
    pub value: f64,
    /// The typical (median) customer's value.
    pub typical: f64,
    /// How much higher the probability is with this customer's value than with the typical one.
    pub effect: f64,
    /// The feature in the shop's words: "42 days past their usual 25-day rhythm".
    #[serde(default)]
    pub description: String,
}

/// Progress of a score-all job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreJob {
    pub id: Uuid,
    /// `running`, `finished` or `failed`.
    pub status: String,
    pub model_version: String,
    /// Customers to score (known once their features are computed; 0 before).
    pub total: u64,
    /// Customers scored and stored so far.
    pub done: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobEnvelope {
    pub job: ScoreJob,
    /// When finished: the highest-risk customers, highest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_customers: Vec<TopCustomer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopCustomer {
    pub customer_id: String,
    pub probability: f64,
    pub risk_band: String,
}

/// One row of purchase history for churn analysis, as churn-lab reads transactions: a paid
/// order is a `purchase`, a refund a negative `refund` row, a cancelled order a
/// `cancellation`. Amounts are in major units: this is data to analyse, not money to charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetTransaction {
    pub customer_id: String,
    /// When the order was placed, in UTC.
    pub ordered_at: chrono::DateTime<chrono::Utc>,
    pub amount: f64,
    pub quantity: i64,
    /// `purchase`, `refund` or `cancellation`.
    pub kind: String,
}

/// One behaviour event of a known customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetEvent {
    pub customer_id: String,
    /// When it happened, in UTC.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// The event kind, e.g. `product_view`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /api/v1/admin/churn/dataset`: the shop's history as churn-lab trains on it, so the
/// staff console can run the analysis without a database connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChurnDataset {
    pub exported_at: DateTime<Utc>,
    pub transactions: Vec<DatasetTransaction>,
    pub events: Vec<DatasetEvent>,
}
