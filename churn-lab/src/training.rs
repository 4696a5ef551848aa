//! Training: from transactions to a chosen, calibrated model and the evidence behind the choice.
//!
//! Customers known before the cut-off are split 60/20/20 (stratified, seeded). A small
//! cross-validated search on the training part picks hyperparameters; every model is fitted on
//! the training part, calibrated on validation, and measured on validation and test. The best
//! non-baseline model on validation ROC-AUC is shipped; test numbers are reported untouched.
//! The lifetime models (BG/NBD and Gamma-Gamma) are fitted on the same training customers as of
//! the cut-off and shipped beside it.

use std::time::Instant;

use chrono::{NaiveDate, Utc};
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::artifact::{
    ARTIFACT_FORMAT_VERSION, ArtifactMetrics, ModelArtifact, RiskBands, TrainingManifest,
};
use crate::dataset::{DatasetError, LabelledCustomers, Split, stratified_folds, stratified_split};
use crate::features::FEATURE_DEFINITION_VERSION;
use crate::lifetime::LifetimeModels;
use crate::metrics::{self, Evaluation, best_f1_threshold, evaluate, roc_auc};
use crate::models::boosting::BoostingParams;
use crate::models::forest::ForestParams;
use crate::models::{self, CalibratedModel, FitError, Hyperparameters, ModelKind};
use crate::transactions::{Events, Transactions};

/// Where long work reports how far it is; the CLI draws progress bars, the console may emit
/// events, tests stay silent.
pub trait Progress: Sync {
    fn begin(&self, task: &str, steps: u64);
    fn advance(&self, message: &str);
    fn end(&self);
    /// Whoever watches asked to stop: training ends with [`TrainingError::Cancelled`] at the
    /// next step (a model fit or a search trial).
    fn cancelled(&self) -> bool {
        false
    }
}

fn check_cancelled(progress: &dyn Progress) -> Result<(), TrainingError> {
    if progress.cancelled() {
        Err(TrainingError::Cancelled)
    } else {
        Ok(())
    }
}

pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, _: &str) {}
    fn end(&self) {}
}

#[derive(Debug, Clone)]
pub struct TrainingConfig {
    pub cutoff: NaiveDate,
    pub window_days: u32,
    pub seed: u64,
    pub models: Vec<ModelKind>,
    /// Run the cross-validated hyperparameter search (otherwise defaults).
    pub search: bool,
    pub folds: usize,
}

impl TrainingConfig {
    pub fn new(cutoff: NaiveDate, window_days: u32) -> Self {
        Self {
            cutoff,
            window_days,
            seed: 42,
            models: ModelKind::ALL.to_vec(),
            search: true,
            folds: 3,
        }
    }

    /// A run needs a model it may ship: baselines are measured, never chosen. Callers may
    /// check before reading any data; [`train`] checks again.
    pub fn check(&self) -> Result<(), TrainingError> {
        if self.models.iter().any(|m| !m.is_baseline()) {
            Ok(())
        } else {
            Err(TrainingError::NoCandidate)
        }
    }
}

/// One model's results, as written to `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelResult {
    pub model: ModelKind,
    pub baseline: bool,
    pub fit_seconds: f64,
    pub validation: Evaluation,
    pub test: Evaluation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchTrial {
    pub model: ModelKind,
    pub params: serde_json::Value,
    pub cv_roc_auc: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureImportance {
    pub feature: String,
    /// Mean drop in validation ROC-AUC when the feature's values are shuffled.
    pub auc_drop: f64,
}

/// Everything `metrics.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub data: TrainingManifest,
    pub chosen: ModelKind,
    pub chosen_version: String,
    pub threshold: f64,
    pub risk_bands: RiskBands,
    pub models: Vec<ModelResult>,
    pub search: Vec<SearchTrial>,
    pub permutation_importance: Vec<FeatureImportance>,
    /// Why the artifact carries no lifetime models, when it carries none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_not_fitted: Option<String>,
}

/// Test-set predictions of every model, for the report's curves.
#[derive(Debug, Clone)]
pub struct TestPredictions {
    /// Empty for a run written before the file carried them.
    pub customer_ids: Vec<String>,
    pub churned: Vec<bool>,
    pub by_model: Vec<(ModelKind, Vec<f64>)>,
}

