//! Checkout: idempotency, payments, stock safety under concurrency, and the customer's orders.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{
    payments::test_cards,
    storage::{consistency, stock::ledger_mismatches},
};
use uuid::Uuid;

use crate::helpers::{TestApp, checkout_body, error_code};

fn body(card: &str) -> Value {
    checkout_body(card)
}

async fn checkout(
    app: &TestApp,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.expect("checkout")
}

async fn stocked_variant(app: &TestApp, staff: &str, stock: i32) -> Uuid {
    app.stocked_variant(staff, stock).await
}

async fn add_to_cart(app: &TestApp, token: &str, variant: Uuid, quantity: i32) {
    app.add_to_cart(token, variant, quantity).await;
}

async fn stock_of(app: &TestApp, variant: Uuid) -> i64 {
    let product: Value = app
        .get("/api/v1/products/limited-edition-poster")
        .await
        .json()
        .await
        .expect("json");
    product["product"]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["id"] == variant.to_string())
        .and_then(|v| v["stock_on_hand"].as_i64())
        .unwrap_or_default()
}

#[api_test_stack::test]
async fn a_customer_checks_out_and_finds_the_order() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 5).await;
    let (token, account) = app.customer().await;
    add_to_cart(&app, &token, variant, 2).await;

    let response = checkout(&app, &token, None, &body(test_cards::APPROVED)).await;
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "idempotency_key_required"
    );

    let response = checkout(&app, &token, Some("order-1"), &body(test_cards::APPROVED)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let placed: Value = response.json().await.expect("json");
    let order = &placed["order"];
    assert_eq!(order["status"], "paid");
    assert_eq!(order["account_id"], account.to_string());
    // 2 × 25.00 = 50.00 reaches free standard shipping; German prices include 19 % VAT:
    // 50.00 − 50.00 / 1.19 = 7.98 of the 50.00 is tax, and the line says so.
    assert_eq!(order["totals"]["subtotal"]["amount_minor"], 5000);
    assert_eq!(order["totals"]["shipping"]["amount_minor"], 0);
    assert_eq!(order["totals"]["prices_include_tax"], true);
    assert_eq!(order["totals"]["tax"]["amount_minor"], 798);
    assert_eq!(order["totals"]["shipping_tax"]["amount_minor"], 0);
    assert_eq!(order["lines"][0]["tax_minor"], 798);
    assert_eq!(order["totals"]["total"]["amount_minor"], 5000);
    assert_eq!(order["payments"][0]["outcome"], "succeeded");
    assert_eq!(order["payments"][0]["card_last4"], "4242");
    assert_eq!(stock_of(&app, variant).await, 3);
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);

    let cart: Value = app
        .request(Method::GET, "/api/v1/cart", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        cart["cart"]["lines"].as_array().expect("lines").is_empty(),
        "the cart is emptied"
    );

    let id = order["id"].as_str().expect("id");
    let history: Value = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(history["orders"][0]["id"], id);
    assert_eq!(history["meta"]["total"], 1);
    let mine = app
        .request(
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);

    // Customer B cannot read customer A's order.
    let (other, _) = app.customer().await;
    let theirs = app
        .request(
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(error_code(theirs, StatusCode::NOT_FOUND).await, "not_found");
    let empty = checkout(&app, &other, Some("b-1"), &body(test_cards::APPROVED)).await;
    assert_eq!(error_code(empty, StatusCode::CONFLICT).await, "cart_empty");
}

#[api_test_stack::test]
async fn a_repeated_key_replays_and_a_reused_key_is_refused() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 5).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 1).await;
    let first = checkout(&app, &token, Some("same-key"), &body(test_cards::APPROVED)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = checkout(&app, &token, Some("same-key"), &body(test_cards::APPROVED)).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.expect("json"),
        first,
        "replayed byte for byte"
    );
    let mut other_body = body(test_cards::APPROVED);
    other_body["shipping_method"] = json!("express");
    let reused = checkout(&app, &token, Some("same-key"), &other_body).await;
    assert_eq!(
        error_code(reused, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let history: Value = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(history["meta"]["total"], 1, "never a second order");
    assert_eq!(stock_of(&app, variant).await, 4);
}

/// A first request that died mid-flight leaves its key "in progress": a retry must hear 409
/// `checkout_in_progress` within the request deadline, not wait it out into a 503.
#[api_test_stack::test]
async fn a_retry_behind_a_stuck_first_request_hears_409_not_a_timeout() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 5).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 1).await;
    let first = checkout(&app, &token, Some("stuck-key"), &body(test_cards::APPROVED)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // As if the process had died after placing the order, before recording the answer.
    sqlx::query(
        "UPDATE checkout_requests SET response_status = NULL, response_body = NULL,
                completed_at = NULL WHERE idempotency_key = $1",
    )
    .bind("stuck-key")
    .execute(&app.db)
    .await
    .expect("mark the key in progress");
    let retry = checkout(&app, &token, Some("stuck-key"), &body(test_cards::APPROVED)).await;
    assert_eq!(
        error_code(retry, StatusCode::CONFLICT).await,
        "checkout_in_progress"
    );
}

