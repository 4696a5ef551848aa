//! Reviews: only after delivery, once per customer and product; ratings stay current in the
//! catalog; staff can hide a review.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::payments::test_cards;

use crate::helpers::{ProductSpec, TestApp, card_expiry_year, error_code};

async fn delivered_purchase(app: &TestApp, staff: &str, customer: &str, key: &str) {
    let response = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(customer)
        .header("idempotency-key", key)
        .json(&json!({
            "shipping_address": {"full_name": "A B", "line1": "Str 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "shipping_method": "express",
            "payment": {"card_number": test_cards::APPROVED, "expiry_month": 1, "expiry_year": card_expiry_year(), "cvc": "999"}
        }))
        .send()
        .await
        .expect("checkout");
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.expect("json");
    let id = order["order"]["id"].as_str().expect("id");
    app.deliver(staff, id).await;
}

#[api_test_stack::test]
async fn received_products_are_reviewed_once_and_ratings_stay_current() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let category = app.category(&staff, "Kettles", None).await;
    let (_, variants) = app
        .product(
            &staff,
            ProductSpec {
                name: "Copper Kettle",
                description: "Whistles.",
                category,
                variants: &[("KETTLE-1", 5900, 10)],
            },
        )
        .await;
    let review = |token: String, stars: i64| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/products/copper-kettle/reviews",
                Some(&token),
                Some(json!({"rating": stars, "title": "Kettle", "body": "Boils water."})),
            )
            .await
        }
    };
    let mut shoppers = Vec::new();
    for n in 0..2 {
        let (token, _) = app.customer().await;
        app.request(
            Method::POST,
            "/api/v1/cart/items",
            Some(&token),
            Some(json!({"variant_id": variants[0]})),
        )
        .await;
        shoppers.push((token, n));
    }
    // Before delivery: no review.
    let early = review(shoppers[0].0.clone(), 5).await;
    assert_eq!(
        error_code(early, StatusCode::CONFLICT).await,
        "not_received"
    );
    for (token, n) in &shoppers {
        delivered_purchase(&app, &staff, token, &format!("k-{n}")).await;
    }
    let bad = review(shoppers[0].0.clone(), 6).await;
    assert_eq!(
        error_code(bad, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    assert_eq!(
        review(shoppers[0].0.clone(), 5).await.status(),
        StatusCode::CREATED
    );
    let twice = review(shoppers[0].0.clone(), 1).await;
    assert_eq!(
        error_code(twice, StatusCode::CONFLICT).await,
        "already_reviewed"
    );
    let second = review(shoppers[1].0.clone(), 2).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let second: Value = second.json().await.expect("json");
    assert_eq!(second["review"]["reviewer"], "Test S.");

    let product: Value = app
        .get("/api/v1/products/copper-kettle")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        product["product"]["rating"],
        json!({"average": 3.5, "count": 2})
    );
    let listed: Value = app
        .get("/api/v1/products?category=kettles")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["products"][0]["rating"]["count"], 2);
    let page: Value = app
        .get("/api/v1/products/copper-kettle/reviews?limit=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["meta"]["total"], 2);
    assert_eq!(page["reviews"].as_array().expect("reviews").len(), 1);
    assert_eq!(page["reviews"][0]["rating"], 2, "newest first");

    // Staff hide the 2-star review: it leaves the page and the rating.
    let id = second["review"]["id"].as_str().expect("id");
    let hidden = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/reviews/{id}"),
            Some(&staff),
            Some(json!({"status": "hidden"})),
        )
        .await;
    assert_eq!(hidden.status(), StatusCode::OK);
    let product: Value = app
        .get("/api/v1/products/copper-kettle")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        product["product"]["rating"],
        json!({"average": 5.0, "count": 1})
    );
    let page: Value = app
        .get("/api/v1/products/copper-kettle/reviews")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["meta"]["total"], 1);
    let unknown = app
        .request(
            Method::PATCH,
            "/api/v1/admin/reviews/nope",
            Some(&staff),
            Some(json!({"status": "hidden"})),
        )
        .await;
    assert_eq!(
        error_code(unknown, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}
