//! Gradient-boosted trees for churn (logistic loss, Newton leaves, histogram splits, row
//! subsampling), written as a linfa estimator because linfa has none. ARCHITECTURE.md records
//! why this and not a crate: measured AUC and time are in BENCHMARKS.md.

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2};
use rand::distributions::Bernoulli;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::hist::{Binner, Binning, Tree, TreeParams};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostingParams {
    pub trees: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    pub lambda: f64,
    /// Share of rows each tree is grown on.
    pub subsample: f64,
    pub seed: u64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        Self {
            trees: 200,
            learning_rate: 0.05,
            max_depth: 4,
            min_samples_leaf: 20,
            lambda: 1.0,
            subsample: 0.8,
            seed: 42,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostedTrees {
    base_score: f64,
    learning_rate: f64,
    trees: Vec<Tree>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl BoostedTrees {
    pub fn probabilities(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::from_iter(x.rows().into_iter().map(|row| {
            let z = self.base_score
                + self.learning_rate * self.trees.iter().map(|t| t.predict(row)).sum::<f64>();
            sigmoid(z)
        }))
    }

    pub fn is_well_formed(&self, features: usize) -> bool {
        self.base_score.is_finite()
            && self.learning_rate.is_finite()
            && self.trees.iter().all(|t| t.is_well_formed(features))
    }

    pub fn trees(&self) -> usize {
        self.trees.len()
    }
}

impl Fit<Array2<f64>, Array1<bool>, linfa::Error> for BoostingParams {
    type Object = BoostedTrees;

    fn fit(
        &self,
        dataset: &DatasetBase<Array2<f64>, Array1<bool>>,
    ) -> Result<BoostedTrees, linfa::Error> {
        // On one of rayon's threads, so that each tree's many short parallel steps start
        // from a worker (a cheap fork) rather than wake the pool from outside.
        rayon::scope(|_| self.fit_on_pool(dataset))
    }
}

impl BoostingParams {
    fn fit_on_pool(
        &self,
        dataset: &DatasetBase<Array2<f64>, Array1<bool>>,
    ) -> Result<BoostedTrees, linfa::Error> {
        let x = &dataset.records;
        let n = x.nrows();
        let y: Vec<f64> = dataset
            .targets
            .iter()
            .map(|&c| f64::from(u8::from(c)))
            .collect();
        let positives = y.iter().sum::<f64>();
        if n == 0 || positives == 0.0 || positives == n as f64 {
            return Err(linfa::Error::Parameters(
                "boosting needs both classes".into(),
            ));
        }
        let rate = positives / n as f64;
        let base_score = (rate / (1.0 - rate)).ln();
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let tree_params = TreeParams {
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf,
            min_child_weight: 1e-3,
            lambda: self.lambda,
            max_features: x.ncols(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut scores = vec![base_score; n];
        let (mut g, mut h) = (vec![0.0; n], vec![0.0; n]);
        let bagging = Bernoulli::new(self.subsample.clamp(0.05, 1.0))
            .map_err(|e| linfa::Error::Parameters(e.to_string()))?;
        let mut out_of_bag = Vec::new();
        let mut trees = Vec::with_capacity(self.trees);
        for _ in 0..self.trees {
            g.par_iter_mut()
                .zip(h.par_iter_mut())
                .zip(scores.par_iter().zip(&y))
                .for_each(|((g, h), (&score, &y))| {
                    let p = sigmoid(score);
                    *g = y - p;
                    *h = (p * (1.0 - p)).max(1e-12);
                });
            // Each row joins with probability `subsample` (LightGBM's bagging): the rows
            // come out in order, which keeps the trees' histogram fills sequential.
            let mut rows = Vec::with_capacity(n);
            out_of_bag.clear();
            for r in 0..n as u32 {
                if rng.sample(bagging) {
                    rows.push(r);
                } else {
                    out_of_bag.push(r);
                }
            }
            let grown = Tree::grow(&data, &binner, &g, &h, rows, &tree_params, &mut rng);
            // The rows the tree grew on know their leaf; only the others walk the tree.
            grown.for_each_row(|r, value| scores[r] += self.learning_rate * value);
            for &r in &out_of_bag {
                scores[r as usize] +=
                    self.learning_rate * grown.tree.predict_binned(&data, r as usize);
            }
            trees.push(grown.tree);
        }
        Ok(BoostedTrees {
            base_score,
            learning_rate: self.learning_rate,
            trees,
        })
    }
}

impl PredictInplace<Array2<f64>, Array1<f64>> for BoostedTrees {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<f64>) {
        y.assign(&self.probabilities(x));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}
