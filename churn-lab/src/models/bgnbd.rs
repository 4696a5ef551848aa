//! BG/NBD (Fader, Hardie & Lee, 2005): the classic "probability alive" model. Customers buy
//! at a Poisson rate and may drop out after any purchase; the rates and dropout chances vary
//! across customers (gamma and beta mixtures). Fitted by maximum likelihood with argmin's
//! Nelder–Mead on log-parameters; time is measured in weeks.
//!
//! As a churn score it predicts P(no purchase in the label window), not 1 − P(alive): a
//! one-time buyer is "alive" by construction yet rarely buys again.

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
        History {
            repeats: (days - 1.0).max(0.0),
            last: ((tenure - recency) / 7.0).max(0.0),
            age: (tenure / 7.0).max(0.0),
        }
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
        let silent_if_alive =
            ((self.alpha + h.age) / (self.alpha + h.age + self.horizon)).powf(self.r + h.repeats);
        (1.0 - alive) + alive * silent_if_alive
    }

    pub fn scores(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::from_iter(
            x.rows()
                .into_iter()
                .map(|row| self.probability_no_purchase(&self.history(row))),
        )
    }
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
