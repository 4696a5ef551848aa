//! The shopper's cart as the API serves it, and the requests that change it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::{Currency, Money};

/// How an order travels to the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShippingMethod {
    #[default]
    Standard,
    Express,
}

impl ShippingMethod {
    pub const ALL: [ShippingMethod; 2] = [Self::Standard, Self::Express];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Express => "express",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

/// What the shopper pays, every part shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub shipping_minor: i64,
    /// Tax rate applied, in basis points (1900 = 19 %).
    pub tax_rate_basis_points: u32,
    /// True where prices include tax (the EU, the UK): `tax_minor` is then the tax contained
    /// in the goods and shipping, and `total = subtotal − discount + shipping`; false where
    /// tax is added (the US): `total = subtotal − discount + shipping + tax`.
    #[serde(default)]
    pub prices_include_tax: bool,
    /// The sum of each line's tax and shipping's, each rounded on its own.
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// Why a cart line cannot be bought as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum LineProblem {
    /// The product or variant is no longer sold.
    Unavailable,
    /// Fewer are in stock than the line asks for.
    InsufficientStock { available: i32 },
    /// It has no price in the currency of the market the cart is priced for (its unit price
    /// reads 0 and it counts in no total).
    NotSoldInMarket,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartLine {
    pub variant_id: Uuid,
    pub sku: String,
    pub product_id: Uuid,
    pub product_slug: String,
    pub product_name: String,
    pub variant_title: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
    pub image_url: Option<String>,
    pub unit_price: Money,
    pub compare_at_price: Option<Money>,
    pub quantity: i32,
    pub line_total: Money,
    /// What promotions take off this line (part of the totals' discount).
    #[serde(default)]
    pub promotion_discount_minor: i64,
    /// The line's share of the discount code (the rest of the totals' discount).
    #[serde(default)]
    pub code_discount_minor: i64,
    /// The tax in (or, where tax is added, on) what the line costs after its discounts; 0
    /// until the cart has a destination.
    #[serde(default)]
    pub tax_minor: i64,
    /// Units in stock right now.
    pub available_quantity: i32,
    /// Set when the line cannot be checked out as it is; such lines do not count in the totals.
    pub problem: Option<LineProblem>,
}

/// A cart as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cart {
    /// For guest carts: send it back as `X-Cart-Token` (browsers get the `nexus_cart` cookie).
    pub token: Option<String>,
    pub lines: Vec<CartLine>,
    /// Units across purchasable lines.
    pub item_count: i64,
    /// The currency of every line; `null` for an empty cart.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub currency: Option<Currency>,
    /// Subtotal, and shipping and tax when a destination was given.
    pub totals: Option<Totals>,
    /// True when every line can be checked out as it is.
    pub ready_for_checkout: bool,
    /// The automatic promotions the cart gets, each with what it takes off and why (their
    /// goods discounts are part of `totals.discount_minor`; free shipping is in
    /// `totals.shipping_minor` already).
    #[serde(default)]
    pub promotions: Vec<crate::promotions::AppliedPromotion>,
    /// Promotions within reach, and what the cart lacks for each.
    #[serde(default)]
    pub promotion_hints: Vec<crate::promotions::PromotionHint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartEnvelope {
    pub cart: Cart,
}

/// `GET /api/v1/cart` query: where the cart goes, for shipping and tax, and a discount code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct Destination {
    /// ISO 3166-1 alpha-2 country to estimate shipping and tax for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub shipping_method: ShippingMethod,
    /// A discount code to include in the totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
}

/// `POST /api/v1/cart/items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCartItem {
    pub variant_id: Uuid,
    /// Units to add (default 1).
    #[serde(default = "one")]
    pub quantity: i32,
}

fn one() -> i32 {
    1
}

/// `PUT /api/v1/cart/items/{variant_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityChange {
    /// The line's new quantity; 0 removes it.
    pub quantity: i32,
}

/// A country the shop ships to, with its market, tax rate and flat shipping prices (minor
/// units of its market's currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingCountry {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// English short name.
    pub name: String,
    pub tax_basis_points: u32,
    /// The market the country belongs to (`EU`, …): its currency and whether its prices
    /// include tax.
    #[serde(default)]
    pub market: String,
    #[serde(default)]
    pub prices_include_tax: bool,
    /// ISO 4217 code of the market's prices: what a cart shipped here is priced in.
    #[serde(default)]
    pub currency: String,
    pub standard_minor: i64,
    pub express_minor: i64,
    /// Standard shipping is free from this much (goods after discounts, minor units) on.
    #[serde(default)]
    pub free_standard_shipping_from_minor: i64,
}

/// `GET /api/v1/shipping/countries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingCountries {
    /// Sorted by name.
    pub countries: Vec<ShippingCountry>,
    pub meta: ShippingMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingMeta {
    pub total: i64,
    /// Where shoppers who have not said where they shop from are taken to be.
    #[serde(default)]
    pub default_country: String,
}
