//! The HTTP surface: every API route is registered through utoipa-axum, so the OpenAPI
//! document at `/openapi.json` lists exactly what the router serves.

pub mod admin;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod checkout;
mod common_errors;
pub mod events;
pub mod health;
pub mod marketing;
pub mod me;
pub mod paging;
pub mod reviews;

use axum::{
    Router,
    extract::Request,
    middleware::{self, Next},
    response::Response,
    routing::get,
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    auth::{AdminGate, require_permission},
    error::ApiError,
    state::AppState,
    telemetry,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Nexus storefront API", description = "Headless commerce API of Nexus. \
        Errors always have the body `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    modifiers(&SecurityAddon),
    tags(
        (name = "catalog", description = "Products, categories and search"),
        (name = "accounts", description = "Registration, sessions, profile and addresses"),
        (name = "cart", description = "Guest and customer carts"),
        (name = "checkout", description = "Checkout and the customer's orders"),
        (name = "events", description = "Behaviour events from the shop"),
        (name = "admin", description = "Staff only"),
        (name = "churn", description = "Staff only: churn model registry, scoring and score-all jobs"),
        (name = "campaigns", description = "Staff only: retention campaigns with a holdout, and their results"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API routes and their OpenAPI document; an error if an admin route does not name its
/// permission (the API then refuses to start).
pub fn api(state: &AppState) -> anyhow::Result<(Router<AppState>, utoipa::openapi::OpenApi)> {
    let admin = admin::router();
    let gate = AdminGate::new(state.clone(), admin.get_openapi())
        .map_err(|problem| anyhow::anyhow!("the admin routes' permissions: {problem}"))?;
    let admin = admin.route_layer(middleware::from_fn_with_state(gate, require_permission));
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::api_index))
        .merge(catalog::router())
        .merge(auth::router())
        .merge(cart::router())
        .merge(checkout::router())
        .merge(events::router())
        .merge(reviews::router())
        .merge(me::router())
        .merge(marketing::router())
        .merge(admin)
        .split_for_parts();
    common_errors::declare(&mut openapi);
    Ok((router, openapi))
}

/// The whole application router: API, docs, metrics and envelope-shaped fallbacks.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let (api, openapi) = api(&state)?;
    // No validator badge: the docs UI must not call out to the internet.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", openapi)
        .config(utoipa_swagger_ui::Config::default().validator_url("none"));
    Ok(api
        .merge(docs)
        .route("/metrics", get(telemetry::render_metrics))
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(reject_nul_in_url))
        .with_state(state))
}

/// PostgreSQL cannot store NUL characters; a URL that carries one (`%00`) is refused before
/// any handler sees it.
async fn reject_nul_in_url(request: Request, next: Next) -> Result<Response, ApiError> {
    let has_nul = |part: &str| {
        part.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    let uri = request.uri();
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return Err(ApiError::bad_request(
            "invalid_characters",
            "The URL contains a NUL character (%00).",
        ));
    }
    Ok(next.run(request).await)
}
