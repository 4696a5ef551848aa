//! Behaviour events: good entries of a batch are stored, bad ones come back with reasons.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::TryStreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::storage::{self, events::count_for_customer};

use crate::helpers::{TestApp, error_code};

#[api_test_stack::test]
async fn a_mixed_batch_stores_the_good_events_and_explains_the_bad() {
    let app = TestApp::spawn().await;
    let (token, customer_id) = app.customer().await;
    let now = Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let batch = json!({"events": [
        {"type": "session_start", "anonymous_id": "visitor-1", "occurred_at": at(10)},
        {"type": "product_view", "anonymous_id": "visitor-1", "occurred_at": at(9), "properties": {}},
        {"type": "product_view", "anonymous_id": "visitor-1", "occurred_at": at(8),
         "properties": {"product_id": "0195f3a2-0000-7000-8000-000000000001"}},
        {"type": "add_to_cart", "anonymous_id": "visitor-1", "occurred_at": "last tuesday",
         "properties": {"variant_id": "nope", "quantity": 1}},
        {"type": "search", "anonymous_id": "visitor-1", "occurred_at": at(7), "properties": {"query": "boots"}},
        "not an event"
    ]});
    let response = app
        .request(Method::POST, "/api/v1/events", Some(&token), Some(batch))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await.expect("json");
    assert_eq!(result["accepted"], 3);
    let rejected: Vec<u64> = result["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| r["index"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(rejected, [1, 3, 5]);
    assert!(
        result["rejected"][0]["reasons"][0]
            .as_str()
            .expect("reason")
            .contains("product_id")
    );
    assert_eq!(
        result["rejected"][1]["reasons"]
            .as_array()
            .expect("reasons")
            .len(),
        2,
        "every reason is given"
    );

    let mongo = storage::mongo_database(&app.settings.mongodb)
        .await
        .expect("mongo");
    let counts = count_for_customer(&mongo, customer_id, now - chrono::Duration::hours(1), now)
        .await
        .expect("counts");
    assert_eq!(
        counts,
        [
            ("product_view".to_owned(), 1),
            ("search".to_owned(), 1),
            ("session_start".to_owned(), 1)
        ],
        "stored against the customer of the session"
    );

    // The per-customer time-range index exists (created in the background at start).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names: Vec<String> = mongo
            .collection::<mongodb::bson::Document>("events")
            .list_index_names()
            .await
            .unwrap_or_default();
        if names.iter().any(|n| n == "customer_time") {
            break;
        }
        assert!(Instant::now() < deadline, "index missing: {names:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let anonymous: Vec<mongodb::bson::Document> = mongo
        .collection::<mongodb::bson::Document>("events")
        .find(mongodb::bson::doc! {"anonymous_id": "visitor-1"})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(anonymous.len(), 3);
}

#[api_test_stack::test]
async fn batches_must_hold_one_to_a_hundred_events() {
    let app = TestApp::spawn().await;
    let event = json!({"type": "session_start", "anonymous_id": "v", "occurred_at": Utc::now().to_rfc3339()});
    for size in [0, 101] {
        let batch = json!({"events": vec![event.clone(); size]});
        let response = app
            .request(Method::POST, "/api/v1/events", None, Some(batch))
            .await;
        assert_eq!(
            error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
            "validation_failed",
            "{size}"
        );
    }
    let response = app
        .request(
            Method::POST,
            "/api/v1/events",
            None,
            Some(json!({"events": vec![event; 100]})),
        )
        .await;
    let result: Value = response.json().await.expect("json");
    assert_eq!(result["accepted"], 100);
}
