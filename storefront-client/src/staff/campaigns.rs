//! Retention campaigns as staff run them under `/api/v1/admin/campaigns`: who qualifies (an
//! audience rule over the latest churn scores), what they are offered, the holdout that
//! proves whether the offer paid, and the results per arm.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;
use crate::money::Money;

/// Who qualifies, read against each customer's latest churn score and order history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AudienceRule {
    /// `low`, `medium`, `high`; empty for every band.
    #[serde(default)]
    pub risk_bands: Vec<String>,
    /// Churn probability from (inclusive), 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_probability: Option<f64>,
    /// Churn probability up to (inclusive), 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_probability: Option<f64>,
    /// Predicted spend over the next 365 days, at least (minor units of the offer's currency).
    /// Customers without enough history for a prediction do not qualify when this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_predicted_value_minor: Option<i64>,
    /// Excludes everyone who ordered in the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_since_last_order: Option<i32>,
    /// Excludes customers whose last order is older than N days (long gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_since_last_order: Option<i32>,
    /// Excludes customers who said no to marketing (withdrew consent). On by default.
    #[serde(default = "yes")]
    pub exclude_opted_out: bool,
    /// Only members of this customer group or segment, as it stands each time customers are
    /// enrolled (`/admin/segments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<Uuid>,
}

fn yes() -> bool {
    true
}

impl Default for AudienceRule {
    fn default() -> Self {
        Self {
            risk_bands: Vec::new(),
            min_probability: None,
            max_probability: None,
            min_predicted_value_minor: None,
            min_days_since_last_order: None,
            max_days_since_last_order: None,
            exclude_opted_out: true,
            segment_id: None,
        }
    }
}

/// What each treated customer gets: a personal single-use code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OfferDraft {
    /// Percentage off the goods in basis points (1500 = 15 %). Give this or `amount_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_basis_points: Option<u32>,
    /// A fixed amount off the goods, in minor units of `currency`; below `min_spend_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    /// The shop's currency the offer (and the campaign's revenue) is counted in.
    pub currency: String,
    #[serde(default)]
    pub min_spend_minor: i64,
    /// How long the code is valid, which is also each customer's measurement window.
    #[serde(default = "fourteen")]
    pub days_valid: i32,
}

fn fourteen() -> i32 {
    14
}

/// Where a treated customer meets the offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An email (only to customers who consented to marketing).
    Email,
    /// A banner in the web shop while logged in.
    Web,
}

impl Channel {
    pub const ALL: [Self; 2] = [Self::Email, Self::Web];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Web => "web",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignMode {
    /// Enrols who qualifies at launch, once.
    OneOff,
    /// Enrols at launch, then after every scoring run the customers who newly qualify.
    Automatic,
}

impl CampaignMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneOff => "one_off",
            Self::Automatic => "automatic",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::OneOff, Self::Automatic]
            .into_iter()
            .find(|m| m.as_str() == raw)
    }
}

/// `POST /api/v1/admin/campaigns` (launch) and `POST /api/v1/admin/campaigns/preview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignDraft {
    pub name: String,
    #[serde(default)]
    pub audience: AudienceRule,
    pub offer: OfferDraft,
    /// Defaults to both.
    #[serde(default = "both_channels")]
    pub channels: Vec<Channel>,
    /// Share of the audience kept back, offered nothing, to measure against: 1 to 99.
    #[serde(default = "ten")]
    pub holdout_percent: i32,
    /// No customer gets two offers within this many days, across campaigns.
    #[serde(default = "thirty")]
    pub frequency_cap_days: i32,
    /// At most this many customers get the offer (the holdout comes on top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_recipients: Option<i32>,
    #[serde(default = "one_off")]
    pub mode: CampaignMode,
}

fn both_channels() -> Vec<Channel> {
    Channel::ALL.to_vec()
}

fn ten() -> i32 {
    10
}

fn thirty() -> i32 {
    30
}

