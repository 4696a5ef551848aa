//! The churn screen: run the analysis on the shop's current data (churn-lab as a library, on
//! the API's churn dataset — no database connection), compare the models, deploy the chosen
//! one and activate it, see the model history and roll back, score every customer.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use chrono::{Duration, NaiveDate, Utc};
use churn_lab::ModelArtifact;
use churn_lab::models::ModelKind;
use churn_lab::run::save_run;
use churn_lab::shop::{event_from_wire, transaction_from_wire};
use churn_lab::training::{self, Progress, TrainingConfig, TrainingError, TrainingSummary};
use churn_lab::transactions::{Events, Transaction, Transactions};
use serde::{Deserialize, Serialize};
use storefront_client::staff::churn::{JobEnvelope, ModelList, RegisteredModel};
use uuid::Uuid;

use crate::{Console, ConsoleError};

/// How to train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingOptions {
    /// A customer has churned when they order nothing for this many days after the cut-off.
    pub window_days: u32,
    /// The cut-off; by default the last order day minus the window, so every label is known.
    pub cutoff: Option<NaiveDate>,
    /// Cross-validated hyperparameter search (slower, usually a little better).
    pub search: bool,
    /// Which models to fit; all of them by default (baselines included, for comparison).
    pub models: Option<Vec<ModelKind>>,
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

/// A finished training run: what the churn screen shows, and the model ready to deploy.
#[derive(Debug, Clone, Serialize)]
pub struct TrainedRun {
    /// The folder holding `model.json`, `metrics.json` and `report.html` with its charts.
    pub dir: PathBuf,
    pub report: PathBuf,
    pub summary: TrainingSummary,
    /// The report's charts, in its order, for the window to show.
    pub charts: Vec<RunChart>,
    #[serde(skip)]
    pub(crate) artifact: ModelArtifact,
}

/// One chart of a run's report, as SVG text (drawn by churn-lab from our own data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunChart {
    pub name: String,
    pub title: String,
    pub svg: String,
}

impl TrainedRun {
    /// The version the chosen model will have in the registry.
    pub fn version(&self) -> &str {
        &self.artifact.version
    }
}

impl Console {
    /// Trains every model on the shop's data as the API exports it and keeps the run for
    /// [`Console::deploy_last_run`]. The work runs on a blocking thread: the caller's
    /// runtime (and the window) stays responsive; `progress` hears every step and can cancel.
    pub async fn train(
        &self,
        options: TrainingOptions,
        progress: Arc<dyn Progress + Send>,
    ) -> Result<TrainedRun, ConsoleError> {
        if !(7..=730).contains(&options.window_days) {
            return Err(ConsoleError::invalid(
                "window_days",
                "must be between 7 and 730 days",
            ));
        }
        progress.begin("downloading the shop's orders and events", 1);
        let (_, address) = self.api()?;
        let dataset = self
            .call(|api| async move { api.churn_dataset().await })
            .await?;
        progress.advance("downloaded");
        progress.end();
        if progress.cancelled() {
            return Err(ConsoleError::Cancelled);
        }
        let source = format!("storefront-api {address} at {}", dataset.exported_at);
        let records: Vec<Transaction> = dataset
            .transactions
            .iter()
            .filter_map(transaction_from_wire)
            .collect();
        let events: Vec<_> = dataset.events.iter().map(event_from_wire).collect();
        let run_dir = self
            .runs_dir()
            .join(Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string());
        let outcome = tokio::task::spawn_blocking(move || {
            let transactions = Transactions::from_records(&records).with_source(source.clone());
            let events =
                (!events.is_empty()).then(|| Events::from_records(&events).with_source(source));
            let last_day = transactions
                .last_date()
                .ok_or_else(|| ConsoleError::Failed("The shop has no orders yet.".into()))?;
            let cutoff = options
                .cutoff
                .unwrap_or_else(|| last_day - Duration::days(i64::from(options.window_days)));
            let mut config = TrainingConfig::new(cutoff, options.window_days);
            config.search = options.search;
            if let Some(models) = options.models {
                config.models = models;
            }
            let outcome = training::train(&transactions, events.as_ref(), &config, &*progress)
                .map_err(|error| match error {
                    TrainingError::Cancelled => ConsoleError::Cancelled,
                    other => ConsoleError::Failed(format!("Training failed: {other}")),
                })?;
            let saved_failed = |e: &dyn std::fmt::Display| {
                ConsoleError::Failed(format!("Saving the training run failed: {e}"))
            };
            let saved =
                save_run(&outcome, &transactions, &run_dir).map_err(|e| saved_failed(&e))?;
            let charts = saved
                .report
                .charts
                .iter()
                .map(|chart| {
                    Ok(RunChart {
                        name: chart.name.to_owned(),
                        title: chart.title.to_owned(),
                        svg: std::fs::read_to_string(&chart.svg).map_err(|e| saved_failed(&e))?,
                    })
                })
                .collect::<Result<_, ConsoleError>>()?;
            Ok::<_, ConsoleError>(TrainedRun {
                dir: run_dir,
                report: saved.report.page,
                summary: outcome.summary,
                charts,
                artifact: outcome.artifact,
            })
        })
        .await
        .map_err(|e| ConsoleError::Failed(format!("Training stopped unexpectedly: {e}")))??;
        *self.last_run.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome.clone());
        Ok(outcome)
    }

    /// The last training run of this console, if any.
    pub fn last_run(&self) -> Option<TrainedRun> {
        self.last_run
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Uploads the last run's chosen model to the API's registry (a version it already holds
    /// is fine) and, with `activate`, makes every API instance score with it.
    pub async fn deploy_last_run(&self, activate: bool) -> Result<RegisteredModel, ConsoleError> {
        let run = self
            .last_run()
            .ok_or_else(|| ConsoleError::invalid("model", "train a model first"))?;
        let version = run.artifact.version.clone();
        let body = run.artifact.to_json();
        let uploaded = self
            .call(|api| async move { api.upload_model(body).await })
            .await;
        let model = match uploaded {
            Ok(model) => model,
            Err(error) if error.code() == Some("version_exists") => self
                .models()
                .await?
                .models
                .into_iter()
                .find(|m| m.version == version)
                .ok_or(error)?,
            Err(error) => return Err(error),
        };
        if activate {
            self.activate_model(&version).await
        } else {
            Ok(model)
        }
    }

    /// The registry: every uploaded model with its metrics; `meta.active` is in use.
    pub async fn models(&self) -> Result<ModelList, ConsoleError> {
        self.call(|api| async move { api.churn_models().await })
            .await
    }

    pub async fn activate_model(&self, version: &str) -> Result<RegisteredModel, ConsoleError> {
        let version = version.to_owned();
        self.call(|api| async move { api.activate_model(&version).await })
            .await
    }

    /// Back to the model active before the latest activation.
    pub async fn roll_back_model(&self) -> Result<RegisteredModel, ConsoleError> {
        self.call(|api| async move { api.roll_back_model().await })
            .await
    }

    /// Starts scoring every customer with the active model; follow it with
    /// [`Console::score_job`].
    pub async fn score_all(&self) -> Result<JobEnvelope, ConsoleError> {
        self.call(|api| async move { api.start_score_all().await })
            .await
    }

    pub async fn score_job(&self, id: Uuid) -> Result<JobEnvelope, ConsoleError> {
        self.call(|api| async move { api.score_job(id).await })
            .await
    }
}
