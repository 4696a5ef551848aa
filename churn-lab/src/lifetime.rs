//! Lifetime value: a scored customer's expected orders and spend over the next
//! [`HORIZON_DAYS`] days and the day their next order is due — BG/NBD for the orders,
//! Gamma-Gamma for the spend per order, both fitted at training on the shop's own customers and
//! shipped in the artifact (`ModelArtifact::lifetime`).
//!
//! Both read only the churn features `purchase_days`, `recency_days`, `tenure_days` and
//! `monetary_total`, so training, batch scoring and one customer share one definition. An
//! order here is a purchase day, as in those features: two orders on one day count once, with
//! their spend summed. Spend is what the customer paid for purchases, in the shop's major
//! currency units like every churn-lab amount; refunds are not netted off.

use std::fmt;

use chrono::{Days, NaiveDate};
use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::models::bgnbd::BgNbd;
use crate::models::gamma_gamma::{GammaGamma, Spend};

/// How far ahead lifetime value looks.
pub const HORIZON_DAYS: u32 = 365;

/// A customer whose first order is younger than this gets no prediction. BG/NBD's purchase rate
/// for a customer is (r + x)/(α + T): a second order in the first days extrapolates to dozens a
/// year, and a second order within a month of the first is as often a forgotten item or a gift
/// as a rhythm. A month is also the shortest window the churn features count orders in
/// (`orders_30d`), and shorter than the usual gap between a shop's orders.
pub const MIN_HISTORY_DAYS: u32 = 30;

/// Gamma-Gamma learns how a customer's spend varies around their own level only from repeat
/// customers; with fewer than this there is too little to fit three parameters on, and the
/// artifact carries no lifetime models.
pub const MIN_REPEAT_CUSTOMERS: usize = 30;

/// The chance of another order from which it counts as expected.
const EVEN_CHANCE: f64 = 0.5;

fn horizon_weeks() -> f64 {
    f64::from(HORIZON_DAYS) / 7.0
}

/// The fitted lifetime models an artifact ships.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifetimeModels {
    /// BG/NBD over purchase days, in weeks, with a [`HORIZON_DAYS`] horizon.
    pub orders: BgNbd,
    /// Spend per purchase day.
    pub spend: GammaGamma,
    /// Customers BG/NBD was fitted on (the training customers).
    pub customers: usize,
    /// Those of them Gamma-Gamma was fitted on: repeat customers with a positive spend.
    pub repeat_customers: usize,
}

/// One customer's coming year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Lifetime {
    /// Too little history to say anything about this customer's rhythm or spend.
    NotEnoughHistory { reason: ShortHistory },
    Predicted {
        /// Expected orders (purchase days) in the next [`HORIZON_DAYS`] days.
        expected_orders_365: f64,
        /// Expected spend per order.
        expected_order_value: f64,
        /// Expected spend over the next [`HORIZON_DAYS`] days: the two above multiplied.
        value_365: f64,
        /// Chance of at least one order in the next [`HORIZON_DAYS`] days.
        order_chance_365: f64,
        next_order: NextOrder,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortHistory {
    /// First order fewer than [`MIN_HISTORY_DAYS`] days before the as-of day.
    NewCustomer,
    /// Every order so far was on one day: no rhythm, and no second order to compare spend with.
    SingleOrderDay,
}

impl ShortHistory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewCustomer => "new_customer",
            Self::SingleOrderDay => "single_order_day",
        }
    }
}

impl fmt::Display for ShortHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NewCustomer => write!(f, "first order fewer than {MIN_HISTORY_DAYS} days ago"),
            Self::SingleOrderDay => f.write_str("has ordered on one day only"),
        }
    }
}

/// When the next order is due: the first day by whose end the chance of at least one more
/// order reaches one half, P(alive) · (1 − ((α+T)/(α+T+t))^(r+x)) = ½ — the median wait,
/// counting "never" as a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NextOrder {
    /// Due on `date`, `days` days after the as-of day.
    ExpectedBy { date: NaiveDate, days: u32 },
    /// Less than an even chance of another order within [`HORIZON_DAYS`] days: either the
    /// customer has probably stopped (P(alive) ≤ ½, so the chance never gets there), or they
    /// buy so rarely that a date would lie beyond what the value covers.
    NotExpected,
}

