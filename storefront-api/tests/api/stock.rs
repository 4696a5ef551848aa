//! Staff stock adjustments and the stock ledger.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::storage::stock::ledger_mismatches;

use crate::helpers::{ProductSpec, TestApp, error_code};

#[api_test_stack::test]
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

#[api_test_stack::test]
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
    // Warm the cached reads first: the write must invalidate them.
    let listed: Value = app
        .get("/api/v1/products?in_stock=true")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["products"].as_array().expect("products").len(), 1);
    let detail: Value = app
        .get("/api/v1/products/enamel-mug")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["product"]["in_stock"], true);
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

#[api_test_stack::test]
async fn the_ledger_of_an_unknown_variant_is_a_404() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/variants/0195f3a2-0000-7000-8000-000000000000/stock-adjustments",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}

/// Many staff adjusting the sibling variants of one product at once: every adjustment lands in
/// the ledger, stock matches it, and the product's roll-ups (in stock, price from) are right
/// at the end, whichever transaction committed last.
#[api_test_stack::test]
async fn concurrent_adjustments_keep_ledger_and_rollups_exact() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let category = app.category(&token, "Lamps", None).await;
    let (_, variants) = app
        .product(
            &token,
            ProductSpec {
                name: "Desk Lamp",
                description: "Brass desk lamp.",
                category,
                variants: &[("LAMP-A", 4000, 0), ("LAMP-B", 3000, 40)],
            },
        )
        .await;
    let (a, b) = (variants[0], variants[1]);
    // 40 restocks of A by 1 and 40 write-offs of B by 1, interleaved, all at once.
    let requests = (0..80).map(|n| {
        let (variant, body) = if n % 2 == 0 {
            (a, json!({"delta": 1, "reason": "restock"}))
        } else {
            (b, json!({"delta": -1, "reason": "damaged"}))
        };
        let path = format!("/api/v1/admin/variants/{variant}/stock-adjustments");
        let (app, token) = (&app, &token);
        async move {
            app.request(Method::POST, &path, Some(token), Some(body))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );

    let product: Value = app
        .get("/api/v1/products/desk-lamp")
        .await
        .json()
        .await
        .expect("json");
    let stock: Vec<i64> = product["product"]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["stock_on_hand"].as_i64().expect("stock"))
        .collect();
    assert_eq!(stock, [40, 0]);
    assert_eq!(product["product"]["in_stock"], true);
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);
    let in_stock: Value = app
        .get("/api/v1/products?in_stock=true")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(in_stock["products"][0]["slug"], "desk-lamp");
}
