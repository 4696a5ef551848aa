//! `POST /api/v1/events`: batches of behaviour events from the shop. Each event is checked
//! on its own: the good ones are stored, the bad ones come back with their reasons.

use axum::{extract::State, http::HeaderMap};
use serde::Deserialize;
use serde_json::Value;
use storefront_client::events::{BatchResult, RejectedEvent};
use utoipa::ToSchema;

use crate::{
    auth::session_token,
    domain::events::{MAX_BATCH, validate},
    error::{ApiError, ApiResult, Json},
    state::AppState,
    storage::events,
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(record_events))
}

/// The batch as the API reads it: each event stays raw JSON until it is checked on its own
/// (clients send `storefront_client::events::EventBatch`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1-100 events: `{type, anonymous_id, occurred_at, properties}`. Types: session_start,
    /// product_view (properties.product_id), search (properties.query), add_to_cart and
    /// remove_from_cart (properties.variant_id, properties.quantity), checkout_started.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
}

/// Stores the valid events of a batch and reports the invalid ones. Events of a logged-in
/// shopper are attributed to the account from the session.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventBatch,
    responses((status = 200, body = BatchResult), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn record_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(batch): Json<EventBatch>,
) -> ApiResult<Json<BatchResult>> {
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "events",
            format!("send 1-{MAX_BATCH} events per batch"),
        ));
    }
    let customer_id = match session_token(&headers) {
        Some(token) => state
            .sessions
            .find(&token)
            .await?
            .map(|session| session.account_id),
        None => None,
    };
    let now = chrono::Utc::now();
    let mut good = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, raw) in batch.events.iter().enumerate() {
        match validate(raw, customer_id, now) {
            Ok(event) => good.push(event),
            Err(reasons) => rejected.push(RejectedEvent { index, reasons }),
        }
    }
    let accepted = events::insert(&state.mongo, &good).await?;
    Ok(Json(BatchResult { accepted, rejected }))
}