pub struct TrainingOutcome {
    pub artifact: ModelArtifact,
    pub summary: TrainingSummary,
    pub test: TestPredictions,
    pub customers: LabelledCustomers,
    pub split: Split,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    #[error(transparent)]
    Data(#[from] DatasetError),
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("calibrating {0}: {1}")]
    Calibration(ModelKind, String),
    #[error("choose at least one model that is not a baseline (recency, bg_nbd)")]
    NoCandidate,
    #[error("too few customers ({0}) to split into training, validation and test")]
    TooFew(usize),
    #[error("training was cancelled")]
    Cancelled,
}

pub fn train(
    transactions: &Transactions,
    events: Option<&Events>,
    config: &TrainingConfig,
    progress: &dyn Progress,
) -> Result<TrainingOutcome, TrainingError> {
    config.check()?;
    progress.begin("features", 1);
    let customers =
        LabelledCustomers::build(transactions, events, config.cutoff, config.window_days)?;
    progress.advance("computed");
    progress.end();
    let n = customers.churned.len();
    if n < 50 {
        return Err(TrainingError::TooFew(n));
    }
    let split = stratified_split(&customers.churned, config.seed);
    let train = customers.rows(&split.train);
    let validation = customers.rows(&split.validation);
    let test = customers.rows(&split.test);
    let names = &customers.features.names;

    let mut hp = Hyperparameters::defaults(config.seed);
    let mut search = Vec::new();
    if config.search {
        search = search_hyperparameters(&customers, &split.train, config, &mut hp, progress)?;
    }

    progress.begin("models", config.models.len() as u64);
    let mut fitted = Vec::new();
    for &kind in &config.models {
        check_cancelled(progress)?;
        progress.advance(kind.name());
        let started = Instant::now();
        let model = models::fit(
            kind,
            &train.features.values,
            &train.churned,
            names,
            config.window_days,
            &hp,
        )?;
        let fit_seconds = started.elapsed().as_secs_f64();
        let calibrated =
            CalibratedModel::calibrate(model, &validation.features.values, &validation.churned)
                .map_err(|e| TrainingError::Calibration(kind, e.to_string()))?;
        let p_validation = calibrated
            .probabilities(&validation.features.values)
            .to_vec();
        let threshold = best_f1_threshold(&validation.churned, &p_validation);
        let p_test = calibrated.probabilities(&test.features.values).to_vec();
        let result = ModelResult {
            model: kind,
            baseline: kind.is_baseline(),
            fit_seconds,
            validation: evaluate(&validation.churned, &p_validation, threshold),
            test: evaluate(&test.churned, &p_test, threshold),
        };
        fitted.push((calibrated, result, p_validation, p_test));
    }
    progress.end();

    let chosen_index = fitted
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.1.baseline)
        .max_by(|a, b| {
            a.1.1
                .validation
                .roc_auc
                .total_cmp(&b.1.1.validation.roc_auc)
        })
        .map(|(i, _)| i)
        .ok_or(TrainingError::NoCandidate)?;
    let (chosen, chosen_result, chosen_validation, _) = &fitted[chosen_index];
    let kind = chosen_result.model;
    let risk_bands = risk_bands(chosen_validation);

    check_cancelled(progress)?;
    progress.begin("permutation importance", names.len() as u64);
    let importance = permutation_importance(chosen, &validation, config.seed, progress);
    progress.end();

    // Lifetime value is extra: a shop whose customers it cannot be fitted on still gets its
    // churn model, and the summary says why the artifact has no lifetime models.
    check_cancelled(progress)?;
    progress.begin("lifetime models", 1);
    let lifetime = LifetimeModels::fit(&train.features.values, names);
    progress.advance("BG/NBD and Gamma-Gamma");
    progress.end();
    let lifetime_not_fitted = lifetime.as_ref().err().map(ToString::to_string);

    let created_at = Utc::now();
    let version = format!("{}-{}", kind.name(), created_at.format("%Y%m%dT%H%M%SZ"));
    let manifest = TrainingManifest {
        transactions: transactions.manifest().clone(),
        events: events.map(|e| e.manifest().clone()),
        cutoff: config.cutoff,
        window_days: config.window_days,
        customers: n,
        churn_rate: customers.churn_rate(),
        train_customers: split.train.len(),
        validation_customers: split.validation.len(),
        test_customers: split.test.len(),
        seed: config.seed,
        hyperparameters: serde_json::to_value(hp).expect("hyperparameters serialise"),
    };
    let artifact = ModelArtifact {
        format_version: ARTIFACT_FORMAT_VERSION,
        version: version.clone(),
        kind,
        feature_definition_version: FEATURE_DEFINITION_VERSION,
        feature_names: names.clone(),
        model: chosen.clone(),
        training: manifest.clone(),
        metrics: ArtifactMetrics {
            validation: chosen_result.validation,
            test: chosen_result.test,
        },
        risk_bands,
        reference_features: medians(&train.features.values),
        created_at,
        lifetime: lifetime.ok(),
    };
    let summary = TrainingSummary {
        data: manifest,
        chosen: kind,
        chosen_version: version,
        threshold: chosen_result.validation.threshold,
        risk_bands,
        models: fitted.iter().map(|f| f.1.clone()).collect(),
        search,
        permutation_importance: importance,
        lifetime_not_fitted,
    };
    let test_predictions = TestPredictions {
        customer_ids: test.features.customer_ids.clone(),
        churned: test.churned.clone(),
        by_model: fitted
            .into_iter()
            .map(|(_, result, _, p_test)| (result.model, p_test))
            .collect(),
    };
    Ok(TrainingOutcome {
        artifact,
        summary,
        test: test_predictions,
        customers,
        split,
    })
}