impl Lifetime {
    /// `predicted`, or why not.
    pub fn status(&self) -> &'static str {
        match self {
            Self::NotEnoughHistory { reason } => reason.as_str(),
            Self::Predicted { .. } => "predicted",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LifetimeFitError {
    #[error("lifetime models need the feature `{0}`")]
    MissingFeature(&'static str),
    #[error(
        "only {found} repeat customers with a positive spend; Gamma-Gamma needs at least \
         {MIN_REPEAT_CUSTOMERS}"
    )]
    TooFewRepeatCustomers { found: usize },
    #[error("{model} fit: {message}")]
    Failed {
        model: &'static str,
        message: String,
    },
}

impl LifetimeModels {
    /// Fits both models on customers' features as of one day (`x` in the order of `names`):
    /// BG/NBD on every customer, one-time buyers included (they are most of what tells it how
    /// many stop), Gamma-Gamma on the repeat customers.
    pub fn fit(x: &Array2<f64>, names: &[String]) -> Result<Self, LifetimeFitError> {
        let column = |name: &'static str| {
            names
                .iter()
                .position(|n| n == name)
                .ok_or(LifetimeFitError::MissingFeature(name))
        };
        let days = column("purchase_days")?;
        let recency = column("recency_days")?;
        let tenure = column("tenure_days")?;
        let total = column("monetary_total")?;
        let failed = |model: &'static str| {
            move |e: argmin::core::Error| LifetimeFitError::Failed {
                model,
                message: e.to_string(),
            }
        };
        let spends: Vec<Spend> = x
            .rows()
            .into_iter()
            .map(|row| Spend::from_features(row[days], row[total]))
            .filter(|s| s.purchases >= 2.0 && s.mean > 0.0)
            .collect();
        if spends.len() < MIN_REPEAT_CUSTOMERS {
            return Err(LifetimeFitError::TooFewRepeatCustomers {
                found: spends.len(),
            });
        }
        let orders =
            BgNbd::fit(x, [days, recency, tenure], HORIZON_DAYS).map_err(failed("BG/NBD"))?;
        if !bg_nbd_is_well_formed(&orders) {
            return Err(LifetimeFitError::Failed {
                model: "BG/NBD",
                message: format!("degenerate parameters {orders:?}"),
            });
        }
        let spend = GammaGamma::fit(&spends, [days, total]).map_err(failed("Gamma-Gamma"))?;
        if !spend.is_well_formed() {
            return Err(LifetimeFitError::Failed {
                model: "Gamma-Gamma",
                message: format!(
                    "p = {}, q = {}, γ = {}: q must exceed 1 for customers to have a finite \
                     mean spend",
                    spend.p, spend.q, spend.gamma
                ),
            });
        }
        Ok(Self {
            orders,
            spend,
            customers: x.nrows(),
            repeat_customers: spends.len(),
        })
    }

    /// Whether the models read the features they were fitted on from `names` and their
    /// parameters are finite and positive.
    pub fn is_well_formed(&self, names: &[String]) -> bool {
        let named = |column: usize, name: &str| names.get(column).is_some_and(|n| n == name);
        let [days, recency, tenure] = self.orders.columns;
        let [spend_days, total] = self.spend.columns;
        named(days, "purchase_days")
            && named(recency, "recency_days")
            && named(tenure, "tenure_days")
            && named(spend_days, "purchase_days")
            && named(total, "monetary_total")
            && bg_nbd_is_well_formed(&self.orders)
            && (self.orders.horizon - horizon_weeks()).abs() < 1e-9
            && self.spend.is_well_formed()
    }

    /// One customer's coming year from their features (in the order the models were fitted
    /// on) as of `as_of`.
    pub fn predict(&self, features: ArrayView1<f64>, as_of: NaiveDate) -> Lifetime {
        let [days, _, tenure] = self.orders.columns.map(|c| features[c]);
        if tenure < f64::from(MIN_HISTORY_DAYS) {
            return Lifetime::NotEnoughHistory {
                reason: ShortHistory::NewCustomer,
            };
        }
        if days < 2.0 {
            return Lifetime::NotEnoughHistory {
                reason: ShortHistory::SingleOrderDay,
            };
        }
        let history = self.orders.history(features);
        let weeks = horizon_weeks();
        let expected_orders_365 = self.orders.expected_purchases(&history, weeks);
        let expected_order_value = self.spend.expected_spend(&self.spend.spend(features));
        let next_order = match self.orders.weeks_until_chance(&history, EVEN_CHANCE) {
            Some(wait) if wait * 7.0 <= f64::from(HORIZON_DAYS) => {
                let days = (wait * 7.0).floor() as u32;
                NextOrder::ExpectedBy {
                    date: as_of + Days::new(days.into()),
                    days,
                }
            }
            _ => NextOrder::NotExpected,
        };
        Lifetime::Predicted {
            expected_orders_365,
            expected_order_value,
            value_365: expected_orders_365 * expected_order_value,
            order_chance_365: self.orders.probability_purchase_within(&history, weeks),
            next_order,
        }
    }
}

