//! Staff order management: list with filters, detail with notes and audit trail, status
//! transitions, refunds and notes. Every action is audited in its own transaction.

use axum::{extract::State, http::StatusCode};
use serde_json::json;
use storefront_client::staff::orders::{
    NoteRequest, RefundRequest, StaffOrder, StaffOrderEnvelope, StaffOrderList,
    StaffOrderListParams, TransitionRequest,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{
        access::{Permission, RolePermissions},
        order::{MAX_NOTE, MAX_REASON, OrderStatus, StaffTransition},
        text,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    refunds::{self, PaidOut},
    routes::paging::Page,
    state::AppState,
    storage::{
        audit::{self, Entity},
        orders::{self, OrderChangeError, OrderFilter, TransitionInput},
        paged,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders))
        .routes(routes!(order_detail))
        .routes(routes!(transition))
        .routes(routes!(refund))
        .routes(routes!(add_note))
}

/// Orders, newest first, filtered by status, date range, customer and total.
#[utoipa::path(get, path = "/api/v1/admin/orders", tag = "admin", params(StaffOrderListParams),
    responses((status = 200, body = StaffOrderList), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn list_orders(
    State(state): State<AppState>,
    Query(params): Query<StaffOrderListParams>,
) -> ApiResult<Json<StaffOrderList>> {
    let page = Page::parse(params.page, params.limit)?;
    if let (Some(from), Some(to)) = (params.placed_from, params.placed_to)
        && from >= to
    {
        return Err(ApiError::invalid("placed_to", "must be after placed_from"));
    }
    let filter = OrderFilter {
        status: params.status,
        placed_from: params.placed_from,
        placed_to: params.placed_to,
        account_id: params.customer_id,
        min_total_minor: params.min_total,
        max_total_minor: params.max_total,
    };
    let (orders, total) = paged(page.limit, page.offset(), |limit, offset| {
        orders::list_orders(&state.db, &filter, limit, offset)
    })
    .await?;
    Ok(Json(StaffOrderList {
        orders,
        meta: page.meta(total),
    }))
}

/// One order as staff see it, with what each received return would refund now.
pub(crate) async fn staff_order(state: &AppState, id: Uuid) -> ApiResult<StaffOrder> {
    let mut order = orders::order(&state.db, id, None)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    crate::returns::show_refunds_due(state, &mut order).await?;
    Ok(StaffOrder {
        order,
        notes: orders::notes(&state.db, id).await?,
        audit_trail: audit::trail(&state.db, Some((Entity::Order, id)), 1000).await?,
    })
}

/// One order with its lines, payments, notes and audit trail.
#[utoipa::path(get, path = "/api/v1/admin/orders/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = StaffOrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn order_detail(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<StaffOrderEnvelope>> {
    Ok(Json(StaffOrderEnvelope {
        order: staff_order(&state, id).await?,
    }))
}

pub(crate) fn change_error(error: OrderChangeError) -> ApiError {
    match error {
        OrderChangeError::NotFound => ApiError::NotFound("order"),
        OrderChangeError::RefundNotPermitted => ApiError::MissingPermission(Permission::Refunds),
        OrderChangeError::AwaitingPayment => ApiError::conflict(
            "awaiting_payment",
            "The order's checkout is still settling its payment with the provider; it becomes \
             paid or cancelled on its own within a minute.",
        ),
        OrderChangeError::Illegal(illegal) => ApiError::Conflict {
            code: "illegal_transition",
            message: illegal.to_string(),
            details: json!({
                "from": illegal.from,
                "to": illegal.to,
                "allowed": illegal.allowed,
            }),
        },
        OrderChangeError::OverRefund { refundable_minor } => ApiError::Conflict {
            code: "refund_exceeds_payment",
            message: format!("At most {refundable_minor} (minor units) is left to refund."),
            details: json!({ "refundable_minor": refundable_minor }),
        },
        OrderChangeError::NotRefundable { status } => ApiError::Conflict {
            code: "not_refundable",
            message: format!(
                "An order that is {} has no payment to refund.",
                status.as_str()
            ),
            details: json!({ "status": status }),
        },
        OrderChangeError::NoCharge => ApiError::conflict(
            "no_charge",
            "The order has no recorded charge at the payment provider to refund; nothing was \
             changed.",
        ),
        OrderChangeError::Store(error) => error.into(),
    }
}

