//! Checkout and orders as the API serves them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::PostalAddress;
use crate::cart::ShippingMethod;
use crate::lists::PageMeta;
use crate::money::Money;

/// The header that makes a checkout safe to repeat: the same key with the same request never
/// places a second order.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Where an order is in its life. Refunds in part leave the status alone; a full refund moves
/// the order to `refunded`. (The API's domain holds the rules for moving between them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "order_status", rename_all = "snake_case")
)]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Fulfilled,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [Self; 7] = [
        Self::PendingPayment,
        Self::Paid,
        Self::Fulfilled,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Fulfilled => "fulfilled",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// How a shopper reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PendingPayment => "Awaiting payment",
            Self::Paid => "Paid",
            Self::Fulfilled => "Packed",
            Self::Shipped => "Shipped",
            Self::Delivered => "Delivered",
            Self::Cancelled => "Cancelled",
            Self::Refunded => "Refunded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// The line's number within the order (1, 2, …): what a return names.
    pub line_number: i32,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    /// The product's slug now (its page and reviews are at `/products/{slug}`).
    pub product_slug: String,
    pub sku: String,
    pub product_name: String,
    pub variant_title: String,
    pub unit_price: Money,
    pub quantity: i32,
    pub line_total: Money,
    /// What promotions took off this line (part of the order's discount).
    #[serde(default)]
    pub promotion_discount_minor: i64,
    /// The line's share of the discount code; `null` for orders placed before lines carried
    /// their own tax (their tax is the order's only).
    #[serde(default)]
    pub code_discount_minor: Option<i64>,
    /// The tax in (or on) what the line cost after its discounts; `null` as above.
    #[serde(default)]
    pub tax_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTotals {
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax_rate_basis_points: i32,
    /// True when the prices included tax: `total = subtotal − discount + shipping` and `tax`
    /// is the part of it that is tax; false when tax was added on top.
    #[serde(default)]
    pub prices_include_tax: bool,
    /// The sum of the lines' tax and shipping's.
    pub tax: Money,
    /// The tax in (or on) shipping; `null` for orders placed before lines carried their tax.
    #[serde(default)]
    pub shipping_tax: Option<Money>,
    pub total: Money,
    pub refunded: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentAttempt {
    pub kind: String,
    pub outcome: String,
    pub amount: Money,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub failure_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: Uuid,
    /// The number shown to the shopper, e.g. 100042.
    pub number: i64,
    pub account_id: Uuid,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    pub shipping_method: String,
    pub shipping_address: PostalAddress,
    pub payments: Vec<PaymentAttempt>,
    pub cancel_reason: Option<String>,
    pub tracking_number: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Until when the customer may ask to return items (set when the order is delivered,
    /// from the shop's return window then).
    pub returnable_until: Option<DateTime<Utc>>,
    /// Its returns, oldest first.
    #[serde(default)]
    pub returns: Vec<crate::returns::OrderReturn>,
    /// The automatic promotions it was given.
    #[serde(default)]
    pub promotions: Vec<crate::promotions::OrderPromotion>,
}

/// One order in a history list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: Uuid,
    pub number: i64,
    pub status: OrderStatus,
    pub total: Money,
    pub item_count: i64,
    pub placed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEnvelope {
    pub order: Order,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderList {
    pub orders: Vec<OrderSummary>,
    pub meta: PageMeta,
}

/// `GET /api/v1/orders` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OrderListParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentDetails {
    /// With the simulated provider: 4242424242424242 succeeds, 4000000000000002 is declined,
    /// 4000000000009995 has insufficient funds, 4000000000000119 fails like an outage.
    pub card_number: String,
    pub expiry_month: u32,
    pub expiry_year: i32,
    pub cvc: String,
}

/// `POST /api/v1/checkout`, sent with an `Idempotency-Key` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// Where to ship; or give `address_id` of a saved address instead.
    pub shipping_address: Option<PostalAddress>,
    pub address_id: Option<Uuid>,
    pub shipping_method: ShippingMethod,
    /// A discount code, e.g. `WELCOME10`.
    pub discount_code: Option<String>,
    pub payment: PaymentDetails,
    /// ISO 4217: the currency of the prices the shopper was shown (the cart's). When the
    /// address's market prices in another, nothing is charged: 409 `currency_changed`, so
    /// that no one pays amounts they never saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_currency: Option<String>,
}

impl Order {
    /// Units of an order line that may still be returned: bought, less those in returns
    /// that were not refused.
    pub fn returnable_quantity(&self, line_number: i32) -> i32 {
        let bought = self
            .lines
            .iter()
            .find(|line| line.line_number == line_number)
            .map_or(0, |line| line.quantity);
        let held: i32 = self
            .returns
            .iter()
            .filter(|r| r.status != crate::returns::ReturnStatus::Refused)
            .flat_map(|r| &r.lines)
            .filter(|line| line.line_number == line_number)
            .map(|line| line.quantity)
            .sum();
        (bought - held).max(0)
    }

    /// Whether the customer may ask to return something of it at `now`.
    pub fn may_return_at(&self, now: DateTime<Utc>) -> bool {
        self.returnable_until.is_some_and(|until| now < until)
            && matches!(self.status, OrderStatus::Delivered)
            && self
                .lines
                .iter()
                .any(|line| self.returnable_quantity(line.line_number) > 0)
    }
}
