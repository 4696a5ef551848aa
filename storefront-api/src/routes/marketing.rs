//! What a marketing email's recipient can do without logging in: unsubscribe with the
//! email's signed link.

use axum::extract::State;
use storefront_client::account::{MarketingConsentEnvelope, UnsubscribeRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    domain::emails::LinkPurpose,
    error::{ApiError, ApiResult, Json},
    state::AppState,
    storage::marketing_consent::{self, Source},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(unsubscribe))
}

/// Withdraws marketing consent with the token of the signed link every marketing email
/// carries (no login: one click must do). Unsubscribing twice answers the same.
#[utoipa::path(post, path = "/api/v1/marketing/unsubscribe", tag = "accounts",
    request_body = UnsubscribeRequest,
    responses((status = 200, body = MarketingConsentEnvelope),
              (status = 404, description = "The account is gone", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Json(request): Json<UnsubscribeRequest>,
) -> ApiResult<Json<MarketingConsentEnvelope>> {
    let account_id = state
        .settings
        .shop
        .links()
        .verify(LinkPurpose::Unsubscribe, &request.token)
        .ok_or_else(|| ApiError::invalid("token", "is not an unsubscribe link of this shop"))?;
    let consent =
        marketing_consent::set(&state.db, account_id, false, Source::UnsubscribeLink).await?;
    tracing::info!(%account_id, "unsubscribed from marketing emails");
    Ok(Json(MarketingConsentEnvelope {
        marketing_consent: consent.into(),
    }))
}
