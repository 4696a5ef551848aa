//! Automatic promotions as the shopper meets them: on the cart (what applied, what it took
//! off and why; what is within reach) and on the order (what was given).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A promotion the cart gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedPromotion {
    pub promotion_id: Uuid,
    /// As the shop named it, e.g. "3 for 2 on socks".
    pub title: String,
    /// Why it applies, in the cart's terms, e.g. "3 items of the offer: 1 free".
    pub reason: String,
    /// Taken off the goods (minor units of the cart's currency).
    pub discount_minor: i64,
    /// Taken off shipping.
    pub shipping_discount_minor: i64,
}

/// A promotion the cart does not get, and what it would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionHint {
    pub promotion_id: Uuid,
    pub title: String,
    pub missing: MissingForPromotion,
}

/// What a cart lacks for a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MissingForPromotion {
    /// This many more units of the promotion's products.
    Units { units: u32 },
    /// This much more spent on the promotion's products (minor units).
    Spend { amount_minor: i64 },
    /// It does not combine with a promotion the cart gets, which saves more.
    BetterOffer { applied: String },
}

/// A promotion an order was given, kept with the order as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPromotion {
    pub promotion_id: Uuid,
    pub title: String,
    pub discount_minor: i64,
    pub shipping_discount_minor: i64,
}
