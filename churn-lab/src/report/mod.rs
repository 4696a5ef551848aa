//! The training report: one self-contained HTML page (inline SVG charts, no scripts, no network)
//! plus every chart as SVG and PNG under `charts/`, all drawn with plotters.
//!
//! Charts: ROC and precision–recall curves of every model, calibration, cumulative gain, permutation
//! importance, churn rate by first-purchase cohort, the cohort retention heatmap, and the top
//! features' distributions for churned versus retained customers.

mod charts;
mod data;
mod page;

pub use data::{FeatureDistribution, ReportData};

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::metrics::{calibration_bins, cumulative_gain, pr_curve, roc_curve};

use charts::*;
use page::page;

pub const REPORT_FILE: &str = "report.html";
pub const PREDICTIONS_FILE: &str = "test_predictions.csv";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {chart}: {message}")]
    Draw {
        chart: &'static str,
        message: String,
    },
    #[error("computing cohorts: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    #[error("{path}: {message}")]
    Predictions { path: PathBuf, message: String },
    #[error(transparent)]
    Artifact(#[from] crate::artifact::ArtifactError),
}

/// One chart of a report, saved twice under `charts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportChart {
    /// The file stem: `roc`, `pr`, `calibration`, …
    pub name: &'static str,
    pub title: &'static str,
    pub svg: PathBuf,
    pub png: PathBuf,
}

/// A written report: the page and its charts, in the page's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub page: PathBuf,
    pub charts: Vec<ReportChart>,
}

/// Writes `report.html` and `charts/` into `dir`.
pub fn write(data: &ReportData, dir: &Path) -> Result<Report, ReportError> {
    register_fonts();
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(|source| ReportError::Io {
        path: charts.clone(),
        source,
    })?;
    let labels = &data.test.churned;
    let chosen = data
        .test
        .by_model
        .iter()
        .position(|(kind, _)| *kind == data.summary.chosen);
    let named = |f: &dyn Fn(&[f64]) -> Points| -> Vec<(String, Points)> {
        data.test
            .by_model
            .iter()
            .map(|(kind, p)| (kind.name().to_owned(), f(p)))
            .collect()
    };
    let roc = Curves {
        name: "roc",
        title: "ROC curves (test customers)",
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        diagonal: true,
        legend: SeriesLabelPosition::LowerRight,
        chosen,
        curves: named(&|p| {
            roc_curve(labels, p)
                .into_iter()
                .map(|r| (r.false_positive_rate, r.true_positive_rate))
                .collect()
        }),
    };
    let pr = Curves {
        name: "pr",
        title: "Precision–recall curves (test customers)",
        x_desc: "recall",
        y_desc: "precision",
        diagonal: false,
        legend: SeriesLabelPosition::LowerLeft,
        chosen,
        curves: named(&|p| {
            pr_curve(labels, p)
                .into_iter()
                .skip(1)
                .map(|r| (r.recall, r.precision))
                .collect()
        }),
    };
    let calibration = Curves {
        name: "calibration",
        title: "Calibration: predicted vs observed churn (test)",
        x_desc: "mean predicted probability",
        y_desc: "observed churn rate",
        diagonal: true,
        legend: SeriesLabelPosition::UpperLeft,
        chosen,
        curves: named(&|p| {
            calibration_bins(labels, p)
                .into_iter()
                .map(|(x, y, _)| (x, y))
                .collect()
        }),
    };
    let gain = Curves {
        name: "cumulative_gain",
        title: "Cumulative gain: churners found in the top k% (test)",
        x_desc: "share of customers contacted (highest risk first)",
        y_desc: "share of churners found",
        diagonal: true,
        legend: SeriesLabelPosition::LowerRight,
        chosen,
        curves: named(&|p| cumulative_gain(labels, p)),
    };
    let mut sections = Vec::new();
    for curves in [&roc, &pr, &calibration, &gain] {
        sections.push(render(curves, curves.name, curves.title, &charts)?);
    }
    let importance = Importance(
        data.summary
            .permutation_importance
            .iter()
            .take(15)
            .map(|f| (f.feature.clone(), f.auc_drop))
            .collect(),
    );
    sections.push(render(
        &importance,
        Importance::NAME,
        Importance::TITLE,
        &charts,
    )?);
    let cohort = CohortChurn(data.cohort_churn.clone());
    sections.push(render(
        &cohort,
        CohortChurn::NAME,
        CohortChurn::TITLE,
        &charts,
    )?);
    let retention = Retention(data.retention.clone());
    sections.push(render(
        &retention,
        Retention::NAME,
        Retention::TITLE,
        &charts,
    )?);
    let distributions = Distributions(data.distributions.clone());
    sections.push(render(
        &distributions,
        Distributions::NAME,
        Distributions::TITLE,
        &charts,
    )?);

    let path = dir.join(REPORT_FILE);
    std::fs::write(&path, page(data, &sections)).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Report {
        page: path,
        charts: sections.into_iter().map(|(chart, _)| chart).collect(),
    })
}
