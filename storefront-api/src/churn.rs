//! Churn scoring in the API: the active model, swapped without a restart; how an activation
//! reaches every instance (Redis pub/sub); scoring one customer; and score-all jobs whose
//! progress any instance can read (Redis hashes).
//!
//! Scoring uses churn-lab's own feature definition on the customer's orders (PostgreSQL) and
//! behaviour events (MongoDB), so the API scores exactly as the analyst's `score` would.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use churn_lab::FEATURE_DEFINITION_VERSION;
use churn_lab::ModelArtifact;
use churn_lab::lifetime::{Lifetime, NextOrder};
use churn_lab::scoring::{self, CustomerChurn};
use futures::StreamExt;
use secrecy::ExposeSecret;
use storefront_client::staff::churn::{
    CustomerChurn as ChurnReport, Driver, LifetimeValue, RegisteredModel,
};
use uuid::Uuid;

use crate::{
    domain::{account::Role, money::Currency},
    error::ApiError,
    state::AppState,
    storage::{
        self, audit, model_activations,
        score_jobs::{JobUpdate, Jobs},
        scoring_runs::{RunCounts, Trigger},
    },
};
use storefront_client::lists::CountMeta;
use storefront_client::staff::campaigns::{ScoringRun, ScoringRunList, ScoringSchedule};
pub use storefront_client::staff::churn::ScoreJob;

/// The model requests score with. A request takes the `Arc` once and finishes on it even if
/// another model is activated meanwhile.
#[derive(Default)]
pub struct ChurnModels {
    active: RwLock<Option<Arc<ModelArtifact>>>,
    /// Serialises reloads so an older activation can never land after a newer one.
    sync: tokio::sync::Mutex<()>,
}

impl ChurnModels {
    pub fn current(&self) -> Option<Arc<ModelArtifact>> {
        self.active.read().map(|m| m.clone()).unwrap_or_default()
    }

    fn set(&self, model: Option<Arc<ModelArtifact>>) {
        if let Ok(mut active) = self.active.write() {
            *active = model;
        }
    }
}

/// Makes the model in memory the registry's active one (no-op when it already is).
pub async fn sync_active(state: &AppState) -> anyhow::Result<()> {
    let _one_at_a_time = state.churn.sync.lock().await;
    let version = storage::churn::active_version(&state.mongo).await?;
    let current = state.churn.current();
    if current.as_ref().map(|a| &a.version) == version.as_ref() {
        return Ok(());
    }
    let Some(version) = version else {
        state.churn.set(None);
        return Ok(());
    };
    let bytes = storage::churn::artifact_bytes(&state.mongo, &version)
        .await?
        .with_context(|| format!("model {version} is active but its artifact is missing"))?;
    let artifact = tokio::task::spawn_blocking(move || ModelArtifact::from_json(&bytes)).await??;
    tracing::info!(version = %artifact.version, "churn model activated");
    state.churn.set(Some(Arc::new(artifact)));
    Ok(())
}

/// Tells every instance (this one included) that the active model changed.
pub async fn announce(state: &AppState, version: &str) -> Result<(), ApiError> {
    model_activations::announce(&state.redis, &state.settings.redis.key_prefix, version).await?;
    Ok(())
}

/// Follows activations for the life of the process: subscribes, catches up with the registry
/// (covering anything missed while disconnected), then reloads on every message.
pub fn spawn_listener(state: AppState) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = listen(&state).await {
                tracing::warn!(%error, "churn model listener reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(state: &AppState) -> anyhow::Result<()> {
    let messages = model_activations::subscribe(
        state.settings.redis.url.expose_secret(),
        &state.settings.redis.key_prefix,
    )
    .await?;
    if let Err(error) = sync_active(state).await {
        tracing::warn!(%error, "could not load the active churn model");
    }
    let mut messages = std::pin::pin!(messages);
    while messages.next().await.is_some() {
        if let Err(error) = sync_active(state).await {
            tracing::warn!(%error, "could not load the active churn model");
        }
    }
    anyhow::bail!("subscription closed")
}

/// Registers a checked artifact in the registry (not active yet), with its audit record.
/// 409 `version_exists` for a version the registry holds.
pub async fn register_model(
    state: &AppState,
    artifact: &ModelArtifact,
    bytes: &[u8],
    actor_id: Uuid,
) -> Result<RegisteredModel, ApiError> {
    let model = storage::churn::register(&state.mongo, artifact, bytes, actor_id)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "version_exists",
                format!("model {} is already registered", artifact.version),
            )
        })?;
    audit::record_alone(
        &state.db,
        actor_id,
        "churn_model.upload",
        audit::Entity::ChurnModel,
        model.id,
        serde_json::Value::Null,
        serde_json::json!({ "version": model.version, "kind": model.kind, "metrics": model.metrics }),
    )
    .await?;
    Ok(model)
}

