//! The linear baseline: linfa-logistic on sign-keeping log-scaled, standardised features
//! (purchase counts and money are heavy-tailed; logs make them roughly linear in the log-odds).

use linfa::prelude::*;
use linfa_logistic::{FittedLogisticRegression, LogisticRegression};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    center: Vec<f64>,
    scale: Vec<f64>,
    model: FittedLogisticRegression<f64, usize>,
}

fn signed_log(v: f64) -> f64 {
    v.signum() * v.abs().ln_1p()
}

fn transform(x: &Array2<f64>, center: &[f64], scale: &[f64]) -> Array2<f64> {
    let mut out = x.mapv(signed_log);
    for (j, mut column) in out.axis_iter_mut(Axis(1)).enumerate() {
        column.mapv_inplace(|v| (v - center[j]) / scale[j]);
    }
    out
}

impl LinearModel {
    pub fn fit(
        x: &Array2<f64>,
        churned: &[bool],
        l2: f64,
    ) -> Result<Self, linfa_logistic::error::Error> {
        let logged = x.mapv(signed_log);
        let center: Vec<f64> = logged
            .mean_axis(Axis(0))
            .map(|m| m.to_vec())
            .unwrap_or_default();
        let scale: Vec<f64> = logged
            .std_axis(Axis(0), 0.0)
            .iter()
            .map(|&s| if s > 1e-12 { s } else { 1.0 })
            .collect();
        let targets = Array1::from_iter(churned.iter().map(|&c| usize::from(c)));
        let dataset = Dataset::new(transform(x, &center, &scale), targets);
        // linfa's loss is a sum over customers, so its gradient grows with their number: a fixed
        // tolerance made L-BFGS run all its iterations (seconds) chasing digits that change
        // no ranking. A tolerance per customer stops it where scikit-learn's would.
        let model = LogisticRegression::default()
            .alpha(l2)
            .max_iterations(300)
            .gradient_tolerance(1e-5 * x.nrows() as f64)
            .fit(&dataset)?;
        Ok(Self {
            center,
            scale,
            model,
        })
    }

    pub fn features(&self) -> usize {
        if self.center.len() == self.scale.len() && self.model.params().len() == self.center.len() {
            self.center.len()
        } else {
            usize::MAX
        }
    }

    pub fn probabilities(&self, x: &Array2<f64>) -> Array1<f64> {
        self.model
            .predict_probabilities(&transform(x, &self.center, &self.scale))
    }
}

/// Platt scaling: a one-feature logistic regression from a model's raw score to a churn
/// probability, fitted on validation customers the model never trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    model: FittedLogisticRegression<f64, usize>,
}

impl Platt {
    pub fn fit(raw: &Array1<f64>, churned: &[bool]) -> Result<Self, linfa_logistic::error::Error> {
        let targets = Array1::from_iter(churned.iter().map(|&c| usize::from(c)));
        let records = raw.clone().insert_axis(Axis(1));
        let model = LogisticRegression::default()
            .alpha(1e-6)
            .max_iterations(200)
            .gradient_tolerance(1e-6 * raw.len() as f64)
            .fit(&Dataset::new(records, targets))?;
        Ok(Self { model })
    }

    pub fn apply(&self, raw: &Array1<f64>) -> Array1<f64> {
        self.model
            .predict_probabilities(&raw.clone().insert_axis(Axis(1)))
    }
}
