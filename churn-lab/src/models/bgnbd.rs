//! BG/NBD (Fader, Hardie & Lee, 2005): the classic "probability alive" model. Customers buy
//! at a Poisson rate and may drop out after any purchase; the rates and dropout chances vary
//! across customers (gamma and beta mixtures). Fitted by maximum likelihood with argmin's
//! Nelder–Mead on log-parameters; time is measured in weeks.
//!
//! As a churn score it predicts P(no purchase in the label window), not 1 − P(alive): a
//! one-time buyer is "alive" by construction yet rarely buys again. For lifetime value
//! ([`crate::lifetime`]) it also gives the expected number of purchases in a coming period and
//! how soon another purchase becomes more likely than not.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;
use libm::lgamma;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// A customer's purchase history as the model sees it (weeks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Repeat purchases: distinct purchase days − 1.
    pub repeats: f64,
    /// Time of the last purchase, from the first.
    pub last: f64,
    /// Age: time from the first purchase to the cut-off.
    pub age: f64,
}

impl History {
    /// From the features `purchase_days`, `recency_days` and `tenure_days`.
    pub fn from_feature_days(purchase_days: f64, recency_days: f64, tenure_days: f64) -> Self {
        Self {
            repeats: (purchase_days - 1.0).max(0.0),
            last: ((tenure_days - recency_days) / 7.0).max(0.0),
            age: (tenure_days / 7.0).max(0.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// Prediction horizon in weeks (the label window).
    pub horizon: f64,
    /// Columns of `purchase_days`, `recency_days` and `tenure_days` in the feature matrix.
    pub columns: [usize; 3],
}

/// One customer's log-likelihood as the paper writes it: the reference that the fit's
/// regrouped [`Likelihood`] is tested against.
#[cfg(test)]
fn log_likelihood(p: [f64; 4], h: &History) -> f64 {
    let [r, alpha, a, b] = p;
    let x = h.repeats;
    let a1 = lgamma(r + x) - lgamma(r) + r * alpha.ln();
    let a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
    let a3 = -(r + x) * (alpha + h.age).ln();
    if x > 0.0 {
        let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + h.last).ln();
        let m = a3.max(a4);
        a1 + a2 + m + ((a3 - m).exp() + (a4 - m).exp()).ln()
    } else {
        a1 + a2 + a3
    }
}

/// The mean log-likelihood of many customers, [`log_likelihood`] regrouped so that each
/// evaluation does the least work: customers with the same history are one term weighted by
/// their number (every one-time buyer of a day is the same history), and the gamma-function
/// terms, which depend only on the number of repeats, are computed once per repeat count.
struct Likelihood {
    /// The distinct repeat counts.
    repeats: Vec<f64>,
    /// Distinct histories: an index into `repeats`, `last`, `age` and how many customers.
    histories: Vec<(usize, f64, f64, f64)>,
    customers: f64,
}

impl Likelihood {
    fn new(histories: &[History]) -> Self {
        let mut sorted: Vec<History> = histories.to_vec();
        sorted.sort_by(|p, q| {
            (p.repeats.total_cmp(&q.repeats))
                .then(p.age.total_cmp(&q.age))
                .then(p.last.total_cmp(&q.last))
        });
        let mut repeats: Vec<f64> = Vec::new();
        let mut grouped: Vec<(usize, f64, f64, f64)> = Vec::new();
        for h in sorted {
            if repeats.last() != Some(&h.repeats) {
                repeats.push(h.repeats);
            }
            let x = repeats.len() - 1;
            match grouped.last_mut() {
                Some((i, last, age, count)) if *i == x && *last == h.last && *age == h.age => {
                    *count += 1.0;
                }
                _ => grouped.push((x, h.last, h.age, 1.0)),
            }
        }
        Self {
            repeats,
            histories: grouped,
            customers: histories.len() as f64,
        }
    }

    /// The mean of [`log_likelihood`] over the customers.
    fn mean(&self, [r, alpha, a, b]: [f64; 4]) -> f64 {
        let shared = -lgamma(r) + r * alpha.ln() + lgamma(a + b) - lgamma(b);
        // Per repeat count: the gamma terms (`a1 + a2` less what every customer shares) and
        // the dropout term's constant part.
        let by_repeats: Vec<(f64, f64)> = self
            .repeats
            .iter()
            .map(|&x| {
                let gammas = lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x);
                let dropout = if x > 0.0 {
                    a.ln() - (b + x - 1.0).ln()
                } else {
                    0.0
                };
                (gammas, dropout)
            })
            .collect();
        let total: f64 = self
            .histories
            .iter()
            .map(|&(i, last, age, count)| {
                let x = self.repeats[i];
                let (gammas, dropout) = by_repeats[i];
                let a3 = -(r + x) * (alpha + age).ln();
                let tail = if x > 0.0 {
                    let a4 = dropout - (r + x) * (alpha + last).ln();
                    let m = a3.max(a4);
                    m + ((a3 - m).exp() + (a4 - m).exp()).ln()
                } else {
                    a3
                };
                count * (gammas + tail)
            })
            .sum();
        shared + total / self.customers
    }
}

impl CostFunction for Likelihood {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Array1<f64>) -> Result<f64, argmin::core::Error> {
        let p = [
            log_params[0].exp(),
            log_params[1].exp(),
            log_params[2].exp(),
            log_params[3].exp(),
        ];
        let cost = -self.mean(p);
        Ok(if cost.is_finite() { cost } else { f64::MAX })
    }
}

