//! Churn scoring in the API: the active model, swapped without a restart; how an activation
//! reaches every instance (Redis pub/sub); scoring one customer; and score-all jobs whose
//! progress any instance can read (Redis hashes).
//!
//! Scoring uses churn-lab's own feature definition on the customer's orders (PostgreSQL) and
//! behaviour events (MongoDB), so the API scores exactly as the analyst's `score` would.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use churn_lab::ModelArtifact;
use churn_lab::scoring::{self, CustomerChurn};
use futures::StreamExt;
use redis::AsyncCommands;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::{error::ApiError, state::AppState, storage};
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

fn channel(state: &AppState) -> String {
    format!("{}churn:activations", state.settings.redis.key_prefix)
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
    let mut redis = state.redis.clone();
    let _: i64 = redis.publish(channel(state), version).await?;
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
    let client = redis::Client::open(state.settings.redis.url.expose_secret())?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel(state)).await?;
    if let Err(error) = sync_active(state).await {
        tracing::warn!(%error, "could not load the active churn model");
    }
    let mut messages = pubsub.on_message();
    while messages.next().await.is_some() {
        if let Err(error) = sync_active(state).await {
            tracing::warn!(%error, "could not load the active churn model");
        }
    }
    anyhow::bail!("subscription closed")
}

fn no_model() -> ApiError {
    ApiError::conflict(
        "no_active_model",
        "No churn model is active: upload one and activate it (POST /api/v1/admin/churn/models).",
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

fn mongo_unavailable(error: mongodb::error::Error) -> ApiError {
    ApiError::Unavailable(format!("mongodb: {error}"))
}

/// Scores one customer now; `None` when they have no paid order (not scorable).
pub async fn score_customer(
    state: &AppState,
    customer: Uuid,
) -> Result<(Arc<ModelArtifact>, Option<CustomerChurn>), ApiError> {
    let model = active(state)?;
    let transactions = storage::churn::transactions(&state.db, Some(customer)).await?;
    let events = if model.uses_events() && !transactions.is_empty() {
        storage::churn::events(&state.mongo, Some(customer))
            .await
            .map_err(mongo_unavailable)?
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

fn job_key(state: &AppState, id: Uuid) -> String {
    format!("{}churn:job:{id}", state.settings.redis.key_prefix)
}

const JOB_TTL_SECS: i64 = 7 * 24 * 3600;

async fn set_job_fields(
    state: &AppState,
    id: Uuid,
    fields: &[(&str, String)],
) -> Result<(), redis::RedisError> {
    let mut redis = state.redis.clone();
    let key = job_key(state, id);
    redis::pipe()
        .hset_multiple(&key, fields)
        .ignore()
        .expire(&key, JOB_TTL_SECS)
        .ignore()
        .query_async::<()>(&mut redis)
        .await
}

pub async fn job(state: &AppState, id: Uuid) -> Result<Option<ScoreJob>, ApiError> {
    let mut redis = state.redis.clone();
    let fields: std::collections::HashMap<String, String> =
        redis.hgetall(job_key(state, id)).await?;
    if fields.is_empty() {
        return Ok(None);
    }
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let time = |name: &str| {
        fields
            .get(name)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Ok(Some(ScoreJob {
        id,
        status: get("status"),
        model_version: get("model_version"),
        total: get("total").parse().unwrap_or(0),
        done: get("done").parse().unwrap_or(0),
        started_at: time("started_at").unwrap_or_default(),
        finished_at: time("finished_at"),
        error: fields.get("error").cloned(),
    }))
}

/// Starts scoring every customer with the active model in the background.
pub async fn start_score_all(state: &AppState) -> Result<ScoreJob, ApiError> {
    let model = active(state)?;
    let id = Uuid::now_v7();
    let started_at = Utc::now();
    set_job_fields(
        state,
        id,
        &[
            ("status", "running".into()),
            ("model_version", model.version.clone()),
            ("total", "0".into()),
            ("done", "0".into()),
            ("started_at", started_at.to_rfc3339()),
        ],
    )
    .await?;
    let background = state.clone();
    tokio::spawn(async move {
        let outcome = run_score_all(&background, id, model).await;
        let mut fields = vec![("finished_at", Utc::now().to_rfc3339())];
        match outcome {
            Ok(()) => fields.push(("status", "finished".into())),
            Err(error) => {
                tracing::error!(%error, job = %id, "score-all job failed");
                fields.push(("status", "failed".into()));
                fields.push(("error", error.to_string()));
            }
        }
        if let Err(error) = set_job_fields(&background, id, &fields).await {
            tracing::error!(%error, job = %id, "could not record the end of a score-all job");
        }
    });
    job(state, id)
        .await?
        .ok_or_else(|| internal("the job vanished as it started"))
}

async fn run_score_all(
    state: &AppState,
    id: Uuid,
    model: Arc<ModelArtifact>,
) -> anyhow::Result<()> {
    let transactions = storage::churn::transactions(&state.db, None).await?;
    let events = if model.uses_events() {
        storage::churn::events(&state.mongo, None).await?
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
    set_job_fields(state, id, &[("total", scores.len().to_string())]).await?;
    let stored: Vec<storage::churn::StoredScore> = scores
        .into_iter()
        .map(|s| storage::churn::StoredScore {
            customer_id: s.customer_id,
            probability: s.churn_probability,
            band: s.band.as_str(),
        })
        .collect();
    for batch in stored.chunks(1000) {
        storage::churn::insert_scores(&state.mongo, id, &model.version, batch).await?;
        let mut redis = state.redis.clone();
        let _: i64 = redis.hincr(job_key(state, id), "done", batch.len()).await?;
    }
    storage::churn::drop_scores_of_other_jobs(&state.mongo, id).await?;
    Ok(())
}
