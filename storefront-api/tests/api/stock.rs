//! Staff stock adjustments and the stock ledger.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::storage::catalog::ledger_mismatches;

use crate::helpers::{ProductSpec, TestApp, error_code};

#[tokio::test]
async fn adjustments_are_ledger_rows_that_sum_to_stock_on_hand() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let category = app.category(&token, "Bags", None).await;
    let (_, variants) = app
        .product(
            &token,
            ProductSpec {
                name: "Canvas Tote",
                description: "Sturdy canvas tote bag.",
                category,
                variants: &[("TOTE-1", 2500, 3)],
            },
        )
        .await;
    let variant = variants[0];
    let path = format!("/api/v1/admin/variants/{variant}/stock-adjustments");
    for (delta, reason) in [(10, "restock"), (-2, "damaged"), (-4, "correction")] {
        let response = app
            .request(
                Method::POST,
                &path,
                Some(&token),
                Some(json!({"delta": delta, "reason": reason, "note": "count"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{reason}");
    }
    // Stock never goes below zero: 7 on hand, removing 8 is refused and changes nothing.
    let response = app
        .request(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"delta": -8, "reason": "lost"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "insufficient_stock"
    );
    // A reason must fit its direction.
    let response = app
        .request(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"delta": -1, "reason": "restock"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );

    let ledger: Value = app
        .request(Method::GET, &path, Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let movements = ledger["movements"].as_array().expect("movements");
    let deltas: Vec<i64> = movements
        .iter()
        .map(|m| m["delta"].as_i64().expect("delta"))
        .collect();
    assert_eq!(
        deltas,
        [-4, -2, 10, 3],
        "newest first, initial stock included"
    );
    assert_eq!(movements[0]["stock_after"], 7);

    let public: Value = app
        .get("/api/v1/products/canvas-tote")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(public["product"]["variants"][0]["stock_on_hand"], 7);
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);
}

#[tokio::test]
async fn selling_out_marks_the_product_out_of_stock() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let category = app.category(&token, "Mugs", None).await;
    let (_, variants) = app
        .product(
            &token,
            ProductSpec {
                name: "Enamel Mug",
                description: "Camp mug.",
                category,
                variants: &[("MUG-1", 1200, 1)],
            },
        )
        .await;
    let path = format!("/api/v1/admin/variants/{}/stock-adjustments", variants[0]);
    let response = app
        .request(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"delta": -1, "reason": "lost"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let listed: Value = app
        .get("/api/v1/products?in_stock=true")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["products"].as_array().expect("products").len(), 0);
    let detail: Value = app
        .get("/api/v1/products/enamel-mug")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["product"]["in_stock"], false);
}