impl BgNbd {
    pub fn history(&self, row: ndarray::ArrayView1<f64>) -> History {
        let [days, recency, tenure] = self.columns.map(|c| row[c]);
        History::from_feature_days(days, recency, tenure)
    }

    pub fn fit(
        x: &Array2<f64>,
        columns: [usize; 3],
        window_days: u32,
    ) -> Result<Self, argmin::core::Error> {
        let mut model = Self {
            r: 1.0,
            alpha: 1.0,
            a: 1.0,
            b: 1.0,
            horizon: f64::from(window_days) / 7.0,
            columns,
        };
        let histories: Vec<History> = x.rows().into_iter().map(|row| model.history(row)).collect();
        let start = Array1::from_vec(vec![0.0, 1.0, -0.5, 0.5]);
        let mut simplex = vec![start.clone()];
        for i in 0..4 {
            let mut vertex = start.clone();
            vertex[i] += 0.7;
            simplex.push(vertex);
        }
        let solver = NelderMead::new(simplex).with_sd_tolerance(1e-9)?;
        let result = Executor::new(Likelihood::new(&histories), solver)
            .configure(|state| state.max_iters(3000))
            .run()?;
        let best = result
            .state()
            .get_best_param()
            .cloned()
            .ok_or_else(|| argmin::core::Error::msg("BG/NBD fit found no parameters"))?;
        model.r = best[0].exp();
        model.alpha = best[1].exp();
        model.a = best[2].exp();
        model.b = best[3].exp();
        Ok(model)
    }

    pub fn probability_alive(&self, h: &History) -> f64 {
        if h.repeats == 0.0 {
            return 1.0;
        }
        let x = h.repeats;
        let odds = self.a / (self.b + x - 1.0)
            * ((self.alpha + h.age) / (self.alpha + h.last)).powf(self.r + x);
        1.0 / (1.0 + odds)
    }

    /// P(no purchase in the next `horizon` weeks).
    pub fn probability_no_purchase(&self, h: &History) -> f64 {
        let alive = self.probability_alive(h);
        (1.0 - alive) + alive * self.silent_if_alive(h, self.horizon)
    }

    /// P(no purchase in the next `t` weeks | still buying): the purchase rate's posterior is
    /// gamma(r + x, α + T), and a customer only drops out right after a purchase.
    fn silent_if_alive(&self, h: &History, t: f64) -> f64 {
        ((self.alpha + h.age) / (self.alpha + h.age + t)).powf(self.r + h.repeats)
    }

