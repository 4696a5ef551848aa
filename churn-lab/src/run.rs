//! A training run saved as a folder: the model, its metrics, the test predictions and the
//! report — written once, and read back to redraw the report.

use std::path::{Path, PathBuf};

use crate::dataset::{DatasetError, LabelledCustomers};
use crate::report::{self, PREDICTIONS_FILE, Report, ReportData, ReportError};
use crate::training::{TestPredictions, TrainingOutcome, TrainingSummary};
use crate::transactions::{DataManifest, Events, Transactions};

pub const METRICS_FILE: &str = "metrics.json";

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
    let metrics = dir.join(METRICS_FILE);
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

/// A saved run read back: its metrics and test predictions, what its report is drawn from.
#[derive(Debug, Clone)]
pub struct SavedRunRecord {
    pub summary: TrainingSummary,
    pub test: TestPredictions,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadRunError {
    #[error("reading {path}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path}")]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Predictions(#[from] ReportError),
}

#[derive(Debug, thiserror::Error)]
pub enum RedrawError {
    #[error("{given} is not the file this model was trained on ({trained_on}, sha256 {sha256})")]
    NotTrainedOn {
        given: String,
        trained_on: String,
        sha256: String,
    },
    #[error(transparent)]
    Data(#[from] DatasetError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl SavedRunRecord {
    /// Reads `metrics.json` and the test predictions of the run saved in `dir`.
    pub fn read(dir: &Path) -> Result<Self, ReadRunError> {
        let path = dir.join(METRICS_FILE);
        let bytes = std::fs::read(&path).map_err(|source| ReadRunError::Unreadable {
            path: path.clone(),
            source,
        })?;
        let summary = serde_json::from_slice(&bytes)
            .map_err(|source| ReadRunError::Malformed { path, source })?;
        let test = TestPredictions::read_csv(&dir.join(PREDICTIONS_FILE))?;
        Ok(Self { summary, test })
    }

    /// Redraws `report.html` and `charts/` in `dir` from the data the run was trained on,
    /// labelled at the run's own cut-off and window — the very file, when the run recorded its
    /// hash.
    pub fn redraw_report(
        &self,
        dir: &Path,
        transactions: &Transactions,
        events: Option<&Events>,
    ) -> Result<Report, RedrawError> {
        let trained = &self.summary.data;
        check_trained_on(&trained.transactions, transactions.manifest())?;
        let customers =
            LabelledCustomers::build(transactions, events, trained.cutoff, trained.window_days)?;
        let data = ReportData::gather(&self.summary, &self.test, &customers, transactions)?;
        Ok(report::write(&data, dir)?)
    }
}

/// The data given is the data trained on, by hash. A run that recorded no hash (trained from
/// records, not a file) accepts any data.
fn check_trained_on(trained: &DataManifest, given: &DataManifest) -> Result<(), RedrawError> {
    match trained.sha256.as_deref() {
        Some(sha256) if given.sha256.as_deref() != Some(sha256) => Err(RedrawError::NotTrainedOn {
            given: given.source.clone(),
            trained_on: trained.source.clone(),
            sha256: sha256.to_owned(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(source: &str, sha256: Option<&str>) -> DataManifest {
        DataManifest {
            source: source.into(),
            sha256: sha256.map(Into::into),
            rows: 1,
            customers: 1,
            first_at: None,
            last_at: None,
        }
    }

    #[test]
    fn a_report_is_redrawn_only_from_the_file_the_run_was_trained_on() {
        let trained = manifest("cdnow.csv", Some("abc"));
        assert!(check_trained_on(&trained, &manifest("copy.csv", Some("abc"))).is_ok());
        let refused = check_trained_on(&trained, &manifest("other.csv", Some("def")));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "other.csv is not the file this model was trained on (cdnow.csv, sha256 abc)"
        );
        assert!(check_trained_on(&trained, &manifest("records", None)).is_err());
        let from_records = manifest("storefront-api", None);
        assert!(check_trained_on(&from_records, &manifest("any.csv", Some("def"))).is_ok());
    }

    #[test]
    fn reading_a_run_names_the_metrics_file_it_cannot_use() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SavedRunRecord::read(dir.path()).unwrap_err();
        assert!(
            matches!(missing, ReadRunError::Unreadable { .. }),
            "{missing}"
        );
        std::fs::write(dir.path().join(METRICS_FILE), "{").unwrap();
        let malformed = SavedRunRecord::read(dir.path()).unwrap_err();
        assert!(matches!(malformed, ReadRunError::Malformed { .. }));
        assert!(malformed.to_string().ends_with(METRICS_FILE), "{malformed}");
    }
}
