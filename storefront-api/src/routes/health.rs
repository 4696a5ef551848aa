//! Liveness, readiness and metrics for operators.

use std::{collections::BTreeMap, time::Instant};

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Liveness {
    status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Liveness)))]
pub async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct DependencyCheck {
    /// `up` or `down`.
    status: &'static str,
    latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    checks: BTreeMap<&'static str, DependencyCheck>,
}

async fn check<F, E>(timeout: std::time::Duration, probe: F) -> DependencyCheck
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, probe).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("no answer within {} ms", timeout.as_millis())),
    };
    DependencyCheck {
        status: if error.is_none() { "up" } else { "down" },
        latency_ms,
        error,
    }
}

/// Ready to serve traffic: PostgreSQL, Redis and MongoDB each answer within the bounded
/// timeout. 503 names every dependency that did not.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let timeout = std::time::Duration::from_millis(state.settings.http.readiness_timeout_ms);
    let mut redis = state.redis.clone();
    let (postgres, redis, mongodb) = tokio::join!(
        check(timeout, async {
            sqlx::query("SELECT 1").execute(&state.db).await.map(drop)
        }),
        check(timeout, async {
            redis::cmd("PING")
                .query_async::<String>(&mut redis)
                .await
                .map(drop)
        }),
        check(timeout, async {
            state
                .mongo
                .run_command(mongodb::bson::doc! { "ping": 1 })
                .await
                .map(drop)
        }),
    );
    let checks = BTreeMap::from([
        ("postgres", postgres),
        ("redis", redis),
        ("mongodb", mongodb),
    ]);
    let ready = checks.values().all(|check| check.error.is_none());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" },
            checks,
        }),
    )
}

#[derive(Serialize, ToSchema)]
pub struct ApiIndex {
    api: ApiLinks,
}

#[derive(Serialize, ToSchema)]
pub struct ApiLinks {
    name: &'static str,
    version: &'static str,
    docs: &'static str,
    openapi: &'static str,
}

/// Where the API documents itself.
#[utoipa::path(get, path = "/api/v1", tag = "operations",
    responses((status = 200, body = ApiIndex)))]
pub async fn api_index() -> Json<ApiIndex> {
    Json(ApiIndex {
        api: ApiLinks {
            name: "Nexus storefront API",
            version: env!("CARGO_PKG_VERSION"),
            docs: "/docs",
            openapi: "/openapi.json",
        },
    })
}
