//! Staff churn routes: the model registry (upload, list, activate, roll back), scoring one
//! customer, and score-all jobs.

use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use churn_lab::{FEATURE_DEFINITION_VERSION, ModelArtifact, artifact::ArtifactError};
use storefront_client::staff::campaigns::ScoringRunList;
use storefront_client::staff::churn::{
    ChurnDataset, ChurnEnvelope, JobEnvelope, ModelEnvelope, ModelList, ModelListMeta, TopCustomer,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    churn,
    domain::FieldError,
    error::{ApiError, ApiResult, Json, Path},
    state::AppState,
    storage::audit,
};

/// Artifacts of large forests run to tens of megabytes of JSON.
const MAX_ARTIFACT_BYTES: usize = 256 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_model))
        .layer(DefaultBodyLimit::max(MAX_ARTIFACT_BYTES))
        .routes(routes!(list_models))
        .routes(routes!(activate_model))
        .routes(routes!(roll_back))
        .routes(routes!(customer_churn))
        .routes(routes!(start_score_all))
        .routes(routes!(score_job))
        .routes(routes!(scoring_runs))
        .routes(routes!(dataset))
}

/// Uploads a churn-lab artifact (`model.json`). It is checked whole: well-formed, a model that
/// scores, and features of this server's definition version.
#[utoipa::path(post, path = "/api/v1/admin/churn/models", tag = "churn",
    request_body(content = Object, content_type = "application/json", description = "model.json as churn-lab wrote it"),
    responses((status = 201, body = ModelEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["churn"])))]
pub async fn upload_model(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ModelEnvelope>)> {
    let bytes = body.to_vec();
    let parsed = tokio::task::spawn_blocking(move || {
        let artifact = ModelArtifact::from_json(&bytes)?;
        artifact.check_feature_version()?;
        Ok::<_, ArtifactError>((artifact, bytes))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let (artifact, bytes) = parsed.map_err(|error| {
        let field = match error {
            ArtifactError::FeatureVersion { .. } => "feature_definition_version",
            _ => "artifact",
        };
        ApiError::Validation(vec![FieldError::new(field, error.to_string())])
    })?;
    let model = churn::register_model(&state, &artifact, &bytes, session.account_id).await?;
    Ok((StatusCode::CREATED, Json(ModelEnvelope { model })))
}

/// Registered models, newest upload first, with their metrics; `meta.active` is in use.
#[utoipa::path(get, path = "/api/v1/admin/churn/models", tag = "churn",
    responses((status = 200, body = ModelList)), security(("bearer" = ["churn"])))]
pub async fn list_models(State(state): State<AppState>) -> ApiResult<Json<ModelList>> {
    let models = crate::storage::churn::list(&state.mongo).await?;
    let active = models.iter().find(|m| m.active).map(|m| m.version.clone());
    Ok(Json(ModelList {
        models,
        meta: ModelListMeta {
            active,
            feature_definition_version: FEATURE_DEFINITION_VERSION,
        },
    }))
}

/// Makes the version active now, on every API instance, without a restart; requests already
/// scoring finish with the model they started with.
#[utoipa::path(post, path = "/api/v1/admin/churn/models/{version}/activate", tag = "churn",
    params(("version" = String, Path, description = "Model version")),
    responses((status = 200, body = ModelEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["churn"])))]
pub async fn activate_model(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(version): Path<String>,
) -> ApiResult<Json<ModelEnvelope>> {
    let model = churn::activate_model(&state, &version, session.account_id).await?;
    Ok(Json(ModelEnvelope { model }))
}

/// Returns to the model that was active before the latest activation.
#[utoipa::path(post, path = "/api/v1/admin/churn/rollback", tag = "churn",
    responses((status = 200, body = ModelEnvelope), (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["churn"])))]
pub async fn roll_back(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Json<ModelEnvelope>> {
    let before = crate::storage::churn::active_version(&state.mongo).await?;
    let version = crate::storage::churn::roll_back(&state.mongo)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "nothing_to_roll_back",
                "There is no earlier activation to return to.",
            )
        })?;
    churn::switch_everywhere(&state, &version).await?;
    let model = crate::storage::churn::find(&state.mongo, &version)
        .await?
        .ok_or(ApiError::NotFound("churn model"))?;
    audit::record_alone(
        &state.db,
        session.account_id,
        "churn_model.roll_back",
        audit::Entity::ChurnModel,
        model.id,
        serde_json::json!({ "active": before }),
        serde_json::json!({ "active": version }),
    )
    .await?;
    Ok(Json(ModelEnvelope { model }))
}

/// The customer's churn probability now, with the features behind it.
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}/churn", tag = "churn",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = ChurnEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 409, body = crate::error::ErrorEnvelope, description = "no active model")),
    security(("bearer" = ["churn"])))]
pub async fn customer_churn(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ChurnEnvelope>> {
    let churn = churn::explain_customer(&state, id).await?;
    Ok(Json(ChurnEnvelope { churn }))
}

/// Scores every customer with the active model in the background and stores every score;
/// follow it at `GET /api/v1/admin/churn/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/admin/churn/score-all", tag = "churn",
    responses((status = 202, body = JobEnvelope), (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["churn"])))]
pub async fn start_score_all(
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, Json<JobEnvelope>)> {
    let job = churn::start_score_all(&state).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobEnvelope {
            job,
            top_customers: Vec::new(),
        }),
    ))
}

/// A score-all job's progress; once finished, the 20 highest-risk customers.
#[utoipa::path(get, path = "/api/v1/admin/churn/jobs/{id}", tag = "churn",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, body = JobEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["churn"])))]
pub async fn score_job(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<JobEnvelope>> {
    let job = churn::job(&state, id)
        .await?
        .ok_or(ApiError::NotFound("score job"))?;
    let top_customers = if job.status == "finished" {
        crate::storage::churn::top_scores(&state.mongo, id, 20)
            .await?
            .into_iter()
            .map(|(customer_id, probability, risk_band)| TopCustomer {
                customer_id,
                probability,
                risk_band,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(JobEnvelope { job, top_customers }))
}

/// The latest whole-shop scoring runs (staff's and the schedule's), newest first, with how
/// each ended and how many customers automatic campaigns enrolled after it; and the schedule.
#[utoipa::path(get, path = "/api/v1/admin/churn/runs", tag = "churn",
    responses((status = 200, body = ScoringRunList)),
    security(("bearer" = ["churn"])))]
pub async fn scoring_runs(State(state): State<AppState>) -> ApiResult<Json<ScoringRunList>> {
    Ok(Json(churn::scoring_runs(&state).await?))
}

/// The shop's history as churn-lab trains on it: every customer's orders (paid, refunded,
/// cancelled) and behaviour events, through churn-lab's own mapping (the same as its
/// `snapshot`). The staff console trains on this without a database connection. The answer
/// streams (the events as MongoDB hands them over), so it starts at once whatever the shop's
/// size; a cut-off stream is invalid JSON, never a shorter dataset.
#[utoipa::path(get, path = "/api/v1/admin/churn/dataset", tag = "churn",
    responses((status = 200, body = ChurnDataset)), security(("bearer" = ["churn"])))]
pub async fn dataset(State(state): State<AppState>) -> ApiResult<Response> {
    let body = churn::dataset(&state).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}
