//! Liveness, readiness and metrics for operators.

use std::{collections::BTreeMap, time::Instant};

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use storefront_client::health::{
    ApiIndex, ApiLinks, DependencyCheck, DependencyStatus, Liveness, Readiness, ReadinessStatus,
};

use crate::{state::AppState, storage::health};

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Liveness)))]
pub async fn healthz() -> Json<Liveness> {
    Json(Liveness {
        status: "ok".into(),
    })
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
        status: if error.is_none() {
            DependencyStatus::Up
        } else {
            DependencyStatus::Down
        },
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
    let (postgres, redis, mongodb) = tokio::join!(
        check(timeout, health::ping_postgres(&state.db)),
        check(timeout, health::ping_redis(&state.redis)),
        check(timeout, health::ping_mongo(&state.mongo)),
    );
    let checks = BTreeMap::from([
        ("postgres".to_owned(), postgres),
        ("redis".to_owned(), redis),
        ("mongodb".to_owned(), mongodb),
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
            status: if ready {
                ReadinessStatus::Ready
            } else {
                ReadinessStatus::NotReady
            },
            checks,
        }),
    )
}

/// Where the API documents itself.
#[utoipa::path(get, path = "/api/v1", tag = "operations",
    responses((status = 200, body = ApiIndex)))]
pub async fn api_index() -> Json<ApiIndex> {
    Json(ApiIndex {
        api: ApiLinks {
            name: "Nexus storefront API".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            docs: "/docs".into(),
            openapi: "/openapi.json".into(),
        },
    })
}
