//! The staff dashboard: sales today and over 30 days, work waiting, low stock, churn risk.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

/// Sales in one currency over a period: paid orders (not cancelled) and their revenue, net
/// of refunds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sales {
    pub orders: i64,
    pub revenue: Money,
}

/// One day of sales in one currency, for the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailySales {
    pub day: NaiveDate,
    pub orders: i64,
    pub revenue: Money,
}

/// A variant about to sell out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LowStock {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub variant_title: String,
    pub sku: String,
    pub stock_on_hand: i32,
}

/// Customers per churn risk band, as the latest finished scoring of every customer counted
/// them when it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskBands {
    pub model_version: String,
    pub scored_at: DateTime<Utc>,
    pub low: u64,
    pub medium: u64,
    pub high: u64,
}

/// `GET /api/v1/admin/dashboard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// When the figures were read. "Today" is the UTC day of this instant.
    pub as_of: DateTime<Utc>,
    /// Per currency (the shop may sell in several).
    pub today: Vec<Sales>,
    /// The last 30 days including today, per currency.
    pub last_30_days: Vec<Sales>,
    /// Every day of the last 30 with sales, oldest first, per currency.
    pub daily: Vec<DailySales>,
    /// Paid orders not yet fulfilled.
    pub awaiting_fulfilment: i64,
    /// Active variants with at most `low_stock_threshold` units, fewest first (up to 20).
    pub low_stock: Vec<LowStock>,
    pub low_stock_threshold: i32,
    /// Customers per churn risk band as the latest finished scoring of every customer left
    /// them; `None` until one has finished. Every figure comes from PostgreSQL, so the
    /// dashboard answers whole while MongoDB does not.
    pub churn_risk: Option<RiskBands>,
}
