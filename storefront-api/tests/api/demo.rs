//! The demo shop loads once, keeps the catalog invariants, and is browsable through the API
//! with the demo logins the README gives.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{
    demo::{self, DemoOutcome},
    storage::catalog::ledger_mismatches,
};

use crate::helpers::TestApp;

#[tokio::test]
async fn demo_shop_loads_once_and_is_browsable() {
    let app = TestApp::spawn().await;
    let outcome = demo::load(&app.db, demo::DEFAULT_SEED).await.expect("load");
    let DemoOutcome::Loaded { counts, .. } = outcome else {
        panic!("a fresh database gets the demo shop");
    };
    assert!(
        counts.products >= 500 && counts.customers >= 5_000,
        "{counts:?}"
    );
    assert!(matches!(
        demo::load(&app.db, demo::DEFAULT_SEED)
            .await
            .expect("second load"),
        DemoOutcome::AlreadyPresent
    ));
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);

    let tree: Value = app
        .get("/api/v1/categories")
        .await
        .json()
        .await
        .expect("json");
    let leaves: usize = tree["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|department| department["children"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(leaves >= 20, "{leaves} sub-categories");

    let found: Value = app
        .get("/api/v1/search?q=merino")
        .await
        .json()
        .await
        .expect("json");
    assert!(found["meta"]["total"].as_i64().expect("total") > 0);

    let customer = demo::customer_email(1);
    for (email, password, role) in [
        (demo::ADMIN_EMAIL, demo::ADMIN_PASSWORD, "admin"),
        (demo::STAFF_EMAIL, demo::STAFF_PASSWORD, "staff"),
        (customer.as_str(), demo::CUSTOMER_PASSWORD, "customer"),
    ] {
        let response = app
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{email}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["session"]["account"]["role"], role);
    }
}
