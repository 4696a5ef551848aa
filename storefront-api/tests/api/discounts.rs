//! Discount codes in the cart and at checkout: value, minimum spend, validity, usage limits.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::payments::test_cards;
use uuid::Uuid;

use crate::helpers::{ProductSpec, TestApp, card_expiry_year, error_code};

async fn code(app: &TestApp, staff: &str, body: Value) -> Value {
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/discount-codes",
            Some(staff),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["discount_code"].clone()
}

async fn vase(app: &TestApp, staff: &str, stock: i32) -> Uuid {
    let category = app.category(staff, "Vases", None).await;
    let (_, variants) = app
        .product(
            staff,
            ProductSpec {
                name: "Glass Vase",
                description: "Hand-blown.",
                category,
                variants: &[("VASE-1", 4000, stock)],
            },
        )
        .await;
    variants[0]
}

fn checkout_body(code: Option<&str>, card: &str) -> Value {
    json!({
        "shipping_address": {"full_name": "A B", "line1": "Str 1", "city": "Wien", "postal_code": "1010", "country": "AT"},
        "shipping_method": "standard",
        "discount_code": code,
        "payment": {"card_number": card, "expiry_month": 3, "expiry_year": card_expiry_year(), "cvc": "321"}
    })
}

async fn checkout(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("checkout")
}

async fn shopper_with(app: &TestApp, variant: Uuid, quantity: i32) -> String {
    let (token, _) = app.customer().await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(&token),
            Some(json!({"variant_id": variant, "quantity": quantity})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    token
}

#[api_test_stack::test]
async fn a_percentage_code_shows_in_the_cart_and_lands_on_the_order() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = vase(&app, &staff, 10).await;
    code(
        &app,
        &staff,
        json!({"code": "welcome10", "percent_basis_points": 1000}),
    )
    .await;
    let token = shopper_with(&app, variant, 2).await;
    let cart: Value = app
        .request(
            Method::GET,
            "/api/v1/cart?country=AT&discount_code=WELCOME10",
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let totals = &cart["cart"]["totals"];
    assert_eq!(totals["subtotal_minor"], 8000);
    assert_eq!(totals["discount_minor"], 800);
    assert_eq!(totals["shipping_minor"], 0, "7200 of goods ship free");
    assert_eq!(totals["total_minor"], 7200, "Austrian prices include VAT");
    assert_eq!(totals["tax_minor"], 1200, "the 20 % VAT in 72.00");
    assert_eq!(totals["prices_include_tax"], true);
    let response = checkout(
        &app,
        &token,
        "w-1",
        &checkout_body(Some("Welcome10"), test_cards::APPROVED),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.expect("json");
    assert_eq!(order["order"]["totals"]["discount"]["amount_minor"], 800);
    assert_eq!(order["order"]["totals"]["total"]["amount_minor"], 7200);
    assert_eq!(
        order["order"]["lines"][0]["code_discount_minor"], 800,
        "the code's discount is the line's"
    );
    let codes: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/discount-codes",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(codes["discount_codes"][0]["times_used"], 1);
}

#[api_test_stack::test]
async fn minimum_spend_validity_and_unknown_codes_are_explained() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = vase(&app, &staff, 10).await;
    code(&app, &staff, json!({"code": "BIG-SPENDER", "amount_minor": 1500, "currency": "EUR", "min_subtotal_minor": 10000})).await;
    code(&app, &staff, json!({"code": "OLD", "percent_basis_points": 500, "starts_at": "2020-01-01T00:00:00Z", "expires_at": "2021-01-01T00:00:00Z"})).await;
    let token = shopper_with(&app, variant, 1).await;
    for (query, needle) in [
        ("BIG-SPENDER", "at least 10000"),
        ("OLD", "expired"),
        ("NOPE", "no such code"),
    ] {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/cart?discount_code={query}"),
                Some(&token),
                None,
            )
            .await;
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], "discount_code",
            "{query}"
        );
        let message = body["error"]["details"]["fields"][0]["message"]
            .as_str()
            .expect("message");
        assert!(message.contains(needle), "{query}: {message}");
    }
    let response = checkout(
        &app,
        &token,
        "old-1",
        &checkout_body(Some("OLD"), test_cards::APPROVED),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let history: Value = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(history["meta"]["total"], 0, "no order with a refused code");
}

#[api_test_stack::test]
async fn a_single_use_code_goes_to_exactly_one_of_two_racing_customers() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = vase(&app, &staff, 10).await;
    code(
        &app,
        &staff,
        json!({"code": "ONLYONE", "percent_basis_points": 5000, "usage_limit": 1}),
    )
    .await;
    let first = shopper_with(&app, variant, 1).await;
    let second = shopper_with(&app, variant, 1).await;
    let body = checkout_body(Some("ONLYONE"), test_cards::APPROVED);
    let (a, b) = tokio::join!(
        checkout(&app, &first, "r-1", &body),
        checkout(&app, &second, "r-2", &body)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY]
    );
    let codes: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/discount-codes",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(codes["discount_codes"][0]["times_used"], 1);
}

#[api_test_stack::test]
async fn once_per_customer_and_a_declined_payment_gives_the_use_back() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = vase(&app, &staff, 10).await;
    code(&app, &staff, json!({"code": "THANKS", "amount_minor": 500, "currency": "EUR", "once_per_customer": true})).await;
    let token = shopper_with(&app, variant, 1).await;
    let declined = checkout(
        &app,
        &token,
        "t-1",
        &checkout_body(Some("THANKS"), test_cards::DECLINED),
    )
    .await;
    assert_eq!(declined.status(), StatusCode::PAYMENT_REQUIRED);
    let paid = checkout(
        &app,
        &token,
        "t-2",
        &checkout_body(Some("THANKS"), test_cards::APPROVED),
    )
    .await;
    assert_eq!(
        paid.status(),
        StatusCode::CREATED,
        "the declined attempt did not use the code up"
    );
    let response = app
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(&token),
            Some(json!({"variant_id": variant})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let again = checkout(
        &app,
        &token,
        "t-3",
        &checkout_body(Some("THANKS"), test_cards::APPROVED),
    )
    .await;
    let body: Value = again.json().await.expect("json");
    assert!(
        body["error"]["details"]["fields"][0]["message"]
            .as_str()
            .expect("message")
            .contains("already used")
    );
    let bad = app
        .request(
            Method::POST,
            "/api/v1/admin/discount-codes",
            Some(&staff),
            Some(json!({"code": "X", "percent_basis_points": 0})),
        )
        .await;
    let body: Value = bad.json().await.expect("json");
    let fields: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(fields, ["code", "percent_basis_points"]);
}
