//! Faults: a dependency the test owns — its own Redis, its own MongoDB-wire server — killed
//! while the shop runs, and started again. What stays up stays up, what cannot work answers
//! 503 `unavailable` naming the store, nothing is half-written, and the API recovers without
//! a restart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Options, RedisServer, TestApp, WireServer, free_port, unique_email};

/// A variant of the small catalog that has stock (Linen Shirt, S).
async fn linen_shirt_small(app: &TestApp) -> Uuid {
    let product: Value = app
        .get("/api/v1/products/linen-shirt")
        .await
        .json()
        .await
        .expect("product");
    product["product"]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|variant| variant["sku"] == "LS-S")
        .and_then(|variant| variant["id"].as_str())
        .expect("LS-S")
        .parse()
        .expect("uuid")
}

async fn add_to_cart(app: &TestApp, token: &str, variant: Uuid) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/cart/items",
        Some(token),
        Some(json!({"variant_id": variant, "quantity": 1})),
    )
    .await
}

/// Asserts a 503 `unavailable` that names `store` (in `details.dependency` and the message).
async fn unavailable_naming(response: reqwest::Response, store: &str, what: &str) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let body: Value = response.json().await.expect("an error envelope");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    assert_eq!(
        body["error"]["details"]["dependency"], store,
        "{what}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(store), "{what} names {store}: {message}");
}

async fn send_events(app: &TestApp, token: &str, batch: &Value) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/events",
        Some(token),
        Some(batch.clone()),
    )
    .await
}

async fn listing(app: &TestApp) -> Value {
    let response = app.get("/api/v1/products?sort=price_asc").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.expect("listing")["products"].clone()
}

async fn orders_placed(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("orders")
}

#[api_test_stack::test]
async fn with_redis_down_the_catalog_answers_sessions_and_carts_say_503_and_it_recovers() {
    let port = free_port();
    let mut redis = RedisServer::start(port);
    let app = TestApp::spawn_with(Options {
        redis_url: Some(redis.url()),
        ..Options::default()
    })
    .await;
    app.small_catalog().await;
    let variant = linen_shirt_small(&app).await;
    let (token, _) = app.customer().await;
    assert_eq!(
        add_to_cart(&app, &token, variant).await.status(),
        StatusCode::OK
    );
    let cached = listing(&app).await;

    redis.stop();
    // Public catalog reads go straight to PostgreSQL, and answer the same.
    assert_eq!(listing(&app).await, cached);
    assert_eq!(
        app.get("/api/v1/products/linen-shirt").await.status(),
        StatusCode::OK
    );
    // Sessions and carts live in Redis: logging in, the cart and checkout cannot work.
    let login = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": unique_email("nobody"), "password": "correct horse battery"})),
        )
        .await;
    unavailable_naming(login, "redis", "login").await;
    unavailable_naming(add_to_cart(&app, &token, variant).await, "redis", "cart").await;
    unavailable_naming(
        app.checkout_approved(&token, "redis-down").await,
        "redis",
        "checkout",
    )
    .await;
    assert_eq!(orders_placed(&app).await, 0, "nothing half-written");
    let readiness = app.get("/readyz").await;
    assert_eq!(readiness.status(), StatusCode::SERVICE_UNAVAILABLE);
    let readiness: Value = readiness.json().await.expect("readiness");
    assert_eq!(readiness["checks"]["redis"]["status"], "down");

    // Back (empty: nothing was persisted), and the same process serves sessions again.
    let _redis = RedisServer::start(port);
    let (token, _) = app.customer().await;
    assert_eq!(
        add_to_cart(&app, &token, variant).await.status(),
        StatusCode::OK
    );
    let paid = app.checkout_approved(&token, "redis-back").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    assert_eq!(orders_placed(&app).await, 1);
}

#[api_test_stack::test]
async fn with_mongodb_down_shoppers_still_buy_and_events_and_reviews_say_503() {
    let storage = std::env::temp_dir().join(format!("nexus-faults-{}", Uuid::new_v4()));
    let port = free_port();
    let mut mongo = WireServer::start(port, storage.clone());
    let app = TestApp::spawn_with(Options {
        mongodb_uri: Some(format!("mongodb://127.0.0.1:{port}/?directConnection=true")),
        ..Options::default()
    })
    .await;
    app.small_catalog().await;
    let variant = linen_shirt_small(&app).await;
    let (token, _) = app.customer().await;
    let event = json!({"events": [{
        "type": "session_start", "anonymous_id": "visitor-1",
        "occurred_at": chrono::Utc::now().to_rfc3339()
    }]});

    mongo.stop();
    // Catalog, cart and checkout need only PostgreSQL and Redis.
    assert_eq!(app.get("/api/v1/products").await.status(), StatusCode::OK);
    assert_eq!(
        add_to_cart(&app, &token, variant).await.status(),
        StatusCode::OK
    );
    let paid = app.checkout_approved(&token, "mongodb-down").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    // Events and reviews live in MongoDB: a clear 503 (the shop keeps the events and sends
    // them again), not a 500, not a silent success.
    let events = send_events(&app, &token, &event).await;
    unavailable_naming(events, "mongodb", "events").await;
    let reviews = app.get("/api/v1/products/linen-shirt/reviews").await;
    unavailable_naming(reviews, "mongodb", "reviews").await;

    // The staff dashboard needs no MongoDB: its churn bands are counted in PostgreSQL.
    let staff = app.staff().await;
    let dashboard = app
        .request(Method::GET, "/api/v1/admin/dashboard", Some(&staff), None)
        .await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    let dashboard: Value = dashboard.json().await.expect("dashboard");
    assert_eq!(dashboard["today"][0]["orders"], 1, "{dashboard}");

    // A fresh storage directory: the killed server may have left its lock behind.
    let restarted_storage = std::env::temp_dir().join(format!("nexus-faults-{}", Uuid::new_v4()));
    let _mongo = WireServer::start(port, restarted_storage.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let events = send_events(&app, &token, &event).await;
        if events.status() == StatusCode::OK {
            let result: Value = events.json().await.expect("json");
            assert_eq!(result["accepted"], 1);
            break;
        }
        // The driver finds the server again on its next monitor round.
        assert_eq!(events.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            std::time::Instant::now() < deadline,
            "events stayed 503 for 60 s"
        );
    }
    drop(std::fs::remove_dir_all(storage));
    drop(std::fs::remove_dir_all(restarted_storage));
}
