//! Returns: the status machine, a customer's request checked before it meets the order, and
//! the arithmetic of what a return refunds — all in integer minor units of the order's
//! currency.

use std::collections::BTreeSet;

use storefront_client::returns::ReturnRequest;
pub use storefront_client::returns::{ReturnReason, ReturnStatus};

use super::{FieldError, tax::TaxRate, text};

/// What a customer may write with a return request.
pub const MAX_CUSTOMER_NOTE: usize = 2000;
/// Why staff refused a return, as the customer is told.
pub const MAX_REFUSAL_REASON: usize = 500;
/// Lines in one return: no order has more (a cart holds at most 100).
const MAX_LINES: usize = 100;

/// The steps staff take with a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnStep {
    Approve,
    Refuse,
    Receive,
    Refund,
}

impl ReturnStep {
    /// The status a return must be in for this step, and the one it leaves it in.
    pub fn moves(self) -> (ReturnStatus, ReturnStatus) {
        match self {
            Self::Approve => (ReturnStatus::Requested, ReturnStatus::Approved),
            Self::Refuse => (ReturnStatus::Requested, ReturnStatus::Refused),
            Self::Receive => (ReturnStatus::Approved, ReturnStatus::Received),
            Self::Refund => (ReturnStatus::Received, ReturnStatus::Refunded),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Refuse => "refuse",
            Self::Receive => "receive",
            Self::Refund => "refund",
        }
    }

    /// The step as done ("approved").
    pub fn done(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Refuse => "refused",
            Self::Receive => "received",
            Self::Refund => "refunded",
        }
    }

    /// Checks that a return in `status` may take this step.
    pub fn check(self, status: ReturnStatus) -> Result<ReturnStatus, StepRefused> {
        let (from, to) = self.moves();
        if status == from {
            Ok(to)
        } else {
            Err(StepRefused { step: self, status })
        }
    }
}

/// A step asked of a return in the wrong status — most often the second of two clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRefused {
    pub step: ReturnStep,
    pub status: ReturnStatus,
}

impl std::fmt::Display for StepRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (from, _) = self.step.moves();
        write!(
            f,
            "A return that is {} cannot be {}; only a {} return can.",
            self.status.as_str(),
            self.step.done(),
            from.as_str()
        )
    }
}

/// A customer's return request, checked on its own (the order's lines and what is left to
/// return are checked against the order, under its lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    /// `(line_number, quantity, reason)`, one per order line, in line order.
    pub lines: Vec<(i32, i32, ReturnReason)>,
    pub note: Option<String>,
}

