//! Gamma-Gamma (Colombo & Jiang's spend model, as Fader, Hardie & Lee, 2005, "RFM and CLV:
//! using iso-value curves for customer base analysis" write it): what a customer spends per
//! purchase. Each purchase is
//! gamma(p, ν) around the customer's own level ν, and ν varies across customers as
//! gamma(q, γ). A customer's mean over n purchases is then gamma(pn, νn), which is all the
//! likelihood needs. Fitted by maximum likelihood with argmin's Nelder–Mead on
//! log-parameters, like [`super::bgnbd`]; amounts are the shop's, in major units.
//!
//! The model assumes spend per purchase does not depend on how often a customer buys, which is
//! what lets it be multiplied by BG/NBD's expected purchases.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;
use libm::lgamma;
use ndarray::{Array1, ArrayView1};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    /// Columns of `purchase_days` and `monetary_total` in the feature matrix.
    pub columns: [usize; 2],
}

/// What one customer has spent: `purchases` purchases (purchase days, as BG/NBD counts them)
/// of `mean` on average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    pub purchases: f64,
    pub mean: f64,
}

impl Spend {
    /// From the features `purchase_days` and `monetary_total`: spend per purchase day, so that a
    /// day with two orders is one purchase of their sum, as BG/NBD sees it.
    pub fn from_features(purchase_days: f64, monetary_total: f64) -> Self {
        Self {
            purchases: purchase_days,
            mean: if purchase_days > 0.0 {
                monetary_total / purchase_days
            } else {
                0.0
            },
        }
    }
}

/// One customer's log-likelihood: their mean spend z̄ over x purchases, with ν integrated out,
///
/// ```text
/// Γ(px+q) / (Γ(px) Γ(q)) · γ^q · z̄^(px−1) · x^(px) / (γ + x z̄)^(px+q)
/// ```
fn log_likelihood([p, q, gamma]: [f64; 3], s: &Spend) -> f64 {
    let (x, m) = (s.purchases, s.mean);
    lgamma(p * x + q) - lgamma(p * x) - lgamma(q)
        + q * gamma.ln()
        + (p * x - 1.0) * m.ln()
        + p * x * x.ln()
        - (p * x + q) * (gamma + x * m).ln()
}

struct Likelihood<'a> {
    spends: &'a [Spend],
}

impl CostFunction for Likelihood<'_> {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Array1<f64>) -> Result<f64, argmin::core::Error> {
        let params = [
            log_params[0].exp(),
            log_params[1].exp(),
            log_params[2].exp(),
        ];
        let total: f64 = self.spends.iter().map(|s| log_likelihood(params, s)).sum();
        let cost = -total / self.spends.len() as f64;
        Ok(if cost.is_finite() { cost } else { f64::MAX })
    }
}

impl GammaGamma {
    pub fn spend(&self, row: ArrayView1<f64>) -> Spend {
        let [days, total] = self.columns.map(|c| row[c]);
        Spend::from_features(days, total)
    }