fn one_off() -> CampaignMode {
    CampaignMode::OneOff
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Enrols (automatic) and sends.
    Running,
    /// Enrols no one new until resumed; codes already issued stay valid.
    Paused,
    /// For good: no new enrolments; issued codes stay valid to their expiry, and results go on
    /// counting until every window has closed.
    Ended,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Ended => "ended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Running, Self::Paused, Self::Ended]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// The offer as launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    /// "15 % off your next order", as customers read it.
    pub headline: String,
    pub percent_basis_points: Option<u32>,
    pub amount_minor: Option<i64>,
    pub currency: String,
    pub min_spend_minor: i64,
    pub days_valid: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub status: CampaignStatus,
    pub mode: CampaignMode,
    pub audience: AudienceRule,
    pub offer: Offer,
    pub channels: Vec<Channel>,
    pub holdout_percent: i32,
    pub frequency_cap_days: i32,
    pub max_recipients: Option<i32>,
    /// Seeds the draw into treatment or holdout.
    pub seed: i64,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub treated: i64,
    pub held_out: i64,
    pub last_enrolled_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/admin/campaigns`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignList {
    pub campaigns: Vec<Campaign>,
    pub meta: CountMeta,
}

/// `POST /api/v1/admin/campaigns`, `PATCH …/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignEnvelope {
    pub campaign: Campaign,
}

/// `PATCH /api/v1/admin/campaigns/{id}`: pause, resume (`running`) or end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    pub status: CampaignStatus,
}

/// How many customers a draft would reach today and what it could prove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudiencePreview {
    /// Customers a launch would enrol now: who qualifies, within the recipient cap
    /// (`treated + held_out`).
    pub qualifying: i64,
    /// Of them, how many would be enrolled: offered, and held out.
    pub treated: i64,
    pub held_out: i64,
    pub by_band: BandCounts,
    /// The purchase rate the holdout is expected to show within the window, from the churn
    /// scores (one minus the mean churn probability).
    pub expected_purchase_rate: f64,
    /// The smallest uplift in purchase rate, in percentage points, that this audience would
    /// detect 80 % of the times it is real, at 5 % significance; `null` with no audience.
    pub minimum_detectable_uplift_points: Option<f64>,
    /// When the scores were computed, by which model.
    pub scored_at: DateTime<Utc>,
    pub model_version: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BandCounts {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudiencePreviewEnvelope {
    pub preview: AudiencePreview,
}

/// One arm's figures, from PostgreSQL orders (paid, net of refunds) within each customer's
/// window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArmResults {
    pub customers: i64,
    pub emails_sent: i64,
    pub banners_shown: i64,
    pub codes_redeemed: i64,
    /// Customers with at least one order in their window.
    pub buyers: i64,
    pub orders: i64,
    /// Order totals (after the discount) less refunds.
    pub revenue: Money,
    /// What the campaign's codes took off those orders.
    pub discount_cost: Money,
    /// `buyers / customers`; 0 with no customers.
    pub purchase_rate: f64,
    /// `revenue / customers`, in minor units (fractional: it is a mean).
    pub net_revenue_per_customer_minor: f64,
}

/// Treatment minus holdout, with its 95 % confidence interval, or why not yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Uplift {
    /// No customer's window has closed yet (or an arm is still empty): figures so far would
    /// mislead.
    TooEarly {
        /// When the first windows close; `null` when no one is enrolled.
        ready_at: Option<DateTime<Utc>>,
    },
    Measured {
        estimate: f64,
        low: f64,
        high: f64,
        /// The interval excludes zero.
        significant: bool,
        /// Customers whose window has closed, per arm, that the estimate is made on.
        treated: i64,
        held_out: i64,
    },
}

/// One day of the cumulative purchase rate per arm (customers enrolled by then).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyRates {
    pub day: NaiveDate,
    pub treated: f64,
    pub held_out: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignResults {
    pub campaign_id: Uuid,
    pub treated: ArmResults,
    pub held_out: ArmResults,
    /// In percentage points of purchase rate.
    pub purchase_rate_uplift: Uplift,
    /// In minor units of net revenue per customer.
    pub net_revenue_uplift: Uplift,
    /// When every enrolled customer's window will have closed; `null` with no enrolment.
    pub final_at: Option<DateTime<Utc>>,
    pub daily: Vec<DailyRates>,
}

/// `GET /api/v1/admin/campaigns/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignDetail {
    pub campaign: Campaign,
    pub results: CampaignResults,
}

/// A whole-shop scoring run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoringRun {
    pub id: Uuid,
    /// `staff` or `schedule`.
    pub trigger: String,
    pub model_version: String,
    /// `running`, `finished` or `failed`.
    pub status: String,
    pub customers: Option<i32>,
    /// Customers automatic campaigns enrolled after it.
    pub enrolled: Option<i32>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How often every customer is scored on the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoringSchedule {
    pub enabled: bool,
    pub every_hours: i32,
    /// When the next scheduled run is due: `every_hours` after the latest run of any kind
    /// started, or now if that has passed (a run still going is waited for). `null` when the
    /// schedule is off or no churn model is active, so nothing would be scored.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/admin/churn/runs`: the latest runs, newest first, and the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoringRunList {
    pub runs: Vec<ScoringRun>,
    pub meta: CountMeta,
    pub schedule: ScoringSchedule,
}
