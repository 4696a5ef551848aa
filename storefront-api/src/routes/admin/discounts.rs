//! Staff management of discount codes (retention offers are issued the same way).

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{FieldError, money::Currency, order::DiscountValue},
    error::{ApiError, ApiResult, Json, Path},
    state::AppState,
    storage::discounts::{self, DiscountCodeView, NewDiscountCode},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_codes, create_code))
        .routes(routes!(update_code))
}

#[derive(Serialize, ToSchema)]
pub struct DiscountCodeList {
    discount_codes: Vec<DiscountCodeView>,
}

#[derive(Serialize, ToSchema)]
pub struct DiscountCodeEnvelope {
    discount_code: DiscountCodeView,
}

/// Every discount code, newest first, with its usage.
#[utoipa::path(get, path = "/api/v1/admin/discount-codes", tag = "admin",
    responses((status = 200, body = DiscountCodeList)), security(("bearer" = [])))]
pub async fn list_codes(State(state): State<AppState>) -> ApiResult<Json<DiscountCodeList>> {
    Ok(Json(DiscountCodeList {
        discount_codes: discounts::list(&state.db).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountCodeDraft {
    /// 3-32 letters, digits, `_` or `-`; matched case-insensitively.
    code: String,
    /// Percentage off the goods, in basis points (1000 = 10 %). Give this or `amount_minor`.
    percent_basis_points: Option<u32>,
    /// A fixed amount off the goods, with `currency`.
    amount_minor: Option<i64>,
    currency: Option<String>,
    #[serde(default)]
    min_subtotal_minor: i64,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    /// Uses in total across all customers.
    usage_limit: Option<i32>,
    #[serde(default)]
    once_per_customer: bool,
}

/// Creates a discount code.
#[utoipa::path(post, path = "/api/v1/admin/discount-codes", tag = "admin", request_body = DiscountCodeDraft,
    responses((status = 201, body = DiscountCodeEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_code(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<DiscountCodeDraft>,
) -> ApiResult<(StatusCode, Json<DiscountCodeEnvelope>)> {
    let mut errors = Vec::new();
    let code = draft.code.trim().to_uppercase();
    if !(3..=32).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        errors.push(FieldError::new(
            "code",
            "use 3-32 letters, digits, '_' or '-'",
        ));
    }
    let value = match (draft.percent_basis_points, draft.amount_minor) {
        (Some(bp), None) if (1..=10_000).contains(&bp) => {
            Some(DiscountValue::Percent { basis_points: bp })
        }
        (Some(_), None) => {
            errors.push(FieldError::new("percent_basis_points", "must be 1-10000"));
            None
        }
        (None, Some(amount)) if amount > 0 => Some(DiscountValue::Fixed {
            amount_minor: amount,
        }),
        (None, Some(_)) => {
            errors.push(FieldError::new("amount_minor", "must be positive"));
            None
        }
        _ => {
            errors.push(FieldError::new(
                "percent_basis_points",
                "give either percent_basis_points or amount_minor",
            ));
            None
        }
    };
    let currency = match (&value, draft.currency.as_deref()) {
        (Some(DiscountValue::Fixed { .. }), Some(code)) => Currency::parse(code)
            .map_err(|message| errors.push(FieldError::new("currency", message)))
            .ok(),
        (Some(DiscountValue::Fixed { .. }), None) => {
            errors.push(FieldError::new(
                "currency",
                "is required for a fixed amount",
            ));
            None
        }
        (_, Some(_)) => {
            errors.push(FieldError::new(
                "currency",
                "only a fixed amount has a currency",
            ));
            None
        }
        _ => None,
    };
    if draft.min_subtotal_minor < 0 {
        errors.push(FieldError::new(
            "min_subtotal_minor",
            "must not be negative",
        ));
    }
    if let (Some(starts), Some(expires)) = (draft.starts_at, draft.expires_at)
        && starts >= expires
    {
        errors.push(FieldError::new("expires_at", "must be after starts_at"));
    }
    if draft.usage_limit.is_some_and(|limit| limit < 1) {
        errors.push(FieldError::new("usage_limit", "must be at least 1"));
    }
    let (Some(value), true) = (value, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let created = discounts::create(
        &state.db,
        &NewDiscountCode {
            code,
            value,
            currency,
            min_subtotal_minor: draft.min_subtotal_minor,
            starts_at: draft.starts_at,
            expires_at: draft.expires_at,
            usage_limit: draft.usage_limit,
            once_per_customer: draft.once_per_customer,
        },
        session.account_id,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(DiscountCodeEnvelope {
            discount_code: created,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountCodePatch {
    active: bool,
}

/// Switches a code on or off.
#[utoipa::path(patch, path = "/api/v1/admin/discount-codes/{id}", tag = "admin", request_body = DiscountCodePatch,
    params(("id" = Uuid, Path, description = "Discount code id")),
    responses((status = 200, body = DiscountCodeEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
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
