//! Training runs as the churn screen sees them.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How to train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingOptions {
    /// A customer has churned when they order nothing for this many days after the cut-off.
    pub window_days: u32,
    /// The cut-off; by default the last order day minus the window, so every label is known.
    pub cutoff: Option<NaiveDate>,
    /// Cross-validated hyperparameter search (slower, usually a little better).
    pub search: bool,
    /// Which models to fit, by churn-lab's names (`logistic`, `random_forest`, …); all of
    /// them by default (baselines included, for comparison).
    pub models: Option<Vec<String>>,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            window_days: 90,
            cutoff: None,
            search: false,
            models: None,
        }
    }
}

/// A finished training run as the churn screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedRunView {
    /// The folder holding `model.json`, `metrics.json` and `report.html` with its charts.
    pub dir: PathBuf,
    pub report: PathBuf,
    /// churn-lab's `metrics.json`, shown as it wrote it (the window does not compile
    /// churn-lab).
    pub summary: serde_json::Value,
    /// The report's charts, in its order.
    pub charts: Vec<RunChart>,
}

/// One chart of a run's report, as SVG text (drawn by churn-lab from our own data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunChart {
    pub name: String,
    pub title: String,
    pub svg: String,
}

/// One step of a running training, sent as the `training-progress` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingStep {
    pub task: String,
    pub steps: u64,
    pub done: u64,
    pub message: String,
}