    /// P(at least one purchase in the next `t` weeks | history).
    pub fn probability_purchase_within(&self, h: &History, t: f64) -> f64 {
        self.probability_alive(h) * (1.0 - self.silent_if_alive(h, t))
    }

    /// Weeks until the chance of at least one more purchase reaches `chance`, solved from
    /// [`Self::probability_purchase_within`]; `None` when it never does, because the customer is
    /// not likely enough to still be buying (P(alive) ≤ `chance`).
    pub fn weeks_until_chance(&self, h: &History, chance: f64) -> Option<f64> {
        let alive = self.probability_alive(h);
        if alive <= chance {
            return None;
        }
        let silent = (1.0 - chance / alive).powf(1.0 / (self.r + h.repeats));
        Some((self.alpha + h.age) * (1.0 / silent - 1.0))
    }

    /// E[purchases in the next `t` weeks | history]: equation 10 of Fader, Hardie & Lee (2005),
    ///
    /// ```text
    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)] · P(alive),
    /// z = t/(α+T+t),
    /// ```
    ///
    /// with the 2F1 rewritten by Euler's transformation, 2F1(A,B;C;z) =
    /// (1−z)^(C−A−B) · 2F1(C−A, C−B; C; z), into (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z):
    /// the paper's form multiplies a series that grows like (1−z)^(a−1−r−x) by (1−z)^(r+x),
    /// which overflows and underflows for frequent buyers; this form's series stays moderate.
    pub fn expected_purchases(&self, h: &History, t: f64) -> f64 {
        let (r, alpha, b, x) = (self.r, self.alpha, self.b, h.repeats);
        let z = t / (alpha + h.age + t);
        let growth = |a: f64| {
            (a + b + x - 1.0) / (a - 1.0)
                * (1.0
                    - (1.0 - z).powf(a - 1.0)
                        * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z))
        };
        // At a = 1 the formula is 0/0 though the expectation is smooth in a: average the two
        // sides, which is off by O(h²).
        const NEAR_ONE: f64 = 1e-4;
        let growth = if (self.a - 1.0).abs() < NEAR_ONE {
            (growth(1.0 - NEAR_ONE) + growth(1.0 + NEAR_ONE)) / 2.0
        } else {
            growth(self.a)
        };
        growth * self.probability_alive(h)
    }

    pub fn scores(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::from_iter(
            x.rows()
                .into_iter()
                .map(|row| self.probability_no_purchase(&self.history(row))),
        )
    }
}

