//! Staff order management: transitions, refunds, notes, the audit log and list filters.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{
    domain::account::Role, payments::test_cards, storage::stock::ledger_mismatches,
};

use crate::helpers::{ProductSpec, TestApp, card_expiry_year, error_code};

/// A paid order of 2 × 30.00 to DE (free shipping, 19 % VAT included): total 60.00.
async fn paid_order(app: &TestApp, staff: &str, customer: &str, key: &str) -> Value {
    let category = app.category(staff, &format!("Cat {key}"), None).await;
    let (_, variants) = app
        .product(
            staff,
            ProductSpec {
                name: &format!("Lamp {key}"),
                description: "A lamp.",
                category,
                variants: &[(&format!("LAMP-{key}").to_uppercase(), 3000, 10)],
            },
        )
        .await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(customer),
            Some(json!({"variant_id": variants[0], "quantity": 2})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(customer)
        .header("idempotency-key", key)
        .json(&json!({
            "shipping_address": {"full_name": "A B", "line1": "Str 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "shipping_method": "standard",
            "payment": {"card_number": test_cards::APPROVED, "expiry_month": 1, "expiry_year": card_expiry_year(), "cvc": "999"}
        }))
        .send()
        .await
        .expect("checkout");
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["order"].clone()
}

async fn move_to(app: &TestApp, staff: &str, id: &str, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/admin/orders/{id}/transitions"),
        Some(staff),
        Some(body),
    )
    .await
}

#[api_test_stack::test]
async fn staff_take_an_order_to_delivered_and_illegal_moves_are_refused() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let order = paid_order(&app, &staff, &customer, "walk").await;
    let id = order["id"].as_str().expect("id");

    let skip = move_to(&app, &staff, id, json!({"to": "delivered"})).await;
    let refusal: Value = skip.json().await.expect("json");
    assert_eq!(refusal["error"]["code"], "illegal_transition");
    assert_eq!(
        refusal["error"]["details"]["allowed"],
        json!(["fulfilled", "cancelled", "refunded"])
    );

    assert_eq!(
        move_to(&app, &staff, id, json!({"to": "fulfilled"}))
            .await
            .status(),
        StatusCode::OK
    );
    let untracked = move_to(&app, &staff, id, json!({"to": "shipped"})).await;
    assert_eq!(
        error_code(untracked, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    assert_eq!(
        move_to(
            &app,
            &staff,
            id,
            json!({"to": "shipped", "tracking_number": "DHL-123"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let delivered = move_to(&app, &staff, id, json!({"to": "delivered"})).await;
    assert_eq!(delivered.status(), StatusCode::OK);
    let delivered: Value = delivered.json().await.expect("json");
    assert_eq!(delivered["order"]["status"], "delivered");
    assert_eq!(delivered["order"]["tracking_number"], "DHL-123");

    // From delivered, only a refund is possible.
    for to in [
        "pending_payment",
        "paid",
        "fulfilled",
        "shipped",
        "delivered",
        "cancelled",
    ] {
        let response = move_to(
            &app,
            &staff,
            id,
            json!({"to": to, "tracking_number": "X-1"}),
        )
        .await;
        assert_eq!(
            error_code(response, StatusCode::CONFLICT).await,
            "illegal_transition",
            "delivered -> {to}"
        );
    }

    let note = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/orders/{id}/notes"),
            Some(&staff),
            Some(json!({"body": "Left with the neighbour."})),
        )
        .await;
    assert_eq!(note.status(), StatusCode::CREATED);
    let detail: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/orders/{id}"),
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let trail: Vec<&str> = detail["order"]["audit_trail"]
        .as_array()
        .expect("trail")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        trail,
        [
            "order.fulfilled",
            "order.shipped",
            "order.delivered",
            "order.note"
        ]
    );
    let shipped = &detail["order"]["audit_trail"][1];
    assert_eq!(shipped["before"]["status"], "fulfilled");
    assert_eq!(shipped["after"]["status"], "shipped");
    assert!(shipped["actor_id"].is_string(), "who");
    assert!(shipped["at"].is_string(), "when");
    assert_eq!(
        detail["order"]["notes"][0]["body"],
        "Left with the neighbour."
    );

    // The customer sees the progress but not the staff-only parts.
    let mine: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&customer),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["order"]["status"], "delivered");
    assert!(mine["order"].get("audit_trail").is_none());
}

#[api_test_stack::test]
async fn cancelling_a_paid_order_restocks_and_refunds_it() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let order = paid_order(&app, &staff, &customer, "cancel").await;
    let id = order["id"].as_str().expect("id");
    // Cancelling a paid order gives money back: fulfilment staff move orders but may not
    // refund, so they are refused and nothing changes.
    let fulfilment = app.staff_as(Role::Fulfilment).await;
    let refused = move_to(
        &app,
        &fulfilment,
        id,
        json!({"to": "cancelled", "reason": "customer asked"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["error"]["details"]["permission"], "refunds");
    let support = app.staff_as(Role::Support).await;
    let response = move_to(
        &app,
        &support,
        id,
        json!({"to": "cancelled", "reason": "customer asked"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: Value = response.json().await.expect("json");
    assert_eq!(cancelled["order"]["status"], "cancelled");
    assert_eq!(
        cancelled["order"]["totals"]["refunded"]["amount_minor"],
        6000
    );
    let kinds: Vec<(&str, &str)> = cancelled["order"]["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default(),
                p["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(kinds, [("charge", "succeeded"), ("refund", "succeeded")]);
    let product: Value = app
        .get("/api/v1/products/lamp-cancel")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        product["product"]["variants"][0]["stock_on_hand"], 10,
        "restocked"
    );
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);
    let again = move_to(&app, &staff, id, json!({"to": "fulfilled"})).await;
    assert_eq!(
        error_code(again, StatusCode::CONFLICT).await,
        "illegal_transition"
    );
}

#[api_test_stack::test]
async fn partial_then_full_refunds_never_exceed_the_payment() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let order = paid_order(&app, &staff, &customer, "refund").await;
    let id = order["id"].as_str().expect("id");
    let refund = |amount: i64| {
        let path = format!("/api/v1/admin/orders/{id}/refunds");
        let (app, staff) = (&app, &staff);
        async move {
            app.request(
                Method::POST,
                &path,
                Some(staff),
                Some(json!({"amount_minor": amount, "reason": "damaged box"})),
            )
            .await
        }
    };
    let partial = refund(1000).await;
    assert_eq!(partial.status(), StatusCode::CREATED);
    let partial: Value = partial.json().await.expect("json");
    assert_eq!(
        partial["order"]["status"], "paid",
        "a partial refund keeps the status"
    );
    assert_eq!(partial["order"]["totals"]["refunded"]["amount_minor"], 1000);
    let too_much = refund(7000).await;
    let body: Value = too_much.json().await.expect("json");
    assert_eq!(body["error"]["code"], "refund_exceeds_payment");
    assert_eq!(body["error"]["details"]["refundable_minor"], 5000);
    let rest = refund(5000).await;
    let rest: Value = rest.json().await.expect("json");
    assert_eq!(rest["order"]["status"], "refunded");
    let none_left = refund(1).await;
    assert_eq!(
        error_code(none_left, StatusCode::CONFLICT).await,
        "not_refundable"
    );
}

#[api_test_stack::test]
async fn staff_filter_orders_by_status_customer_and_total() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (alice, alice_id) = app.customer().await;
    let (bob, _) = app.customer().await;
    let first = paid_order(&app, &staff, &alice, "f1").await;
    paid_order(&app, &staff, &bob, "f2").await;
    let id = first["id"].as_str().expect("id");
    assert_eq!(
        move_to(&app, &staff, id, json!({"to": "fulfilled"}))
            .await
            .status(),
        StatusCode::OK
    );

    let list = |query: String| {
        let (app, staff) = (&app, &staff);
        async move {
            let body: Value = app
                .request(
                    Method::GET,
                    &format!("/api/v1/admin/orders{query}"),
                    Some(staff),
                    None,
                )
                .await
                .json()
                .await
                .expect("json");
            body["meta"]["total"].as_i64().expect("total")
        }
    };
    assert_eq!(list(String::new()).await, 2);
    assert_eq!(list("?status=fulfilled".into()).await, 1);
    assert_eq!(list(format!("?customer_id={alice_id}")).await, 1);
    assert_eq!(list("?min_total=6000&max_total=6000".into()).await, 2);
    assert_eq!(list("?min_total=7141".into()).await, 0);
    assert_eq!(
        list("?placed_from=2020-01-01T00:00:00Z&placed_to=2021-01-01T00:00:00Z".into()).await,
        0
    );
    let bad = app
        .request(
            Method::GET,
            "/api/v1/admin/orders?status=lost",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        error_code(bad, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}

#[api_test_stack::test]
async fn the_dashboard_counts_todays_sales_waiting_orders_and_low_stock() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let empty = app.dashboard(&staff).await;
    assert_eq!(empty["awaiting_fulfilment"], 0);
    assert_eq!(empty["today"], json!([]));
    assert!(empty["churn_risk"].is_null());

    let (customer, _) = app.customer().await;
    let order = paid_order(&app, &staff, &customer, "dash1").await;
    let (other, _) = app.customer().await;
    let refunded = paid_order(&app, &staff, &other, "dash2").await;
    let id = refunded["id"].as_str().unwrap();
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/orders/{id}/refunds"),
            Some(&staff),
            Some(json!({"amount_minor": 1400, "reason": "scratched"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let now = app.dashboard(&staff).await;
    assert_eq!(now["awaiting_fulfilment"], 2);
    // Two orders of 60.00, one refunded by 14.00: net 106.00.
    assert_eq!(
        now["today"],
        json!([{"orders": 2, "revenue": {"amount_minor": 10_600, "currency": "EUR"}}])
    );
    assert_eq!(now["last_30_days"], now["today"]);
    assert_eq!(now["daily"].as_array().unwrap().len(), 1);
    // Each lamp had 10 in stock and sold 2: 8 left, above the threshold of 5.
    assert_eq!(now["low_stock_threshold"], 5);
    assert!(now["low_stock"].as_array().unwrap().is_empty(), "{now}");

    // A cancelled order is no sale and its stock comes back.
    let id = order["id"].as_str().unwrap();
    let response = move_to(
        &app,
        &staff,
        id,
        json!({"to": "cancelled", "reason": "asked to"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let after = app.dashboard(&staff).await;
    assert_eq!(after["awaiting_fulfilment"], 1);
    assert_eq!(after["today"][0]["orders"], 1);

    // Customers may not see it.
    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/dashboard",
            Some(&customer),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[api_test_stack::test]
async fn the_churn_dataset_holds_every_customers_orders_as_churn_lab_reads_them() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, customer_id) = app.customer().await;
    let order = paid_order(&app, &staff, &customer, "data1").await;
    let id = order["id"].as_str().unwrap();
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/orders/{id}/refunds"),
            Some(&staff),
            Some(json!({"amount_minor": 1000, "reason": "late"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/churn/dataset",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let dataset: Value = response.json().await.expect("json");
    let rows: Vec<&Value> = dataset["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["customer_id"] == customer_id.to_string())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    // RFC 3339 in UTC, as the OpenAPI document promises (`date-time`), not a bare local time.
    let ordered_at = rows[0]["ordered_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(ordered_at).is_ok(),
        "{ordered_at}"
    );
    assert_eq!(rows[0]["kind"], "purchase");
    assert_eq!(rows[0]["amount"], 60.0);
    assert_eq!(rows[1]["kind"], "refund");
    assert_eq!(rows[1]["amount"], -10.0);
}
