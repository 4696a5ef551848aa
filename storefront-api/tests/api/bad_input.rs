//! Client mistakes get a 4xx with the error envelope, never a panic or a 500.

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[api_test_stack::test]
async fn malformed_json_wrong_types_and_unknown_fields() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let raw = |body: &'static str| {
        app.client
            .post(app.url("/api/v1/admin/categories"))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let response = raw("{\"name\": ").await.expect("send");
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );
    let response = raw("{\"name\": 42}").await.expect("send");
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = raw("{\"name\": \"Hats\", \"colour\": \"red\"}")
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app
        .client
        .post(app.url("/api/v1/admin/categories"))
        .bearer_auth(&token)
        .body("name=Hats")
        .send()
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "unsupported_media_type"
    );
}

#[api_test_stack::test]
async fn negative_prices_and_out_of_range_values() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let category = app.category(&token, "Hats", None).await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/products",
            Some(&token),
            Some(json!({"name": "Cap", "category_id": category, "currency": "EURO"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/products",
            Some(&token),
            Some(json!({"name": "Cap", "category_id": category, "currency": "EUR"})),
        )
        .await;
    let body: serde_json::Value = response.json().await.expect("json");
    let id = body["product"]["id"].as_str().expect("id");
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/products/{id}/variants"),
            Some(&token),
            Some(json!({"sku": "CAP-1", "title": "Cap", "price_minor": -100})),
        )
        .await;
    let response_body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(response_body["error"]["code"], "validation_failed");
    assert_eq!(
        response_body["error"]["details"]["fields"][0]["field"],
        "price_minor"
    );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/admin/products/{id}/variants")))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"sku": "CAP-1", "title": "Cap", "price_minor": 99999999999999999999}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app.get("/api/v1/products?limit=0").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app.get("/api/v1/products?min_price=-1").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app.get("/api/v1/products?min_price=ten").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app.get("/api/v1/products?cursor=bogus").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    // Activating a product without variants is a conflict, not a crash.
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/products/{id}"),
            Some(&token),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "product_has_no_variants"
    );
}

#[api_test_stack::test]
async fn oversized_bodies_unknown_ids_routes_and_methods() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let huge = "x".repeat(app.settings.http.body_limit_bytes + 1);
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(&token),
            Some(json!({"name": huge})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/products/not-a-uuid",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "invalid_path"
    );
    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/products/0195f3a2-0000-7000-8000-000000000000",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let response = app
        .request(Method::DELETE, "/api/v1/products", None, None)
        .await;
    assert_eq!(
        error_code(response, StatusCode::METHOD_NOT_ALLOWED).await,
        "method_not_allowed"
    );
    let response = app.get("/api/v1/products/unknown-product").await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}

#[api_test_stack::test]
async fn nul_characters_huge_pages_and_huge_adjustments_are_client_errors() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let response = app.get("/api/v1/products/a%00b").await;
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "invalid_characters"
    );
    let response = app.get("/api/v1/products?category=%00").await;
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "invalid_characters"
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"email": "nul@example.com", "password": "correct horse battery", "full_name": "N\u0000L"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    for path in [
        "/api/v1/admin/products?page=9223372036854775807",
        "/api/v1/admin/customers?page=0",
    ] {
        let response = app.request(Method::GET, path, Some(&token), None).await;
        assert_eq!(
            error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
            "validation_failed",
            "{path}"
        );
    }
    let category = app.category(&token, "Crates", None).await;
    let (_, variants) = app
        .product(
            &token,
            crate::helpers::ProductSpec {
                name: "Wooden Crate",
                description: "Pine crate.",
                category,
                variants: &[("CRATE-1", 1500, 5)],
            },
        )
        .await;
    let path = format!("/api/v1/admin/variants/{}/stock-adjustments", variants[0]);
    for delta in [2_000_000_000_i64, i64::from(i32::MIN)] {
        let response = app
            .request(
                Method::POST,
                &path,
                Some(&token),
                Some(json!({"delta": delta, "reason": "correction"})),
            )
            .await;
        assert_eq!(
            error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
            "validation_failed"
        );
    }
}

#[api_test_stack::test]
async fn mistakes_name_the_field_and_public_reads_ignore_tracking_parameters() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let response = app.get("/api/v1/products?limit=abc").await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "limit");

    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(&token),
            Some(json!({"slug": "hats"})),
        )
        .await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["error"]["details"]["fields"][0],
        json!({"field": "name", "message": "is required"})
    );

    let response = app
        .get("/api/v1/products?utm_source=newsletter&limit=5")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.get("/api/v1/search?q=hat&fbclid=abc").await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The `field` and `message` of the first field error of a 422.
