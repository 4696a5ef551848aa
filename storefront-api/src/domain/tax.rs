//! Tax, line by line: what part of each line (and of shipping) is tax, in integer minor units,
//! for markets whose prices include tax (the EU, the UK: a shelf price is what the shopper
//! pays) and markets that add it at checkout (the US).
//!
//! Tax is computed on each line after its discounts and rounded there, half up; the order's
//! tax is the sum of its lines' (and shipping's), never a separately rounded figure — so the
//! lines an order stores add up to its totals to the cent, and a refund of some lines can be
//! worked out from what those lines carried. Medusa's most reported money bugs are totals that
//! disagree with their lines by a cent (medusajs/medusa#14817, #12789, #8733).

use super::order::apply_basis_points;

/// Whether a market's prices already contain tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaxTreatment {
    /// Shelf prices include tax; checkout shows the tax they contain (EU, UK).
    Included,
    /// Shelf prices are before tax; checkout adds it (US).
    #[default]
    Added,
}

impl TaxTreatment {
    pub fn from_prices_include_tax(prices_include_tax: bool) -> Self {
        if prices_include_tax {
            Self::Included
        } else {
            Self::Added
        }
    }

    pub fn prices_include_tax(self) -> bool {
        self == Self::Included
    }
}

/// A country's tax as checkout applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaxRate {
    /// 1900 = 19 %.
    pub basis_points: u32,
    pub treatment: TaxTreatment,
}

impl TaxRate {
    /// No tax at all (a cart without a destination yet).
    pub const NONE: Self = Self {
        basis_points: 0,
        treatment: TaxTreatment::Added,
    };

    /// The tax in `amount_minor` (after discounts): added, `amount × rate`; included,
    /// `amount − amount / (1 + rate)`; each rounded half up to the minor unit.
    pub fn tax_of(self, amount_minor: i64) -> i64 {
        let amount_minor = amount_minor.max(0);
        match self.treatment {
            TaxTreatment::Added => apply_basis_points(amount_minor, self.basis_points),
            TaxTreatment::Included => {
                let numerator = i128::from(amount_minor) * 10_000;
                let denominator = 10_000 + i128::from(self.basis_points);
                let net = (2 * numerator + denominator) / (2 * denominator);
                amount_minor - i64::try_from(net).unwrap_or(amount_minor)
            }
        }
    }

    /// What the shopper pays for `amount_minor` carrying `tax_minor`.
    pub fn payable(self, amount_minor: i64, tax_minor: i64) -> i64 {
        match self.treatment {
            TaxTreatment::Included => amount_minor,
            TaxTreatment::Added => amount_minor.saturating_add(tax_minor),
        }
    }
}

/// Splits `amount_minor` over parts in proportion to `weights` by largest remainder: the
/// shares add up to exactly the amount, and ties go to the earlier part — the same split
/// every time. When the amount is at most the weights' sum (a discount over what lines
/// cost), no share exceeds its weight. Shared by spend-tier promotions and discount codes.
pub fn allocate(amount_minor: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 || amount_minor <= 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount_minor);
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = amount * i128::from((*weight).max(0));
        shares.push(i64::try_from(exact / total).unwrap_or(0));
        remainders.push((exact % total, index));
    }
    let given: i128 = shares.iter().map(|s| i128::from(*s)).sum();
    let mut left = usize::try_from(amount - given).unwrap_or(0);
    // Largest remainder first; the stable sort keeps earlier parts first among equals.
    remainders.sort_by_key(|(remainder, _)| std::cmp::Reverse(*remainder));
    for (_, index) in remainders {
        if left == 0 {
            break;
        }
        shares[index] += 1;
        left -= 1;
    }
    shares
}

/// The tax of each line (given after its discounts) and of shipping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxedAmounts {
    pub lines: Vec<i64>,
    pub shipping_minor: i64,
}

impl TaxedAmounts {
    /// The lines' and shipping's tax together; `None` beyond what an i64 holds.
    pub fn total(&self) -> Option<i64> {
        self.lines
            .iter()
            .try_fold(self.shipping_minor, |sum, tax| sum.checked_add(*tax))
    }
}

/// Taxes each line and shipping on their own, as the order stores them.
pub fn tax_lines(line_amounts: &[i64], shipping_minor: i64, rate: TaxRate) -> TaxedAmounts {
    TaxedAmounts {
        lines: line_amounts
            .iter()
            .map(|amount| rate.tax_of(*amount))
            .collect(),
        shipping_minor: rate.tax_of(shipping_minor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GERMANY: TaxRate = TaxRate {
        basis_points: 1900,
        treatment: TaxTreatment::Included,
    };

    #[test]
    fn included_tax_is_the_part_of_the_price_that_is_tax() {
        // 119.00 with 19 % included: 100.00 net, 19.00 tax.
        assert_eq!(GERMANY.tax_of(11_900), 1_900);
        // 24.90: net 20.924… rounds to 20.92, so 3.98 is tax.
        assert_eq!(GERMANY.tax_of(2_490), 398);
        assert_eq!(GERMANY.payable(2_490, 398), 2_490);
        let added = TaxRate {
            treatment: TaxTreatment::Added,
            ..GERMANY
        };
        assert_eq!(added.tax_of(2_490), 473); // 473.1
        assert_eq!(added.payable(2_490, 473), 2_963);
        assert_eq!(GERMANY.tax_of(0), 0);
        assert_eq!(TaxRate::NONE.tax_of(12_345), 0);
    }

    #[test]
    fn allocation_adds_up_and_favours_the_largest_remainders() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(10, &[500, 250, 250]), vec![5, 3, 2]);
        assert_eq!(allocate(5, &[0, 0]), vec![0, 0]);
        assert_eq!(allocate(500, &[300, 200]), vec![300, 200]);
        assert_eq!(allocate(0, &[300, 200]), vec![0, 0]);
    }

    #[test]
    fn an_order_tax_is_the_sum_of_its_lines_not_a_separate_rounding() {
        // Three lines of 0.05 at 19 % added: each line rounds to 0.01, the order pays 0.03
        // where rounding the sum (0.15 × 19 % = 0.0285) would say 0.03 too — and 0.01 × 3 is
        // what each line's receipt says.
        let rate = TaxRate {
            basis_points: 1900,
            treatment: TaxTreatment::Added,
        };
        let taxed = tax_lines(&[5, 5, 5], 0, rate);
        assert_eq!(taxed.lines, vec![1, 1, 1]);
        assert_eq!(taxed.total(), Some(3));
    }
}
