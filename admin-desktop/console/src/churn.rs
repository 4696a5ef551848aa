//! The churn screen: run the analysis on the shop's current data (churn-lab as a library, on
//! the API's churn dataset — no database connection), compare the models, deploy the chosen
//! one and activate it, see the model history and roll back, score every customer, and see
//! the whole-shop scoring runs with the schedule.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{Duration, Utc};
use churn_lab::ModelArtifact;
use churn_lab::models::ModelKind;
use churn_lab::run::save_run;
use churn_lab::shop::{event_from_wire, transaction_from_wire};
use churn_lab::training::{self, Progress, TrainingConfig, TrainingError, TrainingSummary};
use churn_lab::transactions::{Events, Transaction, Transactions};
use storefront_client::staff::campaigns::ScoringRunList;
use storefront_client::staff::churn::{JobEnvelope, ModelList, RegisteredModel};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::churn::{RunChart, TrainedRunView, TrainingOptions, TrainingStep};

/// A finished training run: what the churn screen shows, and the model ready to deploy.
#[derive(Debug, Clone)]
pub struct TrainedRun {
    /// The folder holding `model.json`, `metrics.json` and `report.html` with its charts.
    pub dir: PathBuf,
    pub report: PathBuf,
    pub summary: TrainingSummary,
    /// The report's charts, in its order, for the window to show.
    pub charts: Vec<RunChart>,
    pub(crate) artifact: ModelArtifact,
}

impl TrainedRun {
    /// The version the chosen model will have in the registry.
    pub fn version(&self) -> &str {
        &self.artifact.version
    }

    /// The run as the window shows it.
    pub fn view(&self) -> Result<TrainedRunView, ConsoleError> {
        let summary = serde_json::to_value(&self.summary)
            .map_err(|e| ConsoleError::Failed(format!("cannot show the run's summary: {e}")))?;
        Ok(TrainedRunView {
            dir: self.dir.clone(),
            report: self.report.clone(),
            summary,
            charts: self.charts.clone(),
        })
    }
}

/// The models named in the options, by churn-lab's names.
fn model_kinds(names: &[String]) -> Result<Vec<ModelKind>, ConsoleError> {
    names
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|message| ConsoleError::invalid("models", message))
        })
        .collect()
}

/// The console's one training run at a time, and the flag that stops it.
#[derive(Default)]
pub(crate) struct TrainingSlot {
    running: AtomicBool,
    cancel: Arc<AtomicBool>,
}

/// churn-lab's progress as [`TrainingStep`]s for `report`; cancelled by the slot's flag.
struct StepReporter {
    report: Arc<dyn Fn(&TrainingStep) + Send + Sync>,
    cancel: Arc<AtomicBool>,
    current: Mutex<TrainingStep>,
}

impl StepReporter {
    fn send(&self, update: impl FnOnce(&mut TrainingStep)) {
        let step = {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            update(&mut current);
            current.clone()
        };
        (self.report)(&step);
    }
}

impl Progress for StepReporter {
    fn begin(&self, task: &str, steps: u64) {
        self.send(|step| {
            *step = TrainingStep {
                task: task.to_owned(),
                steps,
                done: 0,
                message: String::new(),
            }
        });
    }

    fn advance(&self, message: &str) {
        self.send(|step| {
            step.done += 1;
            step.message = message.to_owned();
        });
    }

    fn end(&self) {
        self.send(|step| step.done = step.steps);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// Frees the slot however the run ends (a panic or a dropped future included).
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Console {
    /// Trains as [`Console::train`] does, each step told to `report`; one run at a time, and
    /// [`Console::cancel_training`] stops it.
    pub async fn train_reporting(
        &self,
        options: TrainingOptions,
        report: Arc<dyn Fn(&TrainingStep) + Send + Sync>,
    ) -> Result<TrainedRun, ConsoleError> {
        let slot = &self.training;
        if slot.running.swap(true, Ordering::SeqCst) {
            return Err(ConsoleError::invalid(
                "training",
                "a training run is already going",
            ));
        }
        let _running = Running(&slot.running);
        slot.cancel.store(false, Ordering::SeqCst);
        let reporter = Arc::new(StepReporter {
            report,
            cancel: slot.cancel.clone(),
            current: Mutex::new(TrainingStep::default()),
        });
        self.train(options, reporter).await
    }

    /// Stops the running training at its next step (nothing happens when none runs).
    pub fn cancel_training(&self) {
        self.training.cancel.store(true, Ordering::SeqCst);
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
        let models = options.models.as_deref().map(model_kinds).transpose()?;
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
            if let Some(models) = models {
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

    /// The latest whole-shop scoring runs, newest first — staff's (a score-all job is one, by
    /// its id) and the schedule's, with how each ended — and the schedule.
    pub async fn scoring_runs(&self) -> Result<ScoringRunList, ConsoleError> {
        self.call(|api| async move { api.scoring_runs().await })
            .await
    }
}
