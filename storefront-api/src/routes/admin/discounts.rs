//! Staff management of discount codes (retention offers are issued the same way).

use axum::{extract::State, http::StatusCode};
use storefront_client::lists::CountMeta;
use storefront_client::staff::discounts::{
    DiscountCodeDraft, DiscountCodeEnvelope, DiscountCodeList, DiscountCodePatch,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::discounts::parse_new_code,
    error::{ApiError, ApiResult, Json, Path},
    state::AppState,
    storage::discounts,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_codes, create_code))
        .routes(routes!(update_code))
}

/// Every discount code, newest first, with its usage.
#[utoipa::path(get, path = "/api/v1/admin/discount-codes", tag = "admin",
    responses((status = 200, body = DiscountCodeList)), security(("bearer" = ["campaigns"])))]
pub async fn list_codes(State(state): State<AppState>) -> ApiResult<Json<DiscountCodeList>> {
    let discount_codes = discounts::list(&state.db).await?;
    Ok(Json(DiscountCodeList {
        meta: CountMeta::of(&discount_codes),
        discount_codes,
    }))
}

/// Creates a discount code.
#[utoipa::path(post, path = "/api/v1/admin/discount-codes", tag = "admin", request_body = DiscountCodeDraft,
    responses((status = 201, body = DiscountCodeEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn create_code(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<DiscountCodeDraft>,
) -> ApiResult<(StatusCode, Json<DiscountCodeEnvelope>)> {
    let new = parse_new_code(&draft).map_err(ApiError::Validation)?;
    let created = discounts::create(&state.db, &new, session.account_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(DiscountCodeEnvelope {
            discount_code: created,
        }),
    ))
}

/// Switches a code on or off.
#[utoipa::path(patch, path = "/api/v1/admin/discount-codes/{id}", tag = "admin", request_body = DiscountCodePatch,
    params(("id" = Uuid, Path, description = "Discount code id")),
    responses((status = 200, body = DiscountCodeEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["campaigns"])))]
pub async fn update_code(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<DiscountCodePatch>,
) -> ApiResult<Json<DiscountCodeEnvelope>> {
    let discount_code =
        discounts::set_active(&state.db, id, patch.active, session.account_id).await?;
    Ok(Json(DiscountCodeEnvelope { discount_code }))
}
