//! Every `/api/v1/admin` route refuses anonymous callers (401) and customers (403). The
//! routes are read from the OpenAPI document, which is generated from the router itself, so
//! a new admin route is covered without touching this test.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn every_admin_route_requires_staff() {
    let app = TestApp::spawn().await;
    let (customer, _) = app.customer().await;
    let openapi: Value = app
        .get("/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    let paths = openapi["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, operations) in paths
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/admin"))
    {
        let concrete = path
            .replace("{id}", "0195f3a2-0000-7000-8000-000000000000")
            .replace("{version}", "gradient_boosting-20261129T120000Z");
        assert!(
            !concrete.contains('{'),
            "unhandled path parameter in {path}"
        );
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            let anonymous = app.request(method.clone(), &concrete, None, None).await;
            assert_eq!(
                error_code(anonymous, StatusCode::UNAUTHORIZED).await,
                "unauthenticated",
                "{method} {path} anonymous"
            );
            let as_customer = app
                .request(method.clone(), &concrete, Some(&customer), None)
                .await;
            assert_eq!(
                error_code(as_customer, StatusCode::FORBIDDEN).await,
                "forbidden",
                "{method} {path} as customer"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} admin operations found");
}

#[tokio::test]
async fn public_registration_cannot_make_staff() {
    let app = TestApp::spawn().await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(serde_json::json!({
                "email": "sneaky@example.com", "password": "correct horse battery",
                "full_name": "Sneaky", "role": "admin"
            })),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}
