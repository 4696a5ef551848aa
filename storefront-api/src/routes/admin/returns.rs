//! Staff return handling: the queue, one return with its order, and each step — approve,
//! refuse, receive (back on the shelf or written off), refund. Each step is taken once: a
//! second click, or a second member of staff at the same moment, gets 409
//! `illegal_return_step`.

use axum::{extract::State, http::StatusCode};
use serde_json::json;
use storefront_client::staff::returns::{
    ReceiveReturnRequest, RefundReturnRequest, RefuseReturnRequest, StaffReturnEnvelope,
    StaffReturnList, StaffReturnListParams,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{
        returns::{MAX_REFUSAL_REASON, ReturnStep},
        text,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    refunds::PaidOut,
    returns,
    routes::{admin::orders::staff_order, paging::Page},
    state::AppState,
    storage::{self, paged, returns::StepInput},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_returns))
        .routes(routes!(return_detail))
        .routes(routes!(approve))
        .routes(routes!(refuse))
        .routes(routes!(receive))
        .routes(routes!(refund))
}

/// Returns, newest first, by status (`requested` is the queue to answer) or order.
#[utoipa::path(get, path = "/api/v1/admin/returns", tag = "admin", params(StaffReturnListParams),
    responses((status = 200, body = StaffReturnList), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn list_returns(
    State(state): State<AppState>,
    Query(params): Query<StaffReturnListParams>,
) -> ApiResult<Json<StaffReturnList>> {
    let page = Page::parse(params.page, params.limit)?;
    let (returns, total) = paged(page.limit, page.offset(), |limit, offset| {
        storage::returns::list(&state.db, params.status, params.order_id, limit, offset)
    })
    .await?;
    Ok(Json(StaffReturnList {
        returns,
        meta: page.meta(total),
    }))
}

/// A return and its order (with what a received return would refund now).
async fn envelope(state: &AppState, return_id: Uuid) -> ApiResult<StaffReturnEnvelope> {
    let order_id = storage::returns::order_of(&state.db, return_id)
        .await?
        .ok_or(ApiError::NotFound("return"))?;
    let order = staff_order(state, order_id).await?;
    let order_return = order
        .order
        .returns
        .iter()
        .find(|r| r.id == return_id)
        .cloned()
        .ok_or(ApiError::NotFound("return"))?;
    Ok(StaffReturnEnvelope {
        order_return,
        order,
    })
}

/// One return with its order: lines, payments, notes and audit trail.
#[utoipa::path(get, path = "/api/v1/admin/returns/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Return id")),
    responses((status = 200, body = StaffReturnEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn return_detail(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<StaffReturnEnvelope>> {
    Ok(Json(envelope(&state, id).await?))
}

/// Approves a requested return: the customer is told to send the items back.
#[utoipa::path(post, path = "/api/v1/admin/returns/{id}/approve", tag = "admin",
    params(("id" = Uuid, Path, description = "Return id")),
    responses((status = 200, body = StaffReturnEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn approve(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<StaffReturnEnvelope>> {
    let input = StepInput {
        actor_id: session.account_id,
        refusal_reason: None,
        receipt: &[],
    };
    returns::take_step(&state, id, ReturnStep::Approve, &input).await?;
    Ok(Json(envelope(&state, id).await?))
}

/// Refuses a requested return, telling the customer why; its units may be asked for again.
#[utoipa::path(post, path = "/api/v1/admin/returns/{id}/refuse", tag = "admin",
    request_body = RefuseReturnRequest,
    params(("id" = Uuid, Path, description = "Return id")),
    responses((status = 200, body = StaffReturnEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn refuse(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<RefuseReturnRequest>,
) -> ApiResult<Json<StaffReturnEnvelope>> {
    let reason = text::line(&request.reason, MAX_REFUSAL_REASON)
        .map_err(|message| ApiError::invalid("reason", message))?;
    let input = StepInput {
        actor_id: session.account_id,
        refusal_reason: Some(&reason),
        receipt: &[],
    };
    returns::take_step(&state, id, ReturnStep::Refuse, &input).await?;
    Ok(Json(envelope(&state, id).await?))
}

/// Marks an approved return's items received: each line goes back on the shelf (a `returned`
/// stock movement) unless `restock: false` (damaged, written off).
#[utoipa::path(post, path = "/api/v1/admin/returns/{id}/receive", tag = "admin",
    request_body = ReceiveReturnRequest,
    params(("id" = Uuid, Path, description = "Return id")),
    responses((status = 200, body = StaffReturnEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn receive(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<ReceiveReturnRequest>,
) -> ApiResult<Json<StaffReturnEnvelope>> {
    let receipt: Vec<(i32, bool)> = request
        .lines
        .iter()
        .map(|line| (line.line_number, line.restock))
        .collect();
    let input = StepInput {
        actor_id: session.account_id,
        refusal_reason: None,
        receipt: &receipt,
    };
    returns::take_step(&state, id, ReturnStep::Receive, &input).await?;
    Ok(Json(envelope(&state, id).await?))
}

/// Refunds a received return, once: by default what the shop's policy says it is worth
/// back (`refund_due`), or less with `amount_minor`. 201: the money went back; 202: the
/// provider did not answer, so the refund is pending and asked again until it answers —
/// never paid twice; 409 `refund_refused`: the provider said no, and the return is
/// received again.
#[utoipa::path(post, path = "/api/v1/admin/returns/{id}/refund", tag = "admin",
    request_body = RefundReturnRequest,
    params(("id" = Uuid, Path, description = "Return id")),
    responses((status = 201, body = StaffReturnEnvelope), (status = 202, body = StaffReturnEnvelope),
              (status = 404, body = crate::error::ErrorEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["refunds"])))]
pub async fn refund(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<RefundReturnRequest>,
) -> ApiResult<(StatusCode, Json<StaffReturnEnvelope>)> {
    if request.amount_minor.is_some_and(|amount| amount < 0) {
        return Err(ApiError::invalid("amount_minor", "must not be negative"));
    }
    let (_, paid_out) =
        returns::refund(&state, id, request.amount_minor, session.account_id).await?;
    let status = match paid_out {
        PaidOut::Refunded => StatusCode::CREATED,
        PaidOut::Pending => StatusCode::ACCEPTED,
        PaidOut::Refused { code } => {
            return Err(ApiError::Conflict {
                code: "refund_refused",
                message: "The payment provider refused the refund; nothing was given back and \
                          the return can be refunded again."
                    .into(),
                details: json!({ "provider_code": code }),
            });
        }
    };
    Ok((status, Json(envelope(&state, id).await?)))
}
