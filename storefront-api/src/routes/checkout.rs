//! Checkout and the customer's orders and returns. The checkout itself is the `checkout`
//! service, returns the `returns` service; this module parses the request and shapes the
//! answer.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use storefront_client::{
    orders::{CheckoutRequest, IDEMPOTENCY_KEY, OrderEnvelope, OrderList, OrderListParams},
    returns::{ReturnEnvelope, ReturnRequest},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    checkout,
    domain::{
        checkout::{IdempotencyKey, KeyProblem},
        returns::NewReturn,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    returns,
    routes::paging::Page,
    state::AppState,
    storage::{orders, paged},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout))
        .routes(routes!(my_orders))
        .routes(routes!(my_order))
        .routes(routes!(request_return))
}

fn key_error(problem: KeyProblem) -> ApiError {
    match problem {
        KeyProblem::Missing => ApiError::bad_request(
            "idempotency_key_required",
            "Send an Idempotency-Key header (for example a UUID) with every checkout.",
        ),
        KeyProblem::Malformed => ApiError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key must be 1-255 visible ASCII characters.",
        ),
    }
}

/// Turns the caller's cart into an order and pays for it.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "checkout", request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per checkout attempt, e.g. a UUID")),
    responses((status = 201, body = OrderEnvelope),
              (status = 400, description = "Missing Idempotency-Key", body = crate::error::ErrorEnvelope),
              (status = 402, description = "Payment declined; the cart is kept", body = crate::error::ErrorEnvelope),
              (status = 409, description = "Out of stock, empty cart, or still running", body = crate::error::ErrorEnvelope),
              (status = 422, description = "Invalid request, or the key was used with another body", body = crate::error::ErrorEnvelope),
              (status = 503, description = "Payment provider unavailable; the cart is kept", body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn checkout(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    headers: HeaderMap,
    Json(request): Json<CheckoutRequest>,
) -> ApiResult<Response> {
    let raw_key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|value| value.to_str().ok());
    let key = IdempotencyKey::parse(raw_key).map_err(key_error)?;
    let answer = checkout::checkout(&state, session.account_id, &key, &request).await?;
    Ok((answer.status, axum::Json(answer.body)).into_response())
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "checkout", params(OrderListParams),
    responses((status = 200, body = OrderList), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn my_orders(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Query(params): Query<OrderListParams>,
) -> ApiResult<Json<OrderList>> {
    let page = Page::parse(params.page, params.limit)?;
    let (orders, total) = paged(page.limit, page.offset(), |limit, offset| {
        orders::customer_orders(&state.db, session.account_id, limit, offset)
    })
    .await?;
    Ok(Json(OrderList {
        orders,
        meta: page.meta(total),
    }))
}

/// One of the caller's orders; another customer's order is a 404.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "checkout",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn my_order(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<OrderEnvelope>> {
    let mut order = orders::order(&state.db, id, Some(session.account_id))
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    returns::show_refunds_due(&state, &mut order).await?;
    Ok(Json(OrderEnvelope { order }))
}

/// Asks to return lines of one of the caller's delivered orders, within its return window
/// (`returnable_until`): never more units than were bought, less those in other returns that
/// were not refused. Staff then approve or refuse it; each step is emailed.
#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "checkout",
    request_body = ReturnRequest,
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 201, body = ReturnEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, description = "Not delivered, window closed, or more than is left to return", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn request_return(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<ReturnRequest>,
) -> ApiResult<(StatusCode, Json<ReturnEnvelope>)> {
    let new = NewReturn::parse(&request).map_err(ApiError::Validation)?;
    let return_id = returns::request(&state, id, session.account_id, &new).await?;
    let order = orders::order(&state.db, id, Some(session.account_id))
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let order_return = order
        .returns
        .into_iter()
        .find(|r| r.id == return_id)
        .ok_or(ApiError::NotFound("return"))?;
    Ok((StatusCode::CREATED, Json(ReturnEnvelope { order_return })))
}