/// Makes a registered version the active model now, on every API instance, without a
/// restart; requests already scoring finish with the model they started with.
pub async fn activate_model(
    state: &AppState,
    version: &str,
    actor_id: Uuid,
) -> Result<RegisteredModel, ApiError> {
    let before = storage::churn::active_version(&state.mongo).await?;
    let model = storage::churn::find(&state.mongo, version)
        .await?
        .ok_or(ApiError::NotFound("churn model"))?;
    if model.feature_definition_version != FEATURE_DEFINITION_VERSION {
        return Err(ApiError::conflict(
            "incompatible_model",
            format!(
                "model {version} uses feature definition {}; this server computes {FEATURE_DEFINITION_VERSION}",
                model.feature_definition_version
            ),
        ));
    }
    storage::churn::activate(&state.mongo, version, actor_id).await?;
    switch_everywhere(state, version).await?;
    audit::record_alone(
        &state.db,
        actor_id,
        "churn_model.activate",
        audit::Entity::ChurnModel,
        model.id,
        serde_json::json!({ "active": before }),
        serde_json::json!({ "active": version }),
    )
    .await?;
    Ok(RegisteredModel {
        active: true,
        ..model
    })
}

/// Loads the new model here before answering, then tells the other instances.
pub async fn switch_everywhere(state: &AppState, version: &str) -> Result<(), ApiError> {
    sync_active(state)
        .await
        .map_err(|e| ApiError::unavailable(format!("loading model {version}: {e}")))?;
    announce(state, version).await
}

fn no_model() -> ApiError {
    ApiError::conflict(
        "no_active_model",
        "No churn model is active yet: train one on the console's Churn screen and deploy it \
         (churn-lab's `deploy` does the same from an analyst's machine).",
    )
}

fn active(state: &AppState) -> Result<Arc<ModelArtifact>, ApiError> {
    state.churn.current().ok_or_else(no_model)
}

/// Features see everything up to the end of today (UTC).
fn as_of_now() -> NaiveDate {
    Utc::now().date_naive() + chrono::Days::new(1)
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("churn scoring: {error}"))
}

/// One customer's churn as staff read it: the probability, the band and the five features
/// pushing it up most, or why the customer cannot be scored yet.
pub async fn explain_customer(
    state: &AppState,
    customer_id: Uuid,
) -> Result<ChurnReport, ApiError> {
    let customer = storage::accounts::account(&state.db, customer_id).await?;
    if customer.role != Role::Customer {
        return Err(ApiError::NotFound("customer"));
    }
    let (model, churn) = score_customer(state, customer_id).await?;
    let scored_at = Utc::now();
    Ok(match churn {
        None => ChurnReport {
            customer_id,
            scorable: false,
            reason: Some(
                "The customer has no paid order yet, so there is no history to score.".into(),
            ),
            probability: None,
            risk_band: None,
            model_version: model.version.clone(),
            scored_at,
            drivers: Vec::new(),
            features: BTreeMap::new(),
            lifetime: None,
        },
        Some(churn) => ChurnReport {
            customer_id,
            scorable: true,
            reason: None,
            probability: Some(churn.score.churn_probability),
            risk_band: Some(churn.score.band.as_str().to_owned()),
            model_version: model.version.clone(),
            scored_at,
            drivers: churn
                .drivers
                .into_iter()
                .take(5)
                .map(|d| Driver {
                    feature: d.feature,
                    value: d.value,
                    typical: d.typical,
                    effect: d.effect,
                    description: d.description,
                })
                .collect(),
            lifetime: match &churn.score.lifetime {
                Some(lifetime) => Some(lifetime_value(
                    lifetime,
                    storage::churn::spending_currency(&state.db, customer_id).await?,
                )),
                None => None,
            },
            features: churn.features.into_iter().collect(),
        },
    })
}

