//! Webhook endpoints and their delivery logs (`integrations`): register, change, disable,
//! rotate the secret, remove; read every delivery and attempt; replay a message.

use axum::{extract::State, http::StatusCode};
use storefront_client::{
    lists::CountMeta,
    staff::webhooks::{
        DeliveryQuery, NewWebhookEndpoint, WebhookDeliveryEnvelope, WebhookDeliveryPage,
        WebhookEndpointEnvelope, WebhookEndpointList, WebhookEndpointPatch,
        WebhookEndpointWithSecret, WebhookTopics,
    },
    webhooks::TOPICS,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    error::{ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(topics))
        .routes(routes!(get_endpoint, change_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
}

/// Every webhook endpoint, oldest first, with its waiting deliveries.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "admin",
    responses((status = 200, body = WebhookEndpointList)), security(("bearer" = ["integrations"])))]
pub async fn list_endpoints(State(state): State<AppState>) -> ApiResult<Json<WebhookEndpointList>> {
    let webhook_endpoints = storage::webhooks::endpoints(&state.db).await?;
    Ok(Json(WebhookEndpointList {
        meta: CountMeta::of(&webhook_endpoints),
        webhook_endpoints,
    }))
}

/// Registers an endpoint for some topics. The URL must be https (http only where the shop
/// allows it) and neither name nor resolve to a loopback, link-local or private address
/// (unless allowed). The answer holds the signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "admin", request_body = NewWebhookEndpoint,
    responses((status = 201, body = WebhookEndpointWithSecret), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<NewWebhookEndpoint>,
) -> ApiResult<(StatusCode, Json<WebhookEndpointWithSecret>)> {
    let created = crate::webhooks::register(&state, &draft, session.account_id).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The topics an endpoint can subscribe to.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/topics", tag = "admin",
    responses((status = 200, body = WebhookTopics)), security(("bearer" = ["integrations"])))]
pub async fn topics() -> Json<WebhookTopics> {
    Json(WebhookTopics {
        topics: TOPICS.iter().map(|topic| (*topic).to_owned()).collect(),
    })
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook endpoint id")),
    responses((status = 200, body = WebhookEndpointEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WebhookEndpointEnvelope>> {
    let webhook_endpoint = storage::webhooks::endpoint(&state.db, id).await?;
    Ok(Json(WebhookEndpointEnvelope { webhook_endpoint }))
}

/// Changes an endpoint's URL, topics or description, or disables it (`enabled: false`) or
/// turns it back on (`enabled: true`; what waited for it is sent then).
#[utoipa::path(patch, path = "/api/v1/admin/webhooks/{id}", tag = "admin", request_body = WebhookEndpointPatch,
    params(("id" = Uuid, Path, description = "Webhook endpoint id")),
    responses((status = 200, body = WebhookEndpointEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn change_endpoint(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<WebhookEndpointPatch>,
) -> ApiResult<Json<WebhookEndpointEnvelope>> {
    let webhook_endpoint = crate::webhooks::change(&state, id, &patch, session.account_id).await?;
    Ok(Json(WebhookEndpointEnvelope { webhook_endpoint }))
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook endpoint id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    storage::webhooks::delete(&state.db, id, session.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the endpoint a new signing secret (shown this once); the old one stops at once.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/rotate-secret", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook endpoint id")),
    responses((status = 200, body = WebhookEndpointWithSecret), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WebhookEndpointWithSecret>> {
    Ok(Json(
        crate::webhooks::rotate_secret(&state, id, session.account_id).await?,
    ))
}

/// The endpoint's delivery log, newest first: each message's state and every attempt's
/// time, status code, latency and the first bytes of the answer.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook endpoint id"), DeliveryQuery),
    responses((status = 200, body = WebhookDeliveryPage), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<DeliveryQuery>,
) -> ApiResult<Json<WebhookDeliveryPage>> {
    let page = Page::parse(query.page, query.limit)?;
    let (deliveries, total) =
        storage::webhooks::deliveries(&state.db, id, query.status, page.limit, page.offset())
            .await?;
    Ok(Json(WebhookDeliveryPage {
        deliveries,
        meta: page.meta(total),
    }))
}

/// Sends a delivered or dead message again, with the same id (409 while it is pending).
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook endpoint id"),
           ("delivery_id" = i64, Path, description = "Delivery id", minimum = 1)),
    responses((status = 202, body = WebhookDeliveryEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["integrations"])))]
pub async fn replay(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path((id, delivery_id)): Path<(Uuid, i64)>,
) -> ApiResult<(StatusCode, Json<WebhookDeliveryEnvelope>)> {
    let delivery =
        storage::webhooks::replay(&state.db, id, delivery_id, session.account_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WebhookDeliveryEnvelope { delivery }),
    ))
}