/// High risk is the top 20% of validation customers by probability, medium the next 30%.
fn risk_bands(validation_probabilities: &[f64]) -> RiskBands {
    let mut sorted = validation_probabilities.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)];
    RiskBands {
        medium: at(0.5),
        high: at(0.8),
    }
}

fn medians(x: &Array2<f64>) -> Vec<f64> {
    x.axis_iter(Axis(1))
        .map(|column| {
            let mut values = column.to_vec();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        })
        .collect()
}

fn permutation_importance(
    model: &CalibratedModel,
    validation: &LabelledCustomers,
    seed: u64,
    progress: &dyn Progress,
) -> Vec<FeatureImportance> {
    const REPEATS: usize = 3;
    let x = &validation.features.values;
    let baseline = roc_auc(&validation.churned, &model.probabilities(x).to_vec());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut importance: Vec<FeatureImportance> = validation
        .features
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            progress.advance(name);
            let mut drop = 0.0;
            for _ in 0..REPEATS {
                let mut shuffled = x.clone();
                let mut column: Vec<f64> = x.column(j).to_vec();
                column.shuffle(&mut rng);
                shuffled.column_mut(j).assign(&Array1::from(column));
                let auc = roc_auc(
                    &validation.churned,
                    &model.probabilities(&shuffled).to_vec(),
                );
                drop += baseline - auc;
            }
            FeatureImportance {
                feature: name.clone(),
                auc_drop: drop / REPEATS as f64,
            }
        })
        .collect();
    importance.sort_by(|a, b| b.auc_drop.total_cmp(&a.auc_drop));
    importance
}

/// Mean ROC-AUC over `folds` of the training rows for one hyperparameter setting.
fn cross_validated_auc(
    customers: &LabelledCustomers,
    train_rows: &[usize],
    folds: &[Vec<usize>],
    kind: ModelKind,
    hp: &Hyperparameters,
    window_days: u32,
) -> Result<f64, TrainingError> {
    let mut total = 0.0;
    for held_out in folds {
        let fit_rows: Vec<usize> = train_rows
            .iter()
            .copied()
            .filter(|r| held_out.binary_search(r).is_err())
            .collect();
        let fit_part = customers.rows(&fit_rows);
        let held = customers.rows(held_out);
        let model = models::fit(
            kind,
            &fit_part.features.values,
            &fit_part.churned,
            &customers.features.names,
            window_days,
            hp,
        )?;
        let scores = model.raw_scores(&held.features.values).to_vec();
        total += metrics::roc_auc(&held.churned, &scores);
    }
    Ok(total / folds.len() as f64)
}