/// Scores one customer now; `None` when they have no paid order (not scorable).
pub async fn score_customer(
    state: &AppState,
    customer: Uuid,
) -> Result<(Arc<ModelArtifact>, Option<CustomerChurn>), ApiError> {
    let model = active(state)?;
    let transactions = storage::churn::transactions(&state.db, Some(customer)).await?;
    let events = if model.uses_events() && !transactions.is_empty() {
        storage::churn::events(&state.mongo, Some(customer)).await?
    } else {
        Vec::new()
    };
    let scoring_model = model.clone();
    let churn = tokio::task::spawn_blocking(move || {
        scoring::score_customer(&scoring_model, &transactions, &events, as_of_now())
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok((model, churn))
}

/// churn-lab's amounts are major units of two decimals (its `shop` mapping divides by 100).
fn minor_units(major: f64) -> i64 {
    (major * 100.0).round() as i64
}

/// A lifetime prediction as staff read it, in the currency the customer buys in.
fn lifetime_value(lifetime: &Lifetime, currency: Option<Currency>) -> LifetimeValue {
    match lifetime {
        Lifetime::NotEnoughHistory { reason } => LifetimeValue::NotEnoughHistory {
            reason: reason.as_str().to_owned(),
            message: format!("Not enough history for a prediction: {reason}."),
        },
        Lifetime::Predicted {
            expected_orders_365,
            expected_order_value,
            value_365,
            order_chance_365,
            next_order,
        } => LifetimeValue::Predicted {
            expected_orders_365: *expected_orders_365,
            expected_order_value_minor: minor_units(*expected_order_value),
            predicted_value_365_minor: minor_units(*value_365),
            currency,
            order_chance_365: *order_chance_365,
            next_order_expected_on: match next_order {
                NextOrder::ExpectedBy { date, .. } => Some(*date),
                NextOrder::NotExpected => None,
            },
        },
    }
}

fn jobs(state: &AppState) -> Jobs<'_> {
    Jobs {
        redis: &state.redis,
        key_prefix: &state.settings.redis.key_prefix,
    }
}

pub async fn job(state: &AppState, id: Uuid) -> Result<Option<ScoreJob>, ApiError> {
    Ok(jobs(state).get(id).await?)
}

/// Starts scoring every customer with the active model in the background (staff asked).
pub async fn start_score_all(state: &AppState) -> Result<ScoreJob, ApiError> {
    let model = active(state)?;
    let id = Uuid::now_v7();
    storage::scoring_runs::start(&state.db, id, Trigger::Staff, &model.version).await?;
    track(state, id, &model).await?;
    let background = state.clone();
    tokio::spawn(async move {
        // The outcome is logged and recorded with the run.
        let _ = score_all(&background, id, model).await;
    });
    job(state, id)
        .await?
        .ok_or_else(|| internal("the job vanished as it started"))
}

/// Starts following a run's progress in Redis, where any instance answers for it.
async fn track(state: &AppState, id: Uuid, model: &ModelArtifact) -> Result<(), ApiError> {
    let started = JobUpdate::Started {
        model_version: &model.version,
        at: Utc::now(),
    };
    jobs(state).update(id, started).await?;
    Ok(())
}

/// Every instance runs the schedule; the claim in PostgreSQL makes each due run happen on
/// one of them. Without an active model there is nothing to score.
pub fn spawn_schedule(state: AppState) {
    let every = Duration::from_secs(state.settings.scoring.check_interval_secs.max(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = scheduled_run(&state).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "scheduled scoring not started"
                );
            }
        }
    });
}

/// Scores every customer when a scheduled run is due and this instance claims it; the run's
/// id, or `None` when nothing was due (or another instance took it).
pub async fn scheduled_run(state: &AppState) -> anyhow::Result<Option<Uuid>> {
    let Some(model) = state.churn.current() else {
        return Ok(None);
    };
    let settings = &state.settings.scoring;
    let id = Uuid::now_v7();
    let claimed = storage::scoring_runs::claim_scheduled(
        &state.db,
        id,
        &model.version,
        settings.every_hours,
        settings.stale_after_hours,
    )
    .await?;
    if !claimed {
        return Ok(None);
    }
    if let Err(error) = track(state, id, &model).await {
        tracing::warn!(%error, run = %id, "scheduled run's progress not tracked");
    }
    // The outcome is logged and recorded with the run.
    let _ = score_all(state, id, model).await;
    Ok(Some(id))
}

