//! Operators' endpoints: health, readiness with a real dependency outage, metrics, request
//! ids and the OpenAPI document with its offline docs UI.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Options, TestApp, WireServer, free_port};

/// Polls `/readyz` until it answers `expected` or 30 s pass; returns the last body.
async fn readiness_becomes(app: &TestApp, expected: StatusCode) -> Value {
    // Generous: a Python server starts slowly while compilers hold both cores.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let response = app.get("/readyz").await;
        let status = response.status();
        let body: Value = response.json().await.expect("readiness body");
        if status == expected {
            return body;
        }
        assert!(Instant::now() < deadline, "readyz stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[api_test_stack::test]
async fn readiness_names_a_stopped_mongodb_and_recovers() {
    let storage = std::env::temp_dir().join(format!("nexus-readyz-{}", uuid::Uuid::new_v4()));
    let port = free_port();
    let mut server = WireServer::start(port, storage.clone());
    let app = TestApp::spawn_with(Options {
        mongodb_uri: Some(format!("mongodb://127.0.0.1:{port}/?directConnection=true")),
        ..Options::default()
    })
    .await;

    let ready = readiness_becomes(&app, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
    for dependency in ["postgres", "redis", "mongodb"] {
        assert_eq!(ready["checks"][dependency]["status"], "up", "{dependency}");
    }

    server.stop();
    let down = readiness_becomes(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(down["status"], "not_ready");
    assert_eq!(down["checks"]["mongodb"]["status"], "down");
    assert!(down["checks"]["mongodb"]["error"].is_string());
    assert_eq!(down["checks"]["postgres"]["status"], "up");
    assert_eq!(down["checks"]["redis"]["status"], "up");
    let timeout_ms = app.settings.http.readiness_timeout_ms;
    assert!(
        down["checks"]["mongodb"]["latency_ms"]
            .as_u64()
            .expect("latency")
            <= timeout_ms + 500
    );

    // A fresh storage directory: the killed server may have left its lock behind, and
    // readiness needs a server, not its data.
    let restarted_storage =
        std::env::temp_dir().join(format!("nexus-readyz-{}", uuid::Uuid::new_v4()));
    let _restarted = WireServer::start(port, restarted_storage.clone());
    let again = readiness_becomes(&app, StatusCode::OK).await;
    assert_eq!(again["checks"]["mongodb"]["status"], "up");
    drop(std::fs::remove_dir_all(storage));
    drop(std::fs::remove_dir_all(restarted_storage));
}

#[api_test_stack::test]
async fn health_metrics_request_ids_and_docs() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    assert_eq!(request_id.len(), 36, "a uuid request id: {request_id}");
    // Which instance answered (the gateway passes it on): its host name and port by default,
    // on every answer, a 404 too.
    let port = app.address.rsplit(':').next().expect("port");
    let instance = response.headers()["x-nexus-instance"]
        .to_str()
        .expect("instance");
    assert!(instance.ends_with(&format!(":{port}")), "{instance}");
    let missing = app.get("/api/v1/no-such-thing").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["x-nexus-instance"], instance);
    let named = TestApp::spawn_with(Options {
        settings: Some(|settings| settings.http.instance_name = "api-2".into()),
        ..Options::default()
    })
    .await;
    let response = named.get("/healthz").await;
    assert_eq!(response.headers()["x-nexus-instance"], "api-2");

    // A caller's own request id is kept.
    let response = app
        .client
        .get(app.url("/api/v1/categories"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");

    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("http_requests_total")
                && line.contains("route=\"/api/v1/categories\"")),
        "per-route counter missing:\n{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "latency histogram missing"
    );
    // The scrape itself is in flight on its route while it renders (other tests in this
    // process share the recorder, so at least one).
    let scrapes_in_flight = metrics
        .lines()
        .find(|line| {
            line.starts_with("http_requests_in_flight{") && line.contains("route=\"/metrics\"")
        })
        .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(
        scrapes_in_flight.is_some_and(|count| count >= 1.0),
        "in-flight gauge missing:\n{metrics}"
    );

    let openapi: Value = app
        .get("/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    assert!(
        openapi["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    assert!(openapi["paths"]["/api/v1/products"]["get"].is_object());
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger"), "docs UI served");
    assert!(
        !html.contains("https://"),
        "docs UI loads nothing from the internet"
    );
}

fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[api_test_stack::test]
async fn the_openapi_document_has_no_dangling_references() {
    let app = TestApp::spawn().await;
    let openapi: Value = app
        .get("/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    let mut found = Vec::new();
    refs(&openapi, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .expect("a schema reference");
        assert!(
            openapi["components"]["schemas"].get(name).is_some(),
            "{target} is referenced but not defined"
        );
    }
    // An audit entry's `before` is null for a creation: the schema must allow it.
    let before = &openapi["components"]["schemas"]["AuditEntry"]["properties"]["before"];
    assert!(before.to_string().contains("null"), "{before}");
    let index: Value = app.get("/api/v1").await.json().await.expect("index");
    assert_eq!(index["api"]["docs"], "/docs");
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .expect("js");
    let compact: String = initializer.split_whitespace().collect();
    assert!(
        compact.contains("\"validatorUrl\":\"none\""),
        "{initializer}"
    );
}

#[api_test_stack::test]
async fn catalog_reads_revalidate_with_etags_and_compress() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let first = app.get("/api/v1/products/linen-shirt").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let again = app
        .client
        .get(app.url("/api/v1/products/linen-shirt"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        again.status(),
        StatusCode::NOT_MODIFIED,
        "{etag} vs {:?}",
        again.headers().get("etag")
    );
    assert!(again.bytes().await.expect("body").is_empty());
    let other = app
        .client
        .get(app.url("/api/v1/products/oxford-shirt"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another document, another tag"
    );

    let gzipped = app
        .client
        .get(app.url("/api/v1/products"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
}
