//! A training run saved as a folder: the model, its metrics, the test predictions and the
//! report.

use std::path::{Path, PathBuf};

use crate::report::{self, PREDICTIONS_FILE, Report, ReportData, ReportError};
use crate::training::TrainingOutcome;
use crate::transactions::Transactions;

/// Where a saved training run's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRun {
    pub model: PathBuf,
    pub metrics: PathBuf,
    pub report: Report,
}

/// Saves a training run into `dir` (made if missing): `model.json`, `metrics.json`, the test
/// predictions and `report.html` with its charts. `churn-lab train --out` and the staff
/// console both save runs with this.
pub fn save_run(
    outcome: &TrainingOutcome,
    transactions: &Transactions,
    dir: &Path,
) -> Result<SavedRun, ReportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let model = outcome.artifact.save(dir)?;
    let metrics = dir.join("metrics.json");
    let body = serde_json::to_vec_pretty(&outcome.summary).map_err(|e| ReportError::Io {
        path: metrics.clone(),
        source: e.into(),
    })?;
    std::fs::write(&metrics, body).map_err(io(&metrics))?;
    outcome.test.write_csv(&dir.join(PREDICTIONS_FILE))?;
    let data = ReportData::gather(
        &outcome.summary,
        &outcome.test,
        &outcome.customers,
        transactions,
    )?;
    let report = report::write(&data, dir)?;
    Ok(SavedRun {
        model,
        metrics,
        report,
    })
}
