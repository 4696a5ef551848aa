//! Orders: the status machine, shipping prices and discount codes. A checkout's arithmetic
//! (promotions, the code, shipping, tax per line) is `promotions::price_items`, the one place
//! a cart or an order is priced; tax is `tax`.

/// Shared with the API's clients: how an order travels, and what the shopper pays.
pub use storefront_client::cart::{ShippingMethod, Totals};

/// The wire enum is shared with the API's clients; the rules for moving between statuses
/// live here.
pub use storefront_client::orders::OrderStatus;

/// The order status machine.
pub trait OrderStatusRules: Copy {
    /// The statuses an order may move to from this one.
    fn next(self) -> &'static [OrderStatus];
    /// Whether a move to `to` is allowed; the error lists what is.
    fn check_transition(self, to: OrderStatus) -> Result<(), IllegalTransition>;
    /// Stock goes back on the shelf when an order is cancelled before it left the warehouse.
    fn restocks_on_cancel(self) -> bool;
    /// Money has been taken and not (fully) given back.
    fn is_refundable(&self) -> bool;
}

impl OrderStatusRules for OrderStatus {
    fn next(self) -> &'static [Self] {
        match self {
            Self::PendingPayment => &[Self::Paid, Self::Cancelled],
            Self::Paid => &[Self::Fulfilled, Self::Cancelled, Self::Refunded],
            Self::Fulfilled => &[Self::Shipped, Self::Refunded],
            Self::Shipped => &[Self::Delivered, Self::Refunded],
            Self::Delivered => &[Self::Refunded],
            Self::Cancelled | Self::Refunded => &[],
        }
    }

    fn check_transition(self, to: Self) -> Result<(), IllegalTransition> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(IllegalTransition {
                from: self,
                to,
                allowed: self.next().to_vec(),
            })
        }
    }

    fn restocks_on_cancel(self) -> bool {
        matches!(self, Self::PendingPayment | Self::Paid)
    }

    fn is_refundable(&self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Fulfilled | Self::Shipped | Self::Delivered
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub allowed: Vec<OrderStatus>,
}

impl std::fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let allowed: Vec<&str> = self.allowed.iter().map(|s| s.as_str()).collect();
        write!(
            f,
            "An order that is {} cannot become {}; allowed: {}.",
            self.from.as_str(),
            self.to.as_str(),
            if allowed.is_empty() {
                "none (final status)".to_owned()
            } else {
                allowed.join(", ")
            }
        )
    }
}

const MAX_TRACKING_NUMBER: usize = 100;
/// A cancellation's or a refund's reason, as staff give it.
pub const MAX_REASON: usize = 500;
/// A staff note on an order.
pub const MAX_NOTE: usize = 5000;

/// A move of an order that staff asked for, checked before it meets the order: refunds go
/// through their own route (they need an amount), and a shipped order needs its tracking
/// number, which the customer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffTransition {
    pub to: OrderStatus,
    pub tracking_number: Option<String>,
    /// Why, for cancellations.
    pub reason: Option<String>,
}

impl StaffTransition {
    pub fn parse(
        request: storefront_client::staff::orders::TransitionRequest,
    ) -> Result<Self, crate::domain::FieldError> {
        use crate::domain::{FieldError, text};
        if request.to == OrderStatus::Refunded {
            return Err(FieldError::new(
                "to",
                "refunds go through /refunds with an amount",
            ));
        }
        let tracking_number =
            text::optional_line(request.tracking_number.as_deref(), MAX_TRACKING_NUMBER)
                .map_err(|message| FieldError::new("tracking_number", message))?;
        if tracking_number.is_none() && request.to == OrderStatus::Shipped {
            return Err(FieldError::new(
                "tracking_number",
                "is required to ship an order",
            ));
        }
        let reason = text::optional_line(request.reason.as_deref(), MAX_REASON)
            .map_err(|message| FieldError::new("reason", message))?;
        Ok(Self {
            to: request.to,
            tracking_number,
            reason,
        })
    }
}