/// The latest whole-shop scoring runs, newest first, and the schedule with when it next runs.
pub async fn scoring_runs(state: &AppState) -> Result<ScoringRunList, ApiError> {
    let runs = storage::scoring_runs::recent(&state.db, 20).await?;
    let scoring = state.settings.scoring;
    let next_due_at = if scoring.schedule_enabled && state.churn.current().is_some() {
        Some(storage::scoring_runs::next_due(&state.db, scoring.every_hours).await?)
    } else {
        None
    };
    Ok(ScoringRunList {
        meta: CountMeta::of(&runs),
        runs,
        schedule: ScoringSchedule {
            enabled: scoring.schedule_enabled,
            every_hours: scoring.every_hours,
            next_due_at,
        },
    })
}

/// Scores every customer with the active model now and returns when the run has ended, with
/// how many were scored and enrolled (the demo's first scoring; staff's runs go in the
/// background).
pub async fn score_all_now(state: &AppState) -> anyhow::Result<(Uuid, usize, u64)> {
    let model = active(state).map_err(|_| anyhow::anyhow!("no churn model is active"))?;
    let id = Uuid::now_v7();
    storage::scoring_runs::start(&state.db, id, Trigger::Staff, &model.version).await?;
    track(state, id, &model).await?;
    let counts = score_all(state, id, model).await?;
    Ok((id, counts.customers, counts.enrolled))
}

/// Runs a whole-shop scoring to its end and records how it went, in Redis and PostgreSQL.
async fn score_all(
    state: &AppState,
    id: Uuid,
    model: Arc<ModelArtifact>,
) -> anyhow::Result<RunCounts> {
    let outcome = run_score_all(state, id, model).await;
    if let Err(error) = &outcome {
        tracing::error!(error = format!("{error:#}"), job = %id, "score-all job failed");
    }
    let error = outcome.as_ref().err().map(|error| format!("{error:#}"));
    // The run first: a client that sees the job finished may launch a campaign on it at once.
    let recorded = match &outcome {
        Ok(counts) => Ok(*counts),
        Err(_) => Err(error.as_deref().unwrap_or("failed")),
    };
    if let Err(error) = storage::scoring_runs::finish(&state.db, id, recorded).await {
        tracing::error!(%error, job = %id, "could not record the end of a scoring run");
    }
    let finished = JobUpdate::Finished {
        at: Utc::now(),
        error: error.clone(),
    };
    if let Err(error) = jobs(state).update(id, finished).await {
        tracing::error!(%error, job = %id, "could not record the end of a score-all job");
    }
    outcome
}

/// Scores every customer, stores the scores, then lets automatic campaigns enrol who newly
/// qualifies. Returns how many were scored, per risk band, and enrolled.
async fn run_score_all(
    state: &AppState,
    id: Uuid,
    model: Arc<ModelArtifact>,
) -> anyhow::Result<RunCounts> {
    let transactions = storage::churn::transactions(&state.db, None).await?;
    let events = if model.uses_events() {
        storage::churn::events(&state.batch_mongo, None).await?
    } else {
        Vec::new()
    };
    let scoring_model = model.clone();
    let scores = tokio::task::spawn_blocking(move || {
        let transactions = churn_lab::Transactions::from_records(&transactions);
        let events = churn_lab::Events::from_records(&events);
        scoring::score(&scoring_model, &transactions, Some(&events), as_of_now())
    })
    .await??;
    jobs(state)
        .update(id, JobUpdate::Total(scores.len()))
        .await?;
    let stored: Vec<storage::churn::StoredScore> = scores.into_iter().map(stored_score).collect();
    for batch in stored.chunks(1000) {
        storage::churn::insert_scores(&state.batch_mongo, id, &model.version, batch).await?;
        jobs(state).add_done(id, batch.len()).await?;
    }
    storage::churn::drop_scores_of_other_jobs(&state.batch_mongo, id).await?;
    let scored: Vec<_> = stored
        .iter()
        .filter_map(storage::churn::StoredScore::scored)
        .collect();
    let enrolled = storage::campaigns::enrol_automatic(&state.db, &scored, id).await?;
    let mut counts = RunCounts {
        customers: stored.len(),
        enrolled,
        ..RunCounts::default()
    };
    for score in &stored {
        counts.count_band(score.band);
    }
    Ok(counts)
}

/// A score as it is stored and campaigns read it.
pub fn stored_score(score: churn_lab::scoring::CustomerScore) -> storage::churn::StoredScore {
    storage::churn::StoredScore {
        predicted_value_minor: match &score.lifetime {
            Some(Lifetime::Predicted { value_365, .. }) => Some(minor_units(*value_365)),
            _ => None,
        },
        customer_id: score.customer_id,
        probability: score.churn_probability,
        band: score.band.as_str(),
    }
}

