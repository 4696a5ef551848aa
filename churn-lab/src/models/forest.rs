//! Our random forest: bootstrapped histogram trees with a fresh feature sample at every split,
//! grown in parallel, predicting the churn share of each leaf (so it yields probabilities).
//! It implements linfa's `Fit` and `PredictInplace`, so it sits beside linfa's own estimators.

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::hist::{Binner, Binning, Tree, TreeParams};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// Share of the features tried at each split (√p / p is the classic choice).
    pub feature_fraction: f64,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 300,
            max_depth: 12,
            min_samples_leaf: 20,
            feature_fraction: 0.35,
            seed: 42,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
}

impl Forest {
    pub fn probabilities(&self, x: &Array2<f64>) -> Array1<f64> {
        let n = self.trees.len().max(1) as f64;
        Array1::from_iter(
            x.rows()
                .into_iter()
                .map(|row| self.trees.iter().map(|t| t.predict(row)).sum::<f64>() / n),
        )
    }

    pub fn is_well_formed(&self, features: usize) -> bool {
        !self.trees.is_empty() && self.trees.iter().all(|t| t.is_well_formed(features))
    }

    pub fn trees(&self) -> usize {
        self.trees.len()
    }
}

impl Fit<Array2<f64>, Array1<bool>, linfa::Error> for ForestParams {
    type Object = Forest;

    fn fit(
        &self,
        dataset: &DatasetBase<Array2<f64>, Array1<bool>>,
    ) -> Result<Forest, linfa::Error> {
        let x = &dataset.records;
        let n = x.nrows();
        if n == 0 || self.trees == 0 {
            return Err(linfa::Error::Parameters(
                "a forest needs rows and trees".into(),
            ));
        }
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let y: Vec<f64> = dataset
            .targets
            .iter()
            .map(|&c| f64::from(u8::from(c)))
            .collect();
        let tree_params = TreeParams {
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf,
            min_child_weight: 0.0,
            lambda: 0.0,
            max_features: ((x.ncols() as f64 * self.feature_fraction).ceil() as usize).max(1),
        };
        let trees = (0..self.trees)
            .into_par_iter()
            .map(|t| {
                // One generator per tree: the forest is the same whatever the thread count.
                let mut rng = ChaCha8Rng::seed_from_u64(
                    self.seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let mut weight = vec![0.0; n];
                for _ in 0..n {
                    weight[rng.gen_range(0..n)] += 1.0;
                }
                let g: Vec<f64> = weight.iter().zip(&y).map(|(w, y)| w * y).collect();
                let rows: Vec<u32> = (0..n as u32)
                    .filter(|&r| weight[r as usize] > 0.0)
                    .collect();
                Tree::grow(&data, &binner, &g, &weight, rows, &tree_params, &mut rng).tree
            })
            .collect();
        Ok(Forest { trees })
    }
}

impl PredictInplace<Array2<f64>, Array1<f64>> for Forest {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<f64>) {
        y.assign(&self.probabilities(x));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}
