//! Staff management of automatic promotions: list, create, pause and resume.

use axum::{extract::State, http::StatusCode};
use storefront_client::lists::CountMeta;
use storefront_client::staff::promotions::{
    PromotionDraft, PromotionEnvelope, PromotionList, PromotionPatch,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::promotions::parse_new_promotion,
    error::{ApiError, ApiResult, Json, Path},
    state::AppState,
    storage::promotions,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_promotions, create_promotion))
        .routes(routes!(update_promotion))
}

/// Every promotion, newest first, with what it has used of its budget.
#[utoipa::path(get, path = "/api/v1/admin/promotions", tag = "admin",
    responses((status = 200, body = PromotionList)), security(("bearer" = ["campaigns"])))]
pub async fn list_promotions(State(state): State<AppState>) -> ApiResult<Json<PromotionList>> {
    let promotions = promotions::list(&state.db).await?;
    Ok(Json(PromotionList {
        meta: CountMeta::of(&promotions),
        promotions,
    }))
}

/// Creates a promotion; it runs from `starts_at` (or now) while active.
#[utoipa::path(post, path = "/api/v1/admin/promotions", tag = "admin", request_body = PromotionDraft,
    responses((status = 201, body = PromotionEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn create_promotion(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<PromotionDraft>,
) -> ApiResult<(StatusCode, Json<PromotionEnvelope>)> {
    let new = parse_new_promotion(&draft).map_err(ApiError::Validation)?;
    let promotion = promotions::create(&state.db, &new, session.account_id).await?;
    Ok((StatusCode::CREATED, Json(PromotionEnvelope { promotion })))
}

/// Pauses (`active: false`) or resumes a promotion.
#[utoipa::path(patch, path = "/api/v1/admin/promotions/{id}", tag = "admin", request_body = PromotionPatch,
    params(("id" = Uuid, Path, description = "Promotion id")),
    responses((status = 200, body = PromotionEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn update_promotion(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<PromotionPatch>,
) -> ApiResult<Json<PromotionEnvelope>> {
    let promotion = promotions::set_active(&state.db, id, patch.active, session.account_id).await?;
    Ok(Json(PromotionEnvelope { promotion }))
}