/// The scores of the latest finished whole-shop run, with the run: what a campaign launches
/// on. 409 `no_scores` before any run finished.
pub async fn latest_scores(
    state: &AppState,
) -> Result<(ScoringRun, Vec<storage::campaigns::ScoredCustomer>), ApiError> {
    let run = storage::scoring_runs::latest_finished(&state.db)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "no_scores",
                "No customer has been scored yet: score every customer first (the console's \
                 Churn screen, Score all); the schedule does it every day.",
            )
        })?;
    let scores = storage::churn::scores_of_job(&state.mongo, run.id).await?;
    Ok((run, scores))
}

/// The shop's history as churn-lab trains on it (`ChurnDataset`'s JSON), streamed: see
/// [`dataset_stream`]. MongoDB down is a 503 naming it, before the answer starts; the events
/// are read through the batch client, whose monitor waits out a server busy handing them over.
pub async fn dataset(
    state: &AppState,
) -> Result<
    impl futures::Stream<Item = std::io::Result<axum::body::Bytes>> + Send + 'static + use<>,
    ApiError,
> {
    let exported_at = Utc::now();
    storage::health::ping_mongo(&state.mongo).await?;
    let transactions = storage::churn::transactions(&state.db, None).await?;
    let mongo = state.batch_mongo.clone();
    let events = async move { storage::churn::event_stream(&mongo, None).await };
    dataset_stream(exported_at, &transactions, events)
}

/// Events per chunk of the streamed dataset: big enough that chunk overhead is nothing,
/// small enough that the first bytes leave at once.
const DATASET_CHUNK: usize = 2_000;

/// The churn dataset (`ChurnDataset`'s JSON) as a stream of bytes: the orders first, whole,
/// then the events as MongoDB hands them over (`events` opens the cursor once the orders are
/// on their way), a chunk at a time — so the answer starts at once and no instance holds
/// hundreds of thousands of events in memory. A failure half-way
/// ends the stream with an error, which truncates the JSON: a client never mistakes a cut
/// export for a complete one.
pub fn dataset_stream<Events, OpenEvents>(
    exported_at: chrono::DateTime<Utc>,
    transactions: &[churn_lab::transactions::Transaction],
    events: OpenEvents,
) -> Result<
    impl futures::Stream<Item = std::io::Result<axum::body::Bytes>>
    + Send
    + 'static
    + use<Events, OpenEvents>,
    ApiError,
>
where
    Events: futures::Stream<Item = mongodb::error::Result<churn_lab::transactions::Event>>
        + Send
        + 'static,
    OpenEvents: Future<Output = mongodb::error::Result<Events>> + Send + 'static,
{
    use futures::{TryStreamExt, stream};
    let transactions: Vec<_> = transactions
        .iter()
        .map(churn_lab::shop::transaction_to_wire)
        .collect();
    let mut head = format!(
        "{{\"exported_at\":{},\"transactions\":",
        serde_json::to_string(&exported_at).map_err(|error| ApiError::Internal(error.into()))?
    )
    .into_bytes();
    serde_json::to_writer(&mut head, &transactions)
        .map_err(|error| ApiError::Internal(error.into()))?;
    head.extend_from_slice(b",\"events\":[");
    // The cursor opens inside the stream, after the orders went out: a server that takes a
    // while to hand over the first batch must not hold back the answer's first bytes.
    let chunks = stream::once(events)
        .try_flatten()
        .map_err(std::io::Error::other)
        .try_chunks(DATASET_CHUNK)
        .map_err(|error| error.1)
        .enumerate()
        .map(|(index, chunk)| {
            let chunk = chunk?;
            let mut bytes = Vec::with_capacity(chunk.len() * 96);
            for (position, event) in chunk.iter().enumerate() {
                if index > 0 || position > 0 {
                    bytes.push(b',');
                }
                serde_json::to_writer(&mut bytes, &churn_lab::shop::event_to_wire(event))
                    .map_err(std::io::Error::other)?;
            }
            Ok(axum::body::Bytes::from(bytes))
        });
    Ok(
        stream::once(async move { Ok(axum::body::Bytes::from(head)) })
            .chain(chunks)
            .chain(stream::once(async {
                Ok(axum::body::Bytes::from_static(b"]}"))
            })),
    )
}
