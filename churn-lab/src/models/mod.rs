//! The churn models: two baselines analysts know (recency alone, BG/NBD), linfa's logistic
//! regression, random forest and AdaBoost, and our histogram random forest, AdaBoost and
//! gradient boosting (linfa estimators too). Every churn model gives a raw churn score;
//! [`CalibratedModel`] turns it into a probability with Platt scaling fitted on validation
//! customers. Gamma-Gamma is no churn model: with BG/NBD it values a customer's coming year
//! ([`crate::lifetime`]).

pub mod adaboost;
pub mod bgnbd;
pub mod boosting;
pub mod forest;
pub mod gamma_gamma;
pub mod hist;
pub mod linear;

use std::fmt;
use std::str::FromStr;

use linfa::prelude::*;
use linfa_ensemble::{AdaBoostParams, RandomForestParams};
use linfa_trees::DecisionTree;
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use self::adaboost::{AdaBoost, AdaBoostParams as HistAdaBoostParams};
use self::bgnbd::BgNbd;
use self::boosting::{BoostedTrees, BoostingParams};
use self::forest::{Forest, ForestParams};
use self::linear::{LinearModel, Platt};

/// Which model; the names are what the CLI and `metrics.json` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Recency,
    BgNbd,
    Logistic,
    LinfaRandomForest,
    LinfaAdaboost,
    RandomForest,
    Adaboost,
    GradientBoosting,
}

impl ModelKind {
    pub const ALL: [ModelKind; 8] = [
        Self::Recency,
        Self::BgNbd,
        Self::Logistic,
        Self::LinfaRandomForest,
        Self::LinfaAdaboost,
        Self::RandomForest,
        Self::Adaboost,
        Self::GradientBoosting,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Recency => "recency",
            Self::BgNbd => "bg_nbd",
            Self::Logistic => "logistic",
            Self::LinfaRandomForest => "linfa_random_forest",
            Self::LinfaAdaboost => "linfa_adaboost",
            Self::RandomForest => "random_forest",
            Self::Adaboost => "adaboost",
            Self::GradientBoosting => "gradient_boosting",
        }
    }

    /// Baselines are measured and reported but never shipped as the chosen model.
    pub fn is_baseline(self) -> bool {
        matches!(self, Self::Recency | Self::BgNbd)
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|k| k.name()).collect();
                format!("unknown model `{s}`; choose from {}", names.join(", "))
            })
    }
}

/// linfa's random forest, kept with its per-tree feature subsets; scored by the share of trees
/// that vote "churn" (linfa's trees keep only the majority class in a leaf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinfaForest {
    trees: Vec<DecisionTree<f64, usize>>,
    features: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinfaForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_weight_leaf: f32,
    pub feature_proportion: f64,
    pub seed: u64,
}

impl LinfaForest {
    pub fn fit(
        x: &Array2<f64>,
        churned: &[bool],
        p: &LinfaForestParams,
    ) -> Result<Self, linfa::Error> {
        let dataset = Dataset::new(x.clone(), labels(churned));
        let tree = DecisionTree::params()
            .max_depth(Some(p.max_depth))
            .min_weight_leaf(p.min_weight_leaf);
        let fitted = RandomForestParams::new_fixed_rng(tree, ChaCha8Rng::seed_from_u64(p.seed))
            .ensemble_size(p.trees)
            .bootstrap_proportion(1.0)
            .feature_proportion(p.feature_proportion)
            .fit(&dataset)?;
        Ok(Self {
            trees: fitted.models,
            features: fitted.model_features,
        })
    }

    pub fn vote_share(&self, x: &Array2<f64>) -> Array1<f64> {
        let mut votes = Array1::zeros(x.nrows());
        for (tree, features) in self.trees.iter().zip(&self.features) {
            let predicted: Array1<usize> = tree.predict(&x.select(Axis(1), features));
            votes += &predicted.mapv(|c| c as f64);
        }
        votes / self.trees.len().max(1) as f64
    }
}