/// A country's flat shipping prices and tax, as the shop configured them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryRates {
    /// The country's rate, included in its market's prices or added to them.
    pub tax: super::tax::TaxRate,
    pub standard_minor: i64,
    pub express_minor: i64,
}

/// The shipping price: flat per method and country; standard is free from
/// `free_standard_from_minor` worth of goods (after discounts).
pub fn shipping_minor(
    method: ShippingMethod,
    rates: CountryRates,
    goods_minor: i64,
    free_standard_from_minor: i64,
) -> i64 {
    match method {
        ShippingMethod::Standard if goods_minor >= free_standard_from_minor => 0,
        ShippingMethod::Standard => rates.standard_minor,
        ShippingMethod::Express => rates.express_minor,
    }
}

/// A discount as a checkout applies it; whether the code may be used at all (expiry, usage
/// limits, once per customer) is decided before, with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountValue {
    /// Basis points of the subtotal: 1000 = 10 %.
    Percent { basis_points: u32 },
    /// A fixed amount in minor units, never more than the subtotal.
    Fixed { amount_minor: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discount {
    pub value: DiscountValue,
    pub min_subtotal_minor: i64,
}

/// A discount code as the shop configured it, with how it has been used so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountCode {
    pub code: String,
    pub discount: Discount,
    /// For fixed amounts: the currency the amount is in.
    pub currency: Option<super::money::Currency>,
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub usage_limit: Option<i32>,
    pub times_used: i32,
    pub once_per_customer: bool,
    pub active: bool,
    /// A personal code (a campaign's offer) works only for this account.
    pub account_id: Option<uuid::Uuid>,
}

/// Why a code cannot be used for this checkout, in words for the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountRejection {
    Inactive,
    NotYetValid,
    Expired,
    UsedUp,
    AlreadyUsedByYou,
    WrongCurrency,
    BelowMinimum {
        min_subtotal_minor: i64,
    },
    /// A personal code presented by someone else (or by a guest).
    NotYours,
}

impl std::fmt::Display for DiscountRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inactive => f.write_str("this code is not active"),
            Self::NotYetValid => f.write_str("this code is not valid yet"),
            Self::Expired => f.write_str("this code has expired"),
            Self::UsedUp => f.write_str("this code has been used up"),
            Self::AlreadyUsedByYou => f.write_str("you have already used this code"),
            Self::WrongCurrency => f.write_str("this code is for another currency"),
            Self::NotYours => f.write_str(
                "this code is personal: sign in to the account it was sent to to use it",
            ),
            Self::BelowMinimum { min_subtotal_minor } => {
                write!(
                    f,
                    "this code needs a subtotal of at least {min_subtotal_minor} (minor units)"
                )
            }
        }
    }
}