/// Once a stuck first request's lease has run out (it was cancelled by its deadline, or its
/// process died), a retry takes it over and hears the final answer: the order it placed,
/// not a second one.
#[api_test_stack::test]
async fn a_retry_after_the_first_requests_lease_ran_out_hears_the_order_it_placed() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 5).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 1).await;
    let first = checkout(
        &app,
        &token,
        Some("lapsed-key"),
        &body(test_cards::APPROVED),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let placed: Value = first.json().await.expect("json");
    // As if the process had died after paying, before recording the answer, long enough ago.
    sqlx::query(
        "UPDATE checkout_requests SET response_status = NULL, response_body = NULL,
                completed_at = NULL, lease_expires_at = now() - interval '1 second'
          WHERE idempotency_key = $1",
    )
    .bind("lapsed-key")
    .execute(&app.db)
    .await
    .expect("let the key's lease lapse");
    let retry = checkout(
        &app,
        &token,
        Some("lapsed-key"),
        &body(test_cards::APPROVED),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    let retried: Value = retry.json().await.expect("json");
    assert_eq!(retried["order"]["id"], placed["order"]["id"]);
    assert_eq!(retried["order"]["status"], "paid");
    let history: Value = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(history["meta"]["total"], 1, "one order, not two");
    assert_eq!(stock_of(&app, variant).await, 4);
}

#[api_test_stack::test]
async fn twenty_concurrent_requests_with_one_key_make_one_order() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 50).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 1).await;
    let payload = body(test_cards::APPROVED);
    let attempts = (0..20).map(|_| {
        let (app, token, payload) = (&app, &token, &payload);
        async move {
            let response = checkout(app, token, Some("double-click"), payload).await;
            (
                response.status(),
                response.json::<Value>().await.expect("json"),
            )
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let (status, first) = &answers[0];
    assert_eq!(*status, StatusCode::CREATED);
    assert!(
        answers.iter().all(|(s, b)| s == status && b == first),
        "20 identical responses"
    );
    let history: Value = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(history["meta"]["total"], 1);
    assert_eq!(stock_of(&app, variant).await, 49);
}

#[api_test_stack::test]
async fn declined_and_failed_payments_keep_the_cart_and_release_the_stock() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 3).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 3).await;
    for (key, card, status, code) in [
        (
            "declined",
            test_cards::DECLINED,
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
        ),
        (
            "no-funds",
            test_cards::INSUFFICIENT_FUNDS,
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
        ),
        (
            "outage",
            test_cards::PROVIDER_OUTAGE,
            StatusCode::SERVICE_UNAVAILABLE,
            "payment_unavailable",
        ),
    ] {
        let response = checkout(&app, &token, Some(key), &body(card)).await;
        assert_eq!(response.status(), status, "{key}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["code"], code, "{key}: {answer}");
        assert_eq!(answer["error"]["details"]["cart_kept"], true);
        assert_eq!(stock_of(&app, variant).await, 3, "{key}: stock released");
        let order_id = answer["error"]["details"]["order_id"]
            .as_str()
            .expect("order id");
        let order: Value = app
            .request(
                Method::GET,
                &format!("/api/v1/orders/{order_id}"),
                Some(&token),
                None,
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(order["order"]["status"], "cancelled");
    }
    let cart: Value = app
        .request(Method::GET, "/api/v1/cart", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cart["cart"]["item_count"], 3, "the cart is kept");
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);
    // With a good card the same cart goes through.
    let response = checkout(&app, &token, Some("good-card"), &body(test_cards::APPROVED)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(stock_of(&app, variant).await, 0);
}

/// The oversell race: 100 customers buy the last 10 units at the same moment.
#[api_test_stack::test]
async fn a_hundred_concurrent_checkouts_never_oversell_ten_units() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 10).await;
    let customers = futures::future::join_all((0..100).map(|_| app.customer())).await;
    for (token, _) in &customers {
        add_to_cart(&app, token, variant, 1).await;
    }
    let payload = body(test_cards::APPROVED);
    let attempts = customers.iter().enumerate().map(|(n, (token, _))| {
        let (app, payload) = (&app, &payload);
        async move {
            let response = checkout(app, token, Some(&format!("race-{n}")), payload).await;
            let status = response.status();
            let answer: Value = response.json().await.expect("json");
            (status, answer)
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let paid = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(paid, 10, "exactly the stock is sold");
    assert_eq!(refused.len(), 90);
    assert!(
        refused
            .iter()
            .all(|b| b["error"]["code"] == "insufficient_stock"),
        "clear out-of-stock errors"
    );
    assert_eq!(stock_of(&app, variant).await, 0);
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);
}

/// The operators' consistency check names what is broken: stock changed behind the ledger's
/// back, a paid order whose charge record is gone.
#[api_test_stack::test]
async fn the_consistency_check_names_the_rows_that_break_a_rule() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = stocked_variant(&app, &staff, 5).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant, 1).await;
    let paid = checkout(&app, &token, Some("checked"), &body(test_cards::APPROVED)).await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let number = paid.json::<Value>().await.expect("json")["order"]["number"].to_string();
    let broken = |findings: Vec<consistency::Finding>| -> Vec<(&'static str, Vec<String>)> {
        findings
            .into_iter()
            .filter(|finding| finding.count > 0)
            .map(|finding| (finding.rule, finding.examples))
            .collect()
    };
    assert_eq!(
        broken(consistency::check(&app.db).await.expect("check")),
        []
    );

    sqlx::query("UPDATE variants SET stock_on_hand = stock_on_hand + 1 WHERE id = $1")
        .bind(variant)
        .execute(&app.db)
        .await
        .expect("stock behind the ledger's back");
    sqlx::query("DELETE FROM payments WHERE kind = 'charge'")
        .execute(&app.db)
        .await
        .expect("lose the charge record");
    assert_eq!(
        broken(consistency::check(&app.db).await.expect("check")),
        [
            (
                "a paid order has exactly one successful charge, of its total",
                vec![number]
            ),
            (
                "a variant's stock movements sum to its stock on hand",
                vec!["POSTER-1".to_owned()]
            ),
        ]
    );
}