/// linfa's AdaBoost over shallow linfa trees, scored by the weighted share of "churn" votes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinfaAdaBoost {
    trees: Vec<DecisionTree<f64, usize>>,
    weights: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinfaAdaBoostParams {
    pub estimators: usize,
    pub max_depth: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl LinfaAdaBoost {
    pub fn fit(
        x: &Array2<f64>,
        churned: &[bool],
        p: &LinfaAdaBoostParams,
    ) -> Result<Self, linfa::Error> {
        let dataset = Dataset::new(x.clone(), labels(churned));
        let tree = DecisionTree::params().max_depth(Some(p.max_depth));
        let fitted = AdaBoostParams::new_fixed_rng(tree, ChaCha8Rng::seed_from_u64(p.seed))
            .n_estimators(p.estimators)
            .learning_rate(p.learning_rate)
            .fit(&dataset)?;
        Ok(Self {
            trees: fitted.models,
            weights: fitted.model_weights,
        })
    }

    pub fn vote_share(&self, x: &Array2<f64>) -> Array1<f64> {
        let mut votes = Array1::zeros(x.nrows());
        for (tree, &weight) in self.trees.iter().zip(&self.weights) {
            let predicted: Array1<usize> = tree.predict(x);
            votes += &predicted.mapv(|c| c as f64 * weight);
        }
        let total: f64 = self.weights.iter().sum();
        if total > 0.0 { votes / total } else { votes }
    }

    pub fn estimators(&self) -> usize {
        self.trees.len()
    }
}

fn labels(churned: &[bool]) -> Array1<usize> {
    Array1::from_iter(churned.iter().map(|&c| usize::from(c)))
}

/// A fitted model of any kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChurnModel {
    /// Longer since the last purchase → more likely gone. `column` is `recency_days`.
    Recency {
        column: usize,
    },
    BgNbd(BgNbd),
    Logistic(LinearModel),
    LinfaRandomForest(LinfaForest),
    LinfaAdaboost(LinfaAdaBoost),
    RandomForest(Forest),
    Adaboost(AdaBoost),
    GradientBoosting(BoostedTrees),
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

impl ChurnModel {
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Recency { .. } => ModelKind::Recency,
            Self::BgNbd(_) => ModelKind::BgNbd,
            Self::Logistic(_) => ModelKind::Logistic,
            Self::LinfaRandomForest(_) => ModelKind::LinfaRandomForest,
            Self::LinfaAdaboost(_) => ModelKind::LinfaAdaboost,
            Self::RandomForest(_) => ModelKind::RandomForest,
            Self::Adaboost(_) => ModelKind::Adaboost,
            Self::GradientBoosting(_) => ModelKind::GradientBoosting,
        }
    }

    /// Whether the model only reads columns below `features` and its trees terminate.
    pub fn is_well_formed(&self, features: usize) -> bool {
        match self {
            Self::Recency { column } => *column < features,
            Self::BgNbd(m) => {
                m.columns.iter().all(|&c| c < features)
                    && [m.r, m.alpha, m.a, m.b, m.horizon]
                        .iter()
                        .all(|v| v.is_finite() && *v > 0.0)
            }
            Self::Logistic(m) => m.features() == features,
            Self::LinfaRandomForest(m) => {
                m.features.len() == m.trees.len()
                    && !m.trees.is_empty()
                    && m.features.iter().flatten().all(|&c| c < features)
            }
            Self::LinfaAdaboost(m) => !m.trees.is_empty() && m.trees.len() == m.weights.len(),
            Self::RandomForest(m) => m.is_well_formed(features),
            Self::Adaboost(m) => m.is_well_formed(features),
            Self::GradientBoosting(m) => m.is_well_formed(features),
        }
    }

    /// A score on the real line, higher meaning more likely to churn.
    pub fn raw_scores(&self, x: &Array2<f64>) -> Array1<f64> {
        match self {
            Self::Recency { column } => x.column(*column).mapv(|r| r.max(0.0).ln_1p()),
            Self::BgNbd(m) => m.scores(x).mapv(logit),
            Self::Logistic(m) => m.probabilities(x).mapv(logit),
            Self::LinfaRandomForest(m) => m.vote_share(x).mapv(logit),
            Self::LinfaAdaboost(m) => m.vote_share(x).mapv(logit),
            Self::RandomForest(m) => m.probabilities(x).mapv(logit),
            Self::Adaboost(m) => m.vote_share(x).mapv(logit),
            Self::GradientBoosting(m) => m.probabilities(x).mapv(logit),
        }
    }
}

