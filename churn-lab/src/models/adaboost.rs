//! AdaBoost (SAMME, two classes) on our histogram trees, as a linfa estimator. linfa-ensemble's
//! AdaBoost grows linfa-trees, whose splitter walks every training row at every node (see
//! `hist.rs`); the same boosting rounds on histogram trees fit in a fraction of the time.
//! linfa's own stays among the models for comparison (BENCHMARKS.md).

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::hist::{Binner, Binning, Tree, TreeParams};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaBoostParams {
    pub estimators: usize,
    pub max_depth: usize,
    /// Shrinks each tree's say (scikit-learn's `learning_rate`).
    pub learning_rate: f64,
}

impl Default for AdaBoostParams {
    fn default() -> Self {
        Self {
            estimators: 100,
            max_depth: 2,
            learning_rate: 0.5,
        }
    }
}

/// Shallow trees, each voting "churn" where its leaf's weighted churn share is over one half,
/// with the say boosting gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaBoost {
    trees: Vec<Tree>,
    says: Vec<f64>,
}

impl AdaBoost {
    /// The say-weighted share of trees voting "churn".
    pub fn vote_share(&self, x: &Array2<f64>) -> Array1<f64> {
        let total: f64 = self.says.iter().sum();
        Array1::from_iter(x.rows().into_iter().map(|row| {
            let votes: f64 = self
                .trees
                .iter()
                .zip(&self.says)
                .filter(|(tree, _)| tree.predict(row) > 0.5)
                .map(|(_, say)| say)
                .sum();
            if total > 0.0 { votes / total } else { 0.5 }
        }))
    }

    pub fn is_well_formed(&self, features: usize) -> bool {
        !self.trees.is_empty()
            && self.trees.len() == self.says.len()
            && self.says.iter().all(|s| s.is_finite() && *s >= 0.0)
            && self.trees.iter().all(|t| t.is_well_formed(features))
    }

    pub fn estimators(&self) -> usize {
        self.trees.len()
    }
}

impl Fit<Array2<f64>, Array1<bool>, linfa::Error> for AdaBoostParams {
    type Object = AdaBoost;

    fn fit(
        &self,
        dataset: &DatasetBase<Array2<f64>, Array1<bool>>,
    ) -> Result<AdaBoost, linfa::Error> {
        let x = &dataset.records;
        let n = x.nrows();
        let churned: Vec<bool> = dataset.targets.to_vec();
        if n == 0 || churned.iter().all(|&c| c) || churned.iter().all(|&c| !c) {
            return Err(linfa::Error::Parameters(
                "AdaBoost needs both classes".into(),
            ));
        }
        if self.estimators == 0 || self.learning_rate.is_nan() || self.learning_rate <= 0.0 {
            return Err(linfa::Error::Parameters(
                "AdaBoost needs at least one estimator and a positive learning rate".into(),
            ));
        }
        // Cut at the distinct values, not the rows' quantiles: its reference (scikit-learn)
        // may split anywhere, and thresholds in the tails pay here where rows binning does
        // not (test AUC on CDNOW 0.7736 against 0.7718; BENCHMARKS.md).
        let binner = Binner::fit(x.view(), Binning::Values);
        let data = binner.transform(x.view());
        let tree_params = TreeParams {
            max_depth: self.max_depth,
            min_samples_leaf: 1,
            min_child_weight: 0.0,
            lambda: 0.0,
            max_features: x.ncols(),
        };
        // Every split sees every feature, so the generator is never drawn from; the trees
        // are the same for any seed.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut weight = vec![1.0 / n as f64; n];
        let mut churn_weight = vec![0.0; n];
        let mut trees = Vec::with_capacity(self.estimators);
        let mut says = Vec::with_capacity(self.estimators);
        for _ in 0..self.estimators {
            for i in 0..n {
                churn_weight[i] = if churned[i] { weight[i] } else { 0.0 };
            }
            let rows: Vec<u32> = (0..n as u32).collect();
            let grown = Tree::grow(
                &data,
                &binner,
                &churn_weight,
                &weight,
                rows,
                &tree_params,
                &mut rng,
            );
            // Every row grew the tree, so each knows its leaf.
            let mut wrong = vec![false; n];
            grown.for_each_row(|i, value| wrong[i] = (value > 0.5) != churned[i]);
            let tree = grown.tree;
            let error: f64 = weight
                .iter()
                .zip(&wrong)
                .filter(|(_, w)| **w)
                .map(|(w, _)| w)
                .sum::<f64>()
                / weight.iter().sum::<f64>();
            if error >= 0.5 {
                // No better than a coin: this tree and any after it add nothing.
                break;
            }
            if error <= 1e-12 {
                // A perfect tree decides alone.
                trees.push(tree);
                says.push(1.0);
                break;
            }
            let say = self.learning_rate * ((1.0 - error) / error).ln();
            let boost = say.exp();
            for (w, &wrong) in weight.iter_mut().zip(&wrong) {
                if wrong {
                    *w *= boost;
                }
            }
            let total: f64 = weight.iter().sum();
            weight.iter_mut().for_each(|w| *w /= total);
            trees.push(tree);
            says.push(say);
        }
        if trees.is_empty() {
            return Err(linfa::Error::Parameters(
                "no tree did better than chance".into(),
            ));
        }
        Ok(AdaBoost { trees, says })
    }
}

impl PredictInplace<Array2<f64>, Array1<f64>> for AdaBoost {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<f64>) {
        y.assign(&self.vote_share(x));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use linfa::Dataset;
    use ndarray::Array2;
    use rand::Rng;

    use super::*;

    #[test]
    fn boosting_rounds_learn_what_one_stump_cannot() {
        // Churn when exactly one of two signals is high: no single split separates it.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_fn((400, 2), |_| rng.gen_range(0.0..1.0));
        let churned: Array1<bool> = x
            .rows()
            .into_iter()
            .map(|r| (r[0] > 0.5) != (r[1] > 0.5))
            .collect();
        let dataset = Dataset::new(x.clone(), churned.clone());
        let stump = AdaBoostParams {
            estimators: 1,
            max_depth: 1,
            learning_rate: 1.0,
        }
        .fit(&dataset)
        .unwrap();
        let boosted = AdaBoostParams::default().fit(&dataset).unwrap();
        let accuracy = |m: &AdaBoost| {
            let share = m.vote_share(&x);
            share
                .iter()
                .zip(&churned)
                .filter(|(p, c)| (**p > 0.5) == **c)
                .count() as f64
                / 400.0
        };
        assert!(accuracy(&stump) < 0.8, "{}", accuracy(&stump));
        assert!(accuracy(&boosted) > 0.9, "{}", accuracy(&boosted));
        assert!(boosted.is_well_formed(2));
        assert!(!boosted.is_well_formed(1));
    }
}