impl NewReturn {
    pub fn parse(request: &ReturnRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if request.lines.is_empty() {
            errors.push(FieldError::new("lines", "name at least one line to return"));
        }
        if request.lines.len() > MAX_LINES {
            errors.push(FieldError::new(
                "lines",
                format!("at most {MAX_LINES} lines per return"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, line) in request.lines.iter().enumerate() {
            if line.quantity < 1 {
                errors.push(FieldError::new(
                    format!("lines[{index}].quantity"),
                    "must be at least 1",
                ));
            }
            if !seen.insert(line.line_number) {
                errors.push(FieldError::new(
                    format!("lines[{index}].line_number"),
                    "names a line already in this return",
                ));
            }
        }
        let note = text::optional_line(request.note.as_deref(), MAX_CUSTOMER_NOTE)
            .map_err(|message| errors.push(FieldError::new("note", message)))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut lines: Vec<_> = request
            .lines
            .iter()
            .map(|line| (line.line_number, line.quantity, line.reason))
            .collect();
        lines.sort_by_key(|(line_number, _, _)| *line_number);
        Ok(Self { lines, note })
    }
}

/// What an order was paid, as a return's refund needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidTotals {
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub shipping_minor: i64,
    /// The order's tax: included in its prices, or added to them.
    pub tax: TaxRate,
    pub total_minor: i64,
}

/// What `units` of an order line were sold for: their price less their share of what
/// promotions took off the line (rounded down, so all of a line's units come to exactly what
/// the line cost).
pub fn sold_for(unit_price_minor: i64, quantity: i32, promotion_minor: i64, units: i32) -> i64 {
    if quantity <= 0 {
        return 0;
    }
    let units = units.clamp(0, quantity);
    let promotion_share = i128::from(promotion_minor) * i128::from(units) / i128::from(quantity);
    unit_price_minor.saturating_mul(i64::from(units)) - i64::try_from(promotion_share).unwrap_or(0)
}

/// Goods sent back, by what they were sold for (see `SoldGoods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnedGoods {
    pub goods_minor: i64,
    /// Every unit of the order is back.
    pub completes_order: bool,
}

/// What the goods returned so far are worth back: their price less their share of the
/// order's discount (rounded down, the shop's favour by less than a cent), plus tax on that at
/// the order's rate where tax was added (where prices included it, it is in there) — and, once the whole order is back and the policy refunds shipping, the
/// whole total. Never more than the total, and never less for more goods.
pub fn refund_for(order: &PaidTotals, goods: ReturnedGoods, refund_shipping: bool) -> i64 {
    if goods.completes_order && refund_shipping {
        return order.total_minor;
    }
    if order.subtotal_minor <= 0 {
        return 0;
    }
    let goods_minor = goods.goods_minor.clamp(0, order.subtotal_minor);
    let discount_share = i64::try_from(
        i128::from(order.discount_minor) * i128::from(goods_minor)
            / i128::from(order.subtotal_minor),
    )
    .unwrap_or(i64::MAX);
    let net = goods_minor - discount_share;
    let with_tax = order.tax.payable(net, order.tax.tax_of(net));
    with_tax.min(order.total_minor)
}

/// What one return refunds under the policy: what the goods of every refunded return and
/// this one are worth back together, less what the policy counted for the refunded ones. So
/// the refunds of all of an order's returns add up to exactly what returning it at once would
/// refund — no cent lost or given twice to rounding — in whatever order they are refunded,
/// and still when a refund the provider refused is made again.
pub fn refund_of_return(
    order: &PaidTotals,
    refunded: RefundedBefore,
    this_goods_minor: i64,
    completes_order: bool,
    refund_shipping: bool,
) -> i64 {
    let after = ReturnedGoods {
        goods_minor: refunded.goods_minor + this_goods_minor,
        completes_order,
    };
    (refund_for(order, after, refund_shipping) - refunded.policy_minor).max(0)
}

/// The order's returns refunded already: their goods, and what the policy counted for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefundedBefore {
    pub goods_minor: i64,
    pub policy_minor: i64,
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use storefront_client::returns::ReturnLineRequest;

    use super::*;
    use crate::domain::order::{
        CountryRates, Discount, DiscountValue, ShippingMethod, apply_basis_points,
    };
    use crate::domain::promotions::{CartItem, Delivery, price_items};
    use crate::domain::tax::TaxTreatment;