/// Moves an order to its next status. An illegal move is a 409 naming the allowed ones.
/// Cancelling a paid order restocks it and refunds the payment in full.
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/transitions", tag = "admin",
    request_body = TransitionRequest,
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = StaffOrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn transition(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<TransitionRequest>,
) -> ApiResult<Json<StaffOrderEnvelope>> {
    let transition = StaffTransition::parse(request).map_err(|e| ApiError::Validation(vec![e]))?;
    let done = orders::transition(
        &state.db,
        id,
        &TransitionInput {
            to: transition.to,
            tracking_number: transition.tracking_number.as_deref(),
            reason: transition.reason.as_deref(),
            actor_id: session.account_id,
            refunds: refunds::terms(&state),
            may_refund: session.role.may(Permission::Refunds),
            return_window_days: state.settings.returns.window_days,
        },
    )
    .await
    .map_err(change_error)?;
    if transition.to == OrderStatus::Cancelled {
        state.catalog_cache.invalidate().await;
    }
    if let Some(refund) = done.refund {
        // The cancellation stands whatever the provider says; the order's payments show
        // the refund as paid, pending (asked again until answered) or refused.
        refunds::pay_out(&state, &refund, Some(session.account_id)).await?;
    }
    Ok(Json(StaffOrderEnvelope {
        order: staff_order(&state, id).await?,
    }))
}

/// Refunds part or all of a paid order. A full refund makes the order `refunded`. 201: the
/// money went back; 202: the provider did not answer, so the refund is pending (reserved on
/// the order, shown in its payments) and is asked again until it answers — never paid twice;
/// 409 `refund_refused`: the provider said no and the reservation was given back.
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/refunds", tag = "admin",
    request_body = RefundRequest,
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 201, body = StaffOrderEnvelope), (status = 202, body = StaffOrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["refunds"])))]
pub async fn refund(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<RefundRequest>,
) -> ApiResult<(StatusCode, Json<StaffOrderEnvelope>)> {
    if request.amount_minor <= 0 {
        return Err(ApiError::invalid("amount_minor", "must be positive"));
    }
    let reason = text::line(&request.reason, MAX_REASON)
        .map_err(|message| ApiError::invalid("reason", message))?;
    let due = orders::reserve_refund(
        &state.db,
        id,
        request.amount_minor,
        &reason,
        session.account_id,
        refunds::terms(&state),
    )
    .await
    .map_err(change_error)?;
    let status = match refunds::pay_out(&state, &due, Some(session.account_id)).await? {
        PaidOut::Refunded => StatusCode::CREATED,
        PaidOut::Pending => StatusCode::ACCEPTED,
        PaidOut::Refused { code } => {
            return Err(ApiError::Conflict {
                code: "refund_refused",
                message: "The payment provider refused the refund; nothing was given back.".into(),
                details: json!({ "provider_code": code }),
            });
        }
    };
    Ok((
        status,
        Json(StaffOrderEnvelope {
            order: staff_order(&state, id).await?,
        }),
    ))
}

/// Adds an internal note to an order.
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/notes", tag = "admin",
    request_body = NoteRequest,
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 201, body = StaffOrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["orders"])))]
pub async fn add_note(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<NoteRequest>,
) -> ApiResult<(StatusCode, Json<StaffOrderEnvelope>)> {
    let body = text::prose(&request.body, MAX_NOTE)
        .map_err(|message| ApiError::invalid("body", message))?;
    orders::add_note(&state.db, id, session.account_id, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffOrderEnvelope {
            order: staff_order(&state, id).await?,
        }),
    ))
}
