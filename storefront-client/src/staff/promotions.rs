//! Automatic promotions as staff manage them under `/api/v1/admin/promotions`: what a
//! promotion gives (its rule), on what (its scope), when, within which budget, and whether it
//! combines with others.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;

/// What a promotion gives. Percentages are basis points (1000 = 10 %), amounts minor units of
/// the promotion's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PromotionRule {
    /// For every `buy` units in scope, `get` more at `off_basis_points` off — the cheapest
    /// units are the ones discounted. "3 for 2" is buy 2, get 1 at 10000.
    BuyXGetY {
        buy: u32,
        get: u32,
        off_basis_points: u32,
    },
    /// From a number of units in scope, a percentage off all of them; the highest tier reached
    /// applies ("10 % off 5 or more").
    QuantityTiers { tiers: Vec<QuantityTier> },
    /// From an amount spent in scope (after other promotions on the lines), a percentage or an
    /// amount off that spend; the highest tier reached applies.
    SpendTiers { tiers: Vec<SpendTier> },
    /// Shipping free from an amount spent in scope; express too when `include_express`.
    FreeShipping {
        min_spend_minor: i64,
        #[serde(default)]
        include_express: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuantityTier {
    pub min_quantity: u32,
    pub off_basis_points: u32,
}

/// Give `off_basis_points` or `off_minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpendTier {
    pub min_spend_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_basis_points: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_minor: Option<i64>,
}

/// The goods a promotion counts and discounts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PromotionScope {
    /// Every product.
    #[default]
    All,
    Products {
        product_ids: Vec<Uuid>,
    },
    /// Products of these categories and of their subcategories.
    Categories {
        category_ids: Vec<Uuid>,
    },
}

/// A promotion with its rules and what it has used of its budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffPromotion {
    pub id: Uuid,
    pub title: String,
    pub rule: PromotionRule,
    pub scope: PromotionScope,
    /// The currency of its amounts; carts in other currencies do not get it.
    pub currency: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Applies together with other combining promotions; otherwise the shopper gets whichever
    /// saves more. Discount codes apply on top either way.
    pub combines: bool,
    /// Orders it may discount in all.
    pub budget_uses: Option<i32>,
    /// What it may give in all (goods and shipping, minor units).
    pub budget_minor: Option<i64>,
    /// Only members of this customer group or segment get it (signed in).
    pub segment_id: Option<Uuid>,
    pub used_uses: i32,
    pub used_minor: i64,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/admin/promotions`: every promotion, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionList {
    pub promotions: Vec<StaffPromotion>,
    pub meta: CountMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionEnvelope {
    pub promotion: StaffPromotion,
}

/// `POST /api/v1/admin/promotions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromotionDraft {
    /// Shown to shoppers on the cart, 1-80 characters.
    pub title: String,
    pub rule: PromotionRule,
    #[serde(default)]
    pub scope: PromotionScope,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub combines: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_uses: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_minor: Option<i64>,
    /// Only members of this customer group or segment get it (signed in; guests never do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<Uuid>,
}

/// `PATCH /api/v1/admin/promotions/{id}`: pauses or resumes a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromotionPatch {
    pub active: bool,
}