fn bg_nbd_is_well_formed(m: &BgNbd) -> bool {
    [m.r, m.alpha, m.a, m.b, m.horizon]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// CDNOW's published fits, reading the features in this order: purchase_days,
    /// recency_days, tenure_days, monetary_total.
    fn cdnow() -> LifetimeModels {
        LifetimeModels {
            orders: BgNbd {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
                horizon: horizon_weeks(),
                columns: [0, 1, 2],
            },
            spend: GammaGamma {
                p: 6.25,
                q: 3.74,
                gamma: 15.44,
                columns: [0, 3],
            },
            customers: 2357,
            repeat_customers: 946,
        }
    }

    fn names() -> Vec<String> {
        [
            "purchase_days",
            "recency_days",
            "tenure_days",
            "monetary_total",
        ]
        .map(String::from)
        .to_vec()
    }

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn one_time_and_brand_new_customers_have_not_enough_history() {
        let models = cdnow();
        let as_of = day("2024-06-01");
        let one_timer = models.predict(array![1.0, 200.0, 200.0, 40.0].view(), as_of);
        assert_eq!(
            one_timer,
            Lifetime::NotEnoughHistory {
                reason: ShortHistory::SingleOrderDay
            }
        );
        // Two orders, but the first only 12 days ago.
        let new = models.predict(array![2.0, 3.0, 12.0, 80.0].view(), as_of);
        assert_eq!(
            new,
            Lifetime::NotEnoughHistory {
                reason: ShortHistory::NewCustomer
            }
        );
        assert_eq!(
            models
                .predict(array![2.0, 3.0, 30.0, 80.0].view(), as_of)
                .status(),
            "predicted",
            "{MIN_HISTORY_DAYS} days is enough"
        );
        assert_eq!(
            ShortHistory::NewCustomer.to_string(),
            "first order fewer than 30 days ago"
        );
    }

    #[test]
    fn a_frequent_recent_buyer_is_worth_more_than_a_lapsed_one() {
        let models = cdnow();
        let as_of = day("2024-06-01");
        // Both ordered on 8 days over the last 300, for 50 a day; one last week, one 250 days ago.
        let recent = models.predict(array![8.0, 7.0, 300.0, 400.0].view(), as_of);
        let lapsed = models.predict(array![8.0, 250.0, 300.0, 400.0].view(), as_of);
        let (
            Lifetime::Predicted {
                expected_orders_365: recent_orders,
                value_365: recent_value,
                expected_order_value: recent_spend,
                order_chance_365: recent_chance,
                next_order: recent_next,
            },
            Lifetime::Predicted {
                value_365: lapsed_value,
                expected_order_value: lapsed_spend,
                order_chance_365: lapsed_chance,
                next_order: lapsed_next,
                ..
            },
        ) = (recent, lapsed)
        else {
            panic!("both are repeat customers: {recent:?} {lapsed:?}");
        };
        assert!(
            recent_value > 5.0 * lapsed_value,
            "{recent_value} vs {lapsed_value}"
        );
        assert_eq!(
            recent_spend, lapsed_spend,
            "same spend, same value per order"
        );
        assert!((recent_value - recent_orders * recent_spend).abs() < 1e-9);
        assert!(recent_chance > 0.5 && lapsed_chance < 0.5);
        assert_eq!(lapsed_next, NextOrder::NotExpected);
        let NextOrder::ExpectedBy { date, days } = recent_next else {
            panic!("a regular buyer's next order is due: {recent_next:?}");
        };
        assert_eq!(date, as_of + Days::new(days.into()));
        assert!(days < 120, "{days}");
    }

    #[test]
    fn the_next_order_is_due_the_day_the_chance_of_one_reaches_a_half() {
        let models = cdnow();
        let features = array![8.0, 7.0, 300.0, 400.0];
        let as_of = day("2024-06-01");
        let Lifetime::Predicted {
            next_order: NextOrder::ExpectedBy { days, .. },
            ..
        } = models.predict(features.view(), as_of)
        else {
            panic!("a regular buyer's next order is due");
        };
        let history = models.orders.history(features.view());
        let chance = |days: f64| {
            models
                .orders
                .probability_purchase_within(&history, days / 7.0)
        };
        let days = f64::from(days);
        assert!(
            chance(days) < 0.5 && chance(days + 1.0) >= 0.5,
            "day {days}"
        );
    }

    #[test]
    fn models_must_read_the_features_they_were_fitted_on() {
        let models = cdnow();
        assert!(models.is_well_formed(&names()));
        let mut swapped = names();
        swapped.swap(1, 2);
        assert!(!models.is_well_formed(&swapped));
        assert!(!models.is_well_formed(&names()[..3]));
        let mut infinite = models;
        infinite.spend.gamma = f64::INFINITY;
        assert!(!infinite.is_well_formed(&names()));
        let mut no_mean_spend = models;
        no_mean_spend.spend.q = 0.9;
        assert!(!no_mean_spend.is_well_formed(&names()));
        let mut other_horizon = models;
        other_horizon.orders.horizon = 26.0;
        assert!(!other_horizon.is_well_formed(&names()));
    }

    #[test]
    fn a_fit_needs_its_features_and_enough_repeat_customers() {
        // 100 one-time buyers, and then 29 of them coming back once.
        let shop = |repeat: usize| {
            Array2::from_shape_fn((100, 4), |(i, j)| {
                let days = if i < repeat { 2.0 } else { 1.0 };
                [days, 10.0, 40.0 + i as f64, 25.0 * days][j]
            })
        };
        let refused = LifetimeModels::fit(&shop(0), &names()[..3]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "lifetime models need the feature `monetary_total`"
        );
        let refused = LifetimeModels::fit(&shop(29), &names()).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "only 29 repeat customers with a positive spend; Gamma-Gamma needs at least 30"
        );
    }

    #[test]
    fn serialised_for_callers() {
        let predicted = Lifetime::Predicted {
            expected_orders_365: 2.5,
            expected_order_value: 40.0,
            value_365: 100.0,
            order_chance_365: 0.8,
            next_order: NextOrder::ExpectedBy {
                date: day("2024-07-01"),
                days: 30,
            },
        };
        assert_eq!(
            serde_json::to_value(predicted).unwrap(),
            serde_json::json!({
                "status": "predicted",
                "expected_orders_365": 2.5,
                "expected_order_value": 40.0,
                "value_365": 100.0,
                "order_chance_365": 0.8,
                "next_order": { "status": "expected_by", "date": "2024-07-01", "days": 30 }
            })
        );
        let short = Lifetime::NotEnoughHistory {
            reason: ShortHistory::SingleOrderDay,
        };
        let json = serde_json::to_value(short).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "status": "not_enough_history", "reason": "single_order_day" })
        );
        assert_eq!(serde_json::from_value::<Lifetime>(json).unwrap(), short);
    }
}