    #[test]
    fn each_step_moves_from_one_status_only() {
        assert_eq!(
            ReturnStep::Approve.check(ReturnStatus::Requested),
            Ok(ReturnStatus::Approved)
        );
        assert_eq!(
            ReturnStep::Receive.check(ReturnStatus::Approved),
            Ok(ReturnStatus::Received)
        );
        let twice = ReturnStep::Refund
            .check(ReturnStatus::Refunded)
            .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "A return that is refunded cannot be refunded; only a received return can."
        );
        assert!(ReturnStep::Receive.check(ReturnStatus::Requested).is_err());
        assert!(ReturnStep::Approve.check(ReturnStatus::Refused).is_err());
    }

    #[test]
    fn a_request_names_each_line_once_with_a_quantity() {
        let line = |line_number, quantity| ReturnLineRequest {
            line_number,
            quantity,
            reason: ReturnReason::DoesNotFit,
        };
        let bad = NewReturn::parse(&ReturnRequest {
            lines: vec![line(2, 1), line(2, 0)],
            note: Some("\u{7}".into()),
        })
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["lines[1].quantity", "lines[1].line_number", "note"]
        );
        let good = NewReturn::parse(&ReturnRequest {
            lines: vec![line(3, 1), line(1, 2)],
            note: Some("  ".into()),
        })
        .unwrap();
        assert_eq!(good.lines[0].0, 1);
        assert_eq!(good.note, None);
        assert!(
            NewReturn::parse(&ReturnRequest {
                lines: vec![],
                note: None
            })
            .is_err()
        );
    }

    #[test]
    fn a_refund_made_again_after_the_provider_refused_it_refunds_the_same() {
        // 2 × 10.00 at 19 % VAT with 4.90 shipping, refunded with the return that completes
        // the order: total 20.00 + 4.90 + 4.73 = 29.63.
        let order = PaidTotals {
            subtotal_minor: 2000,
            discount_minor: 0,
            shipping_minor: 490,
            tax: TaxRate {
                basis_points: 1900,
                treatment: TaxTreatment::Added,
            },
            total_minor: 2963,
        };
        let first = refund_of_return(&order, RefundedBefore::default(), 1000, false, true);
        assert_eq!(first, 1190);
        let before = |policy_minor| RefundedBefore {
            goods_minor: 1000,
            policy_minor,
        };
        let second = refund_of_return(&order, before(first), 1000, true, true);
        assert_eq!(second, 2963 - 1190);
        // The first refund is refused and made again, after the second.
        assert_eq!(
            refund_of_return(&order, before(second), 1000, true, true),
            first
        );
    }

    /// 10,000 random orders, returned line by line in random pieces: each refund is ≥ 0, the
    /// refunds add up to exactly what returning everything refunds — the whole total when
    /// shipping is refunded — and never more than was paid.
    #[test]
    fn refunds_of_returns_in_pieces_add_up_to_the_whole_to_the_cent() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        for _ in 0..10_000 {
            let lines: Vec<CartItem> = (0..rng.random_range(1..6))
                .map(|_| CartItem {
                    product_id: uuid::Uuid::nil(),
                    categories: Vec::new(),
                    unit_price_minor: rng.random_range(1..50_000),
                    quantity: rng.random_range(1..5),
                })
                .collect();
            let discount = match rng.random_range(0..3) {
                0 => None,
                1 => Some(DiscountValue::Percent {
                    basis_points: rng.random_range(1..10_000),
                }),
                _ => Some(DiscountValue::Fixed {
                    amount_minor: rng.random_range(1..100_000),
                }),
            }
            .map(|value| Discount {
                value,
                min_subtotal_minor: 0,
            });
            let tax = TaxRate {
                basis_points: [0, 700, 1900, 2000, 2100, 825][rng.random_range(0..6)],
                treatment: if rng.random_bool(0.5) {
                    TaxTreatment::Included
                } else {
                    TaxTreatment::Added
                },
            };
            let shipping = rng.random_range(0..2000);
            let delivery = Delivery {
                method: ShippingMethod::Express,
                rates: CountryRates {
                    tax,
                    standard_minor: shipping,
                    express_minor: shipping,
                },
                free_standard_from_minor: i64::MAX,
            };
            let totals = price_items(&lines, &[], discount, Some(delivery))
                .unwrap()
                .totals;
            let order = PaidTotals {
                subtotal_minor: totals.subtotal_minor,
                discount_minor: totals.discount_minor,
                shipping_minor: totals.shipping_minor,
                tax,
                total_minor: totals.total_minor,
            };
            let refund_shipping = rng.random_bool(0.5);
            // Every unit, shuffled, sent back in returns of random size.
            let mut units: Vec<i64> = lines
                .iter()
                .flat_map(|line| std::iter::repeat_n(line.unit_price_minor, line.quantity as usize))
                .collect();
            for i in (1..units.len()).rev() {
                units.swap(i, rng.random_range(0..=i));
            }
            let mut before = RefundedBefore::default();
            let mut refunded = 0;
            let mut left = units.as_slice();
            while !left.is_empty() {
                let take = rng.random_range(1..=left.len());
                let goods: i64 = left[..take].iter().sum();
                left = &left[take..];
                let refund =
                    refund_of_return(&order, before, goods, left.is_empty(), refund_shipping);
                assert!(refund >= 0, "{order:?}");
                refunded += refund;
                before.goods_minor += goods;
                before.policy_minor += refund;
            }
            let whole = refund_for(
                &order,
                ReturnedGoods {
                    goods_minor: order.subtotal_minor,
                    completes_order: true,
                },
                refund_shipping,
            );
            assert_eq!(refunded, whole, "{order:?}");
            assert!(refunded <= order.total_minor);
            if refund_shipping {
                assert_eq!(refunded, order.total_minor);
            } else {
                let shipping_paid = tax.payable(
                    order.shipping_minor,
                    apply_basis_points(order.shipping_minor, tax.basis_points),
                );
                let goods_paid = order.total_minor - shipping_paid;
                // Tax is rounded per line, the refund's once: a cent per line either way.
                assert!(
                    (refunded - goods_paid).abs() <= lines.len() as i64 + 1,
                    "{order:?}"
                );
            }
        }
    }
}