/// Gauss's hypergeometric function 2F1(a, b; c; z) by its power series
/// Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ, for |z| < 1 and c not zero or a negative integer.
///
/// Summed until a term no longer changes the sum while the terms are shrinking: a tiny a or b
/// makes every term tiny, and a large one makes the terms grow for a while, so a negligible
/// term alone does not mean the rest are. The terms shrink like |z|ⁿ in the end, so the series
/// converges for every |z| < 1; BG/NBD's z = t/(α+T+t) stays well below 1 for a year's horizon.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    debug_assert!(z.abs() < 1.0, "2F1 series outside its disc: z = {z}");
    const MAX_TERMS: u32 = 1_000_000;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..MAX_TERMS {
        let n = f64::from(n);
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 || (term.abs() <= f64::EPSILON * sum.abs() && ratio.abs() < 1.0) {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_behave_as_the_model_says() {
        let model = BgNbd {
            r: 0.24,
            alpha: 4.41,
            a: 0.79,
            b: 2.43,
            horizon: 26.0,
            columns: [0, 1, 2],
        };
        let one_timer = History {
            repeats: 0.0,
            last: 0.0,
            age: 30.0,
        };
        assert_eq!(model.probability_alive(&one_timer), 1.0);
        let regular = History {
            repeats: 10.0,
            last: 29.0,
            age: 30.0,
        };
        let lapsed = History {
            repeats: 10.0,
            last: 5.0,
            age: 30.0,
        };
        assert!(model.probability_alive(&regular) > 0.9);
        assert!(model.probability_alive(&lapsed) < 0.1);
        assert!(model.probability_no_purchase(&lapsed) > model.probability_no_purchase(&regular));
        // CDNOW parameters from the paper give a log-likelihood in the right range.
        let ll = log_likelihood([0.243, 4.414, 0.793, 2.426], &one_timer);
        assert!(ll < 0.0 && ll.is_finite());
    }

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        assert!(
            (actual - expected).abs() <= relative * expected.abs(),
            "{actual} vs {expected}"
        );
    }

    #[test]
    fn hypergeometric_series_matches_known_values() {
        for z in [-0.5, 0.1, 0.5, 0.9, 0.99] {
            assert_close(hyp2f1(1.0, 1.0, 2.0, z), -(1.0 - z).ln() / z, 1e-12);
            assert_close(hyp2f1(2.5, 0.7, 0.7, z), (1.0 - z).powf(-2.5), 1e-12);
        }
        // 2F1(½, ½; 3/2; z²) = arcsin(z)/z.
        assert_close(
            hyp2f1(0.5, 0.5, 1.5, 0.25),
            std::f64::consts::FRAC_PI_3,
            1e-14,
        );
        // A negative integer ends the series: 2F1(−2, b; c; z) is a quadratic.
        let (b, c, z) = (3.3, 1.7, 0.6);
        let quadratic = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert_close(hyp2f1(-2.0, b, c, z), quadratic, 1e-14);
        // mpmath.hyp2f1 at 40 digits.
        assert_close(hyp2f1(1.3, 2.7, 3.1, 0.9), 11.485_855_469_177_99, 1e-12);
        assert_close(
            hyp2f1(2.243, 4.426, 5.219, 0.5),
            3.614_707_706_823_282,
            1e-13,
        );
    }

    /// E[purchases in the next t weeks | history] straight from the model's story, with no
    /// hypergeometric function: given a purchase rate λ and dropout chance p, a customer still
    /// buying makes (1 − e^(−λpt))/p purchases on average in t weeks. Integrated over the
    /// posterior of (λ, p): λ in closed form, p numerically (midpoint rule in u = p^a, which
    /// takes the beta density's pole at 0 away).
    fn expected_by_integration(m: &BgNbd, h: &History, t: f64) -> f64 {
        let (r, alpha, a, b, x) = (m.r, m.alpha, m.a, m.b, h.repeats);
        let steps = 200_000;
        let (mut buys, mut weight) = (0.0, 0.0);
        for i in 0..steps {
            let u = (f64::from(i) + 0.5) / f64::from(steps);
            let p = u.powf(1.0 / a);
            let beta = (1.0 - p).powf(b - 1.0);
            // Every term is divided by (α+T)^−(r+x), which underflows for frequent buyers.
            let alive = (1.0 - p).powf(x);
            let dropped = if x > 0.0 {
                p * (1.0 - p).powf(x - 1.0) * ((alpha + h.age) / (alpha + h.last)).powf(r + x)
            } else {
                0.0
            };
            let bought = (1.0 - p).powf(x)
                * (1.0 - ((alpha + h.age) / (alpha + h.age + p * t)).powf(r + x))
                / p;
            buys += bought * beta;
            weight += (alive + dropped) * beta;
        }
        buys / weight
    }

    fn cdnow() -> BgNbd {
        BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            horizon: 39.0,
            columns: [0, 1, 2],
        }
    }

    #[test]
    fn expected_purchases_match_the_paper_and_the_integral() {
        let model = cdnow();
        // Fader, Hardie & Lee (2005) and lifetimes' test against Hardie's spreadsheet: a
        // CDNOW customer with 2 repeat purchases, the last at 30.43 weeks, observed for 38.86,
        // makes 1.226 purchases in the next 39 weeks.
        let customer = History {
            repeats: 2.0,
            last: 30.43,
            age: 38.86,
        };
        let expected = model.expected_purchases(&customer, 39.0);
        assert!((expected - 1.226).abs() < 5e-4, "{expected}");
        // mpmath: the formula at 40 digits, and the same by numerical integration.
        assert_close(expected, 1.226_028_174_767_144, 1e-12);
        assert_close(
            expected_by_integration(&model, &customer, 39.0),
            expected,
            1e-5,
        );

        let year = 365.0 / 7.0;
        for h in [
            History {
                repeats: 0.0,
                last: 0.0,
                age: 38.86,
            },
            History {
                repeats: 5.0,
                last: 20.0,
                age: 30.0,
            },
            // A customer buying four times a week: the paper's form overflows here.
            History {
                repeats: 400.0,
                last: 104.0,
                age: 104.0,
            },
        ] {
            let expected = model.expected_purchases(&h, year);
            assert!(expected.is_finite(), "{h:?}");
            assert_close(expected_by_integration(&model, &h, year), expected, 1e-4);
        }
        assert_close(
            model.expected_purchases(
                &History {
                    repeats: 5.0,
                    last: 20.0,
                    age: 30.0,
                },
                year,
            ),
            3.290_184_838_606_563,
            1e-10,
        );
    }

    #[test]
    fn expected_purchases_are_smooth_where_the_formula_is_zero_over_zero() {
        let h = History {
            repeats: 3.0,
            last: 20.0,
            age: 30.0,
        };
        let year = 365.0 / 7.0;
        let at = |a: f64| BgNbd { a, ..cdnow() }.expected_purchases(&h, year);
        let one = at(1.0);
        assert!(one.is_finite());
        // mpmath gives 2.032322 at a = 1.0001 and 2.032606 at a = 0.9999.
        assert!((one - (2.032_322 + 2.032_606) / 2.0).abs() < 1e-5, "{one}");
        assert_close(
            expected_by_integration(&BgNbd { a: 1.0, ..cdnow() }, &h, year),
            one,
            1e-5,
        );
    }

    #[test]
    fn the_wait_for_an_even_chance_solves_the_purchase_probability() {
        let model = cdnow();
        let regular = History {
            repeats: 6.0,
            last: 29.0,
            age: 30.0,
        };
        let wait = model.weeks_until_chance(&regular, 0.5).unwrap();
        assert_close(
            model.probability_purchase_within(&regular, wait),
            0.5,
            1e-12,
        );
        assert_close(
            model.probability_purchase_within(&regular, model.horizon),
            1.0 - model.probability_no_purchase(&regular),
            1e-12,
        );
        let lapsed = History {
            repeats: 6.0,
            last: 5.0,
            age: 30.0,
        };
        assert!(model.probability_alive(&lapsed) < 0.5);
        assert_eq!(model.weeks_until_chance(&lapsed, 0.5), None);
    }

    /// The regrouped likelihood the fit minimises is the mean of the per-customer one.
    #[test]
    fn grouped_likelihood_is_the_mean_of_each_customers() {
        let histories: Vec<History> = (0..500)
            .map(|i| {
                let repeats = f64::from(i % 7 / 3 * (i % 5));
                let age = f64::from(10 + i % 13);
                History {
                    repeats,
                    last: if repeats > 0.0 {
                        age - f64::from(i % 4)
                    } else {
                        0.0
                    },
                    age,
                }
            })
            .collect();
        let grouped = Likelihood::new(&histories);
        assert!(grouped.histories.len() < 200, "{}", grouped.histories.len());
        for p in [[0.243, 4.414, 0.793, 2.426], [1.5, 0.3, 2.0, 0.7]] {
            let mean = histories.iter().map(|h| log_likelihood(p, h)).sum::<f64>() / 500.0;
            assert!((grouped.mean(p) - mean).abs() < 1e-9, "{p:?}");
        }
    }
}