    /// Fits p, q and γ on customers' spends. Only repeat customers with a positive spend carry
    /// information about how a customer's purchases vary around their own level; pass those.
    pub fn fit(spends: &[Spend], columns: [usize; 2]) -> Result<Self, argmin::core::Error> {
        if spends.is_empty() {
            return Err(argmin::core::Error::msg("Gamma-Gamma needs spends to fit"));
        }
        // Start where the population's mean spend per purchase, pγ/(q−1), is the sample's: the
        // scale is the shop's currency, which the other two parameters do not depend on.
        let mean = spends.iter().map(|s| s.mean).sum::<f64>() / spends.len() as f64;
        let start = Array1::from_vec(vec![0.0, 2f64.ln(), mean.max(f64::MIN_POSITIVE).ln()]);
        let mut simplex = vec![start.clone()];
        for i in 0..3 {
            let mut vertex = start.clone();
            vertex[i] += 0.7;
            simplex.push(vertex);
        }
        let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10)?;
        let result = Executor::new(Likelihood { spends }, solver)
            .configure(|state| state.max_iters(3000))
            .run()?;
        let best = result
            .state()
            .get_best_param()
            .cloned()
            .ok_or_else(|| argmin::core::Error::msg("Gamma-Gamma fit found no parameters"))?;
        Ok(Self {
            p: best[0].exp(),
            q: best[1].exp(),
            gamma: best[2].exp(),
            columns,
        })
    }

    /// Whether the parameters describe a population with a finite mean spend (q > 1), which
    /// [`Self::mean_spend`] and a sensible conditional expectation need.
    pub fn is_well_formed(&self) -> bool {
        [self.p, self.q, self.gamma]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
            && self.q > 1.0
    }

    /// The population's mean spend per purchase, pγ/(q−1).
    pub fn mean_spend(&self) -> f64 {
        self.p * self.gamma / (self.q - 1.0)
    }

    /// E[spend per purchase | this customer's purchases], p(γ + x z̄)/(px + q − 1): a weighted
    /// average of the population's mean and the customer's own, leaning on their own the more
    /// purchases they made.
    pub fn expected_spend(&self, s: &Spend) -> f64 {
        self.p * (self.gamma + s.purchases * s.mean) / (self.p * s.purchases + self.q - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A gamma(shape, rate) draw: Marsaglia & Tsang (2000), with the shape < 1 boost.
    fn gamma_draw(rng: &mut ChaCha8Rng, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let u: f64 = rng.r#gen();
            return gamma_draw(rng, shape + 1.0, rate) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            // Box–Muller for the normal.
            let (u1, u2): (f64, f64) = (rng.r#gen(), rng.r#gen());
            let normal = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let v = (1.0 + c * normal).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u: f64 = rng.r#gen();
            if u.ln() < 0.5 * normal * normal + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    #[test]
    fn the_fit_recovers_the_parameters_of_a_simulated_shop() {
        // CDNOW's parameters (p, q, γ) = (6.25, 3.74, 15.44), 5,000 repeat customers.
        let (p, q, gamma) = (6.25, 3.74, 15.44);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let spends: Vec<Spend> = (0..5000)
            .map(|_| {
                let level = gamma_draw(&mut rng, q, gamma);
                let purchases = f64::from(rng.gen_range(1..12));
                // The mean of x gamma(p, ν) purchases is gamma(px, νx).
                let mean = gamma_draw(&mut rng, p * purchases, level * purchases);
                Spend { purchases, mean }
            })
            .collect();
        let fitted = GammaGamma::fit(&spends, [0, 1]).unwrap();
        println!(
            "simulated (6.25, 3.74, 15.44) fitted ({:.3}, {:.3}, {:.3}), mean spend {:.3}",
            fitted.p,
            fitted.q,
            fitted.gamma,
            fitted.mean_spend()
        );
        assert!((fitted.p - p).abs() / p < 0.1, "{fitted:?}");
        assert!((fitted.q - q).abs() / q < 0.1, "{fitted:?}");
        assert!((fitted.gamma - gamma).abs() / gamma < 0.15, "{fitted:?}");
        // What matters downstream, the population's mean spend, is recovered closer still.
        let true_mean = p * gamma / (q - 1.0);
        assert!(
            (fitted.mean_spend() - true_mean).abs() / true_mean < 0.03,
            "{} vs {true_mean}",
            fitted.mean_spend()
        );
        // The fit is a maximum: nudging any parameter lowers the likelihood.
        let ll = |params: [f64; 3]| {
            spends
                .iter()
                .map(|s| log_likelihood(params, s))
                .sum::<f64>()
        };
        let best = ll([fitted.p, fitted.q, fitted.gamma]);
        for i in 0..3 {
            for factor in [0.98, 1.02] {
                let mut nudged = [fitted.p, fitted.q, fitted.gamma];
                nudged[i] *= factor;
                assert!(ll(nudged) < best, "parameter {i} × {factor}");
            }
        }
    }

    #[test]
    fn conditional_spend_by_hand_with_the_cdnow_fit() {
        let model = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
            columns: [0, 1],
        };
        // CDNOW customer 1: 2 repeat purchases of $22.35 on average.
        // 6.25 · (15.44 + 2 · 22.35) / (6.25 · 2 + 3.74 − 1) = 375.875 / 15.24
        let spend = model.expected_spend(&Spend {
            purchases: 2.0,
            mean: 22.35,
        });
        assert!((spend - 375.875 / 15.24).abs() < 1e-12, "{spend}");
        assert!(
            (spend - 24.66).abs() < 0.01,
            "lifetimes gives 24.6586 with unrounded parameters"
        );
        // The population mean 6.25 · 15.44 / 2.74 ≈ 35.22 pulls a small spender up, and many
        // purchases make the customer's own mean count for more.
        assert!((model.mean_spend() - 35.2190).abs() < 1e-3);
        let few = model.expected_spend(&Spend {
            purchases: 1.0,
            mean: 10.0,
        });
        let many = model.expected_spend(&Spend {
            purchases: 30.0,
            mean: 10.0,
        });
        assert!(10.0 < many && many < few && few < model.mean_spend());
    }

    #[test]
    fn spend_per_purchase_day_from_the_features() {
        assert_eq!(
            Spend::from_features(4.0, 100.0),
            Spend {
                purchases: 4.0,
                mean: 25.0
            }
        );
    }
}