impl DiscountCode {
    /// Whether the code may be applied now, by this customer (`None`: a guest) who has (or
    /// has not) used it.
    pub fn check(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        currency: super::money::Currency,
        customer: Option<uuid::Uuid>,
        used_by_customer: bool,
    ) -> Result<Discount, DiscountRejection> {
        if self.account_id.is_some() && self.account_id != customer {
            return Err(DiscountRejection::NotYours);
        }
        if !self.active {
            return Err(DiscountRejection::Inactive);
        }
        if self.starts_at.is_some_and(|starts| now < starts) {
            return Err(DiscountRejection::NotYetValid);
        }
        if self.expires_at.is_some_and(|expires| now >= expires) {
            return Err(DiscountRejection::Expired);
        }
        if self
            .usage_limit
            .is_some_and(|limit| self.times_used >= limit)
        {
            return Err(DiscountRejection::UsedUp);
        }
        if self.once_per_customer && used_by_customer {
            return Err(DiscountRejection::AlreadyUsedByYou);
        }
        if self
            .currency
            .is_some_and(|code_currency| code_currency != currency)
        {
            return Err(DiscountRejection::WrongCurrency);
        }
        Ok(self.discount)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// The subtotal is below the discount's minimum.
    BelowMinimum { min_subtotal_minor: i64 },
    /// Amounts beyond what the shop can represent.
    Overflow,
}

/// `amount × basis_points / 10_000`, rounded half up, without overflow for any i64 amount.
pub fn apply_basis_points(amount_minor: i64, basis_points: u32) -> i64 {
    let scaled = i128::from(amount_minor) * i128::from(basis_points);
    let rounded = (scaled + 5_000).div_euclid(10_000);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_shipping_is_free_from_the_threshold_express_never() {
        let rates = CountryRates {
            tax: crate::domain::tax::TaxRate {
                basis_points: 1900,
                treatment: crate::domain::tax::TaxTreatment::Included,
            },
            standard_minor: 490,
            express_minor: 1290,
        };
        assert_eq!(
            shipping_minor(ShippingMethod::Standard, rates, 4999, 5000),
            490
        );
        assert_eq!(
            shipping_minor(ShippingMethod::Standard, rates, 5000, 5000),
            0
        );
        assert_eq!(
            shipping_minor(ShippingMethod::Express, rates, 90_000, 5000),
            1290
        );
    }

    #[test]
    fn discount_codes_check_window_limits_and_customer() {
        use chrono::TimeZone;
        let eur = crate::domain::money::Currency::parse("EUR").unwrap();
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .unwrap();
        let code = DiscountCode {
            code: "WELCOME10".into(),
            discount: Discount {
                value: DiscountValue::Percent { basis_points: 1000 },
                min_subtotal_minor: 0,
            },
            currency: None,
            starts_at: Some(now - chrono::Duration::days(1)),
            expires_at: Some(now + chrono::Duration::days(1)),
            usage_limit: Some(2),
            times_used: 1,
            once_per_customer: true,
            active: true,
            account_id: None,
        };
        assert!(code.check(now, eur, None, false).is_ok());
        assert_eq!(
            code.check(now, eur, None, true),
            Err(DiscountRejection::AlreadyUsedByYou)
        );
        assert_eq!(
            code.check(now + chrono::Duration::days(2), eur, None, false),
            Err(DiscountRejection::Expired)
        );
        assert_eq!(
            code.check(now - chrono::Duration::days(2), eur, None, false),
            Err(DiscountRejection::NotYetValid)
        );
        let used_up = DiscountCode {
            times_used: 2,
            ..code.clone()
        };
        assert_eq!(
            used_up.check(now, eur, None, false),
            Err(DiscountRejection::UsedUp)
        );
        let usd = DiscountCode {
            currency: Some(crate::domain::money::Currency::parse("USD").unwrap()),
            ..code
        };
        assert_eq!(
            usd.check(now, eur, None, false),
            Err(DiscountRejection::WrongCurrency)
        );
        let owner = uuid::Uuid::from_u128(7);
        let personal = DiscountCode {
            account_id: Some(owner),
            ..usd
        };
        assert_eq!(
            personal.check(now, eur, Some(uuid::Uuid::from_u128(8)), false),
            Err(DiscountRejection::NotYours)
        );
        assert_eq!(
            personal.check(now, eur, None, false),
            Err(DiscountRejection::NotYours),
            "a guest cannot use it either"
        );
        assert_eq!(
            personal.check(now, eur, Some(owner), false),
            Err(DiscountRejection::WrongCurrency),
            "its owner gets past the first check"
        );
    }

    #[test]
    fn status_machine_allows_only_the_documented_moves() {
        use OrderStatus::*;
        let allowed = [
            (PendingPayment, Paid),
            (PendingPayment, Cancelled),
            (Paid, Fulfilled),
            (Paid, Cancelled),
            (Paid, Refunded),
            (Fulfilled, Shipped),
            (Fulfilled, Refunded),
            (Shipped, Delivered),
            (Shipped, Refunded),
            (Delivered, Refunded),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(
                    from.check_transition(to).is_ok(),
                    expected,
                    "{from:?} -> {to:?}"
                );
            }
        }
        let error = Delivered.check_transition(Cancelled).unwrap_err();
        assert_eq!(error.allowed, vec![Refunded]);
        assert!(error.to_string().contains("allowed: refunded"));
    }
}

/// What customers and staff read about an order: the wire types.
pub mod views {
    pub use storefront_client::orders::{
        Order, OrderLine, OrderSummary, OrderTotals, PaymentAttempt,
    };
}