/// A model with its calibration: what the artifact ships and the API runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedModel {
    pub model: ChurnModel,
    pub calibration: Platt,
}

impl CalibratedModel {
    pub fn calibrate(
        model: ChurnModel,
        x: &Array2<f64>,
        churned: &[bool],
    ) -> Result<Self, linfa_logistic::error::Error> {
        let calibration = Platt::fit(&model.raw_scores(x), churned)?;
        Ok(Self { model, calibration })
    }

    pub fn probabilities(&self, x: &Array2<f64>) -> Array1<f64> {
        self.calibration.apply(&self.model.raw_scores(x))
    }
}

/// Hyperparameters of every trainable model, as chosen by the search or given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    pub logistic_l2: f64,
    pub random_forest: ForestParams,
    pub gradient_boosting: BoostingParams,
    pub linfa_random_forest: LinfaForestParams,
    pub linfa_adaboost: LinfaAdaBoostParams,
    #[serde(default)]
    pub adaboost: HistAdaBoostParams,
}

impl Hyperparameters {
    pub fn defaults(seed: u64) -> Self {
        Self {
            logistic_l2: 1.0,
            random_forest: ForestParams {
                seed,
                ..ForestParams::default()
            },
            gradient_boosting: BoostingParams {
                seed,
                ..BoostingParams::default()
            },
            linfa_random_forest: LinfaForestParams {
                trees: 100,
                max_depth: 10,
                min_weight_leaf: 20.0,
                feature_proportion: 0.5,
                seed,
            },
            linfa_adaboost: LinfaAdaBoostParams {
                estimators: 100,
                max_depth: 2,
                learning_rate: 0.5,
                seed,
            },
            adaboost: HistAdaBoostParams::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("{model}: {message}")]
    Failed { model: ModelKind, message: String },
    #[error("{0} needs the feature `{1}`")]
    MissingFeature(ModelKind, &'static str),
}

/// Fits one model kind on `x`/`churned`; `names` locates the columns baselines read.
pub fn fit(
    kind: ModelKind,
    x: &Array2<f64>,
    churned: &[bool],
    names: &[String],
    window_days: u32,
    hp: &Hyperparameters,
) -> Result<ChurnModel, FitError> {
    let failed = |e: &dyn fmt::Display| FitError::Failed {
        model: kind,
        message: e.to_string(),
    };
    let column = |name: &'static str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or(FitError::MissingFeature(kind, name))
    };
    let targets = || Array1::from_iter(churned.iter().copied());
    Ok(match kind {
        ModelKind::Recency => ChurnModel::Recency {
            column: column("recency_days")?,
        },
        ModelKind::BgNbd => {
            let columns = [
                column("purchase_days")?,
                column("recency_days")?,
                column("tenure_days")?,
            ];
            ChurnModel::BgNbd(BgNbd::fit(x, columns, window_days).map_err(|e| failed(&e))?)
        }
        ModelKind::Logistic => ChurnModel::Logistic(
            LinearModel::fit(x, churned, hp.logistic_l2).map_err(|e| failed(&e))?,
        ),
        ModelKind::LinfaRandomForest => ChurnModel::LinfaRandomForest(
            LinfaForest::fit(x, churned, &hp.linfa_random_forest).map_err(|e| failed(&e))?,
        ),
        ModelKind::LinfaAdaboost => ChurnModel::LinfaAdaboost(
            LinfaAdaBoost::fit(x, churned, &hp.linfa_adaboost).map_err(|e| failed(&e))?,
        ),
        ModelKind::RandomForest => ChurnModel::RandomForest(
            hp.random_forest
                .fit(&Dataset::new(x.clone(), targets()))
                .map_err(|e| failed(&e))?,
        ),
        ModelKind::Adaboost => ChurnModel::Adaboost(
            hp.adaboost
                .fit(&Dataset::new(x.clone(), targets()))
                .map_err(|e| failed(&e))?,
        ),
        ModelKind::GradientBoosting => ChurnModel::GradientBoosting(
            hp.gradient_boosting
                .fit(&Dataset::new(x.clone(), targets()))
                .map_err(|e| failed(&e))?,
        ),
    })
}
