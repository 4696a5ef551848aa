//! Retention campaigns for staff: launch, preview, follow, pause, resume, end.

use axum::{extract::State, http::StatusCode};
use storefront_client::lists::CountMeta;
use storefront_client::staff::campaigns::{
    AudiencePreviewEnvelope, CampaignDetail, CampaignDraft, CampaignEnvelope, CampaignList,
    CampaignPatch,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    campaigns,
    error::{ApiResult, Json, Path},
    state::AppState,
    storage,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, launch_campaign))
        .routes(routes!(preview_campaign))
        .routes(routes!(campaign, change_campaign))
}

/// Every campaign, newest first, with how many customers each treated and held out.
#[utoipa::path(get, path = "/api/v1/admin/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignList)), security(("bearer" = ["campaigns"])))]
pub async fn list_campaigns(State(state): State<AppState>) -> ApiResult<Json<CampaignList>> {
    let campaigns = storage::campaigns::list(&state.db).await?;
    Ok(Json(CampaignList {
        meta: CountMeta::of(&campaigns),
        campaigns,
    }))
}

/// Launches a campaign on the latest scores: who qualifies now is enrolled at once (drawn
/// into treatment or holdout, the treated given their codes and emails). 409 `no_scores`
/// before any scoring run finished; 422 naming the field for a rule broken, or `audience`
/// when nobody qualifies.
#[utoipa::path(post, path = "/api/v1/admin/campaigns", tag = "campaigns", request_body = CampaignDraft,
    responses((status = 201, body = CampaignEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn launch_campaign(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<CampaignDraft>,
) -> ApiResult<(StatusCode, Json<CampaignEnvelope>)> {
    let campaign = campaigns::launch(&state, &draft, session.account_id).await?;
    Ok((StatusCode::CREATED, Json(CampaignEnvelope { campaign })))
}

/// What a draft would reach today — the audience by band, the split — and the smallest
/// uplift it could detect, without launching anything.
#[utoipa::path(post, path = "/api/v1/admin/campaigns/preview", tag = "campaigns", request_body = CampaignDraft,
    responses((status = 200, body = AudiencePreviewEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn preview_campaign(
    State(state): State<AppState>,
    Json(draft): Json<CampaignDraft>,
) -> ApiResult<Json<AudiencePreviewEnvelope>> {
    let preview = campaigns::preview(&state, &draft).await?;
    Ok(Json(AudiencePreviewEnvelope { preview }))
}

/// A campaign and its results per arm, with the uplifts once windows have closed.
#[utoipa::path(get, path = "/api/v1/admin/campaigns/{id}", tag = "campaigns",
    params(("id" = Uuid, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignDetail), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn campaign(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CampaignDetail>> {
    Ok(Json(campaigns::detail(&state, id).await?))
}

/// Pauses (`paused`), resumes (`running`) or ends (`ended`) a campaign. Ending is for good
/// (409 `campaign_ended` afterwards); issued codes stay valid to their expiry.
#[utoipa::path(patch, path = "/api/v1/admin/campaigns/{id}", tag = "campaigns", request_body = CampaignPatch,
    params(("id" = Uuid, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn change_campaign(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<CampaignPatch>,
) -> ApiResult<Json<CampaignEnvelope>> {
    let campaign = campaigns::set_status(&state, id, patch.status, session.account_id).await?;
    Ok(Json(CampaignEnvelope { campaign }))
}