fn search_hyperparameters(
    customers: &LabelledCustomers,
    train_rows: &[usize],
    config: &TrainingConfig,
    hp: &mut Hyperparameters,
    progress: &dyn Progress,
) -> Result<Vec<SearchTrial>, TrainingError> {
    let folds = stratified_folds(
        &customers.churned,
        train_rows,
        config.folds.max(2),
        config.seed,
    );
    let mut candidates: Vec<(ModelKind, Hyperparameters, serde_json::Value)> = Vec::new();
    if config.models.contains(&ModelKind::Logistic) {
        for l2 in [0.01, 0.1, 1.0, 10.0] {
            let trial = Hyperparameters {
                logistic_l2: l2,
                ..*hp
            };
            candidates.push((ModelKind::Logistic, trial, serde_json::json!({ "l2": l2 })));
        }
    }
    if config.models.contains(&ModelKind::RandomForest) {
        for (max_depth, min_samples_leaf) in [(8, 20), (12, 10), (12, 40), (16, 20)] {
            let forest = ForestParams {
                max_depth,
                min_samples_leaf,
                trees: 100,
                ..hp.random_forest
            };
            let trial = Hyperparameters {
                random_forest: forest,
                ..*hp
            };
            candidates.push((
                ModelKind::RandomForest,
                trial,
                serde_json::to_value(forest).unwrap_or_default(),
            ));
        }
    }
    if config.models.contains(&ModelKind::GradientBoosting) {
        for (max_depth, learning_rate, trees) in [
            (3, 0.1, 150),
            (4, 0.05, 250),
            (5, 0.05, 200),
            (6, 0.03, 300),
        ] {
            let boosting = BoostingParams {
                max_depth,
                learning_rate,
                trees,
                ..hp.gradient_boosting
            };
            let trial = Hyperparameters {
                gradient_boosting: boosting,
                ..*hp
            };
            candidates.push((
                ModelKind::GradientBoosting,
                trial,
                serde_json::to_value(boosting).unwrap_or_default(),
            ));
        }
    }
    progress.begin("hyperparameter search", candidates.len() as u64);
    let mut trials = Vec::with_capacity(candidates.len());
    let mut best: Vec<(ModelKind, f64, Hyperparameters)> = Vec::new();
    for (kind, trial, params) in candidates {
        check_cancelled(progress)?;
        progress.advance(kind.name());
        let auc = cross_validated_auc(
            customers,
            train_rows,
            &folds,
            kind,
            &trial,
            config.window_days,
        )?;
        match best.iter_mut().find(|b| b.0 == kind) {
            Some(b) if b.1 >= auc => {}
            Some(b) => *b = (kind, auc, trial),
            None => best.push((kind, auc, trial)),
        }
        trials.push(SearchTrial {
            model: kind,
            params,
            cv_roc_auc: auc,
        });
    }
    progress.end();
    for (kind, _, trial) in best {
        match kind {
            ModelKind::Logistic => hp.logistic_l2 = trial.logistic_l2,
            // The search uses fewer trees to stay quick; the final forest keeps its full size.
            ModelKind::RandomForest => {
                hp.random_forest = ForestParams {
                    trees: hp.random_forest.trees,
                    ..trial.random_forest
                }
            }
            ModelKind::GradientBoosting => hp.gradient_boosting = trial.gradient_boosting,
            _ => {}
        }
    }
    Ok(trials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_needs_a_model_that_is_not_a_baseline() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut config = TrainingConfig::new(day, 30);
        assert!(config.check().is_ok(), "every model by default");
        config.models = vec![ModelKind::Recency, ModelKind::BgNbd];
        assert!(matches!(config.check(), Err(TrainingError::NoCandidate)));
        config.models = vec![];
        assert!(matches!(config.check(), Err(TrainingError::NoCandidate)));
        config.models = vec![ModelKind::Recency, ModelKind::Logistic];
        assert!(config.check().is_ok());
    }
}
