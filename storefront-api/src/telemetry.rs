//! Logs, request ids and metrics.
//!
//! Every log line is JSON (or pretty for local reading) and carries the request id of the
//! request it belongs to; the same id is returned in the `x-request-id` response header.
//! Prometheus metrics count requests, time them and gauge those in flight per route template.

use std::{sync::OnceLock, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::{config::LogSettings, error::ApiError};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init_logging(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if settings.format == "pretty" {
        registry.with(fmt::layer()).try_init()
    } else {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()
    };
    drop(result);
}

fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Only the first app in a process installs the recorder; tests build many apps.
        drop(metrics::set_global_recorder(recorder));
        metrics::describe_counter!(
            "http_requests_total",
            "HTTP requests by method, route template and status."
        );
        metrics::describe_histogram!(
            "http_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time to answer an HTTP request, by method, route template and status."
        );
        metrics::describe_gauge!(
            "http_requests_in_flight",
            "HTTP requests being answered now, by method and route template, until their \
             answer starts (a streamed body is not counted): an instance's saturation."
        );
        metrics::describe_counter!(
            "catalog_cache_total",
            "Public catalog reads by cache result (hit or miss)."
        );
        metrics::describe_counter!(
            "catalog_cache_invalidation_failures_total",
            "Staff writes whose cache invalidation failed (reads stale until the TTL ends)."
        );
        metrics::describe_counter!(
            "checkouts_recovered_total",
            "Interrupted checkouts settled after their lease ran out, by how they ended \
             (paid, cancelled, freed, failed)."
        );
        handle
    })
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render_metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
        .into_response()
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let in_flight = InFlight::enter(&method, &route);
    let response = next.run(request).await;
    drop(in_flight);
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// One request counted in `http_requests_in_flight` until dropped — also when the client
/// goes away and the request's future is dropped mid-way, which a decrement after `.await`
/// would miss.
struct InFlight(metrics::Gauge);

impl InFlight {
    fn enter(method: &str, route: &str) -> Self {
        let gauge = metrics::gauge!(
            "http_requests_in_flight",
            "method" => method.to_owned(),
            "route" => route.to_owned()
        );
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// Wraps the router with request ids, tracing, metrics and panic containment.
pub fn instrument(router: Router) -> Router {
    prometheus();
    router
        .layer(middleware::from_fn(record_metrics))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        request_id,
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                // One INFO line per request, with status and latency, inside the request's span.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