async fn first_field_error(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.expect("json");
    let field = &body["error"]["details"]["fields"][0];
    (
        field["field"].as_str().unwrap_or_default().to_owned(),
        field["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[api_test_stack::test]
async fn staff_and_shoppers_are_held_to_one_text_rule() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let control = "must not contain control characters".to_owned();
    let post = |path: &'static str, body: serde_json::Value| {
        app.request(Method::POST, path, Some(&token), Some(body))
    };

    let response = post("/api/v1/admin/categories", json!({"name": "Hats\u{7}"})).await;
    assert_eq!(
        first_field_error(response).await,
        ("name".to_owned(), control.clone())
    );
    let category = app.category(&token, "Hats", None).await;

    let long_name = "x".repeat(10_000);
    let response = post(
        "/api/v1/admin/products",
        json!({"name": long_name, "category_id": category, "currency": "EUR"}),
    )
    .await;
    assert_eq!(
        first_field_error(response).await,
        (
            "name".to_owned(),
            "must be at most 200 characters".to_owned()
        )
    );
    let response = post(
        "/api/v1/admin/products",
        json!({"name": "Cap", "category_id": category, "currency": "EUR",
               "description": "Warm.\u{8}"}),
    )
    .await;
    assert_eq!(
        first_field_error(response).await,
        ("description".to_owned(), control.clone())
    );
    // Prose keeps its line breaks.
    let response = post(
        "/api/v1/admin/products",
        json!({"name": "Cap", "category_id": category, "currency": "EUR",
               "description": "Warm.\n\nWool."}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["product"]["description"], "Warm.\n\nWool.");

    // A shopper's name, the same rule.
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": crate::helpers::unique_email("text"),
                        "password": "a long enough passphrase", "full_name": "\u{1b}[31mRed"})),
        )
        .await;
    assert_eq!(
        first_field_error(response).await,
        ("full_name".to_owned(), control)
    );

    // A lone surrogate cannot be text at all: the body is not JSON a program can read.
    let response = app
        .client
        .post(app.url("/api/v1/admin/categories"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"name": "Hats \ud800"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );
}

/// Too many header fields is a client's mistake like any other: 431 with the envelope (hyper
/// alone would answer an empty 431), while a request within the limit is served.
#[api_test_stack::test]
async fn too_many_headers_get_the_envelope() {
    let app = TestApp::spawn().await;
    let with_headers = |count: usize| {
        let mut request = reqwest::Client::new().get(app.url("/api/v1/categories"));
        for n in 0..count {
            request = request.header(format!("x-filler-{n}"), "1");
        }
        request
    };
    let served = with_headers(80).send().await.expect("request");
    assert_eq!(served.status(), StatusCode::OK);
    let refused = with_headers(150).send().await.expect("request");
    assert_eq!(
        refused.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert!(refused.headers().contains_key("x-request-id"));
    let body: serde_json::Value = refused.json().await.expect("the envelope");
    assert_eq!(body["error"]["code"], "too_many_headers");
    assert_eq!(body["error"]["details"]["limit"], 100);
}

/// A client that never finishes its request's headers (a slow-loris) loses its connection
/// after `http.header_read_timeout_secs`, and meanwhile others are served as usual.
#[api_test_stack::test]
async fn a_client_too_slow_to_send_its_headers_is_disconnected() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    let app = TestApp::spawn_with(crate::helpers::Options {
        settings: Some(|settings| settings.http.header_read_timeout_secs = 1),
        ..Default::default()
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&address).expect("connect");
    slow.write_all(b"GET /api/v1/categories HTTP/1.1\r\nHost: shop\r\nX-Slow: 1")
        .expect("a first part of the headers");
    let served = app
        .client
        .get(app.url("/api/v1/categories"))
        .send()
        .await
        .expect("another client");
    assert_eq!(served.status(), StatusCode::OK);

    // The test's own patience is far longer: the server, not the test, ends the connection.
    let started = Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        slow.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("a read timeout");
        let mut answer = Vec::new();
        match slow.read_to_end(&mut answer) {
            Ok(_) => answer,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => answer,
            Err(error) => panic!("the connection was not closed: {error}"),
        }
    })
    .await
    .expect("the slow client");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "closed only after {:?}",
        started.elapsed()
    );
    // Nothing was served on it (hyper may say 408 before closing).
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}
