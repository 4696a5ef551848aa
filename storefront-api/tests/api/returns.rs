//! Returns: a customer asks to return lines of a delivered order, staff approve, receive
//! (back on the shelf or written off) and refund — each step once, even when clicked many
//! times at once — and the customer is emailed at each step.

use api_test_stack::mail_server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::config::Settings;
use uuid::Uuid;

use crate::helpers::{Options, ProductSpec, TestApp, assert_consistent, error_code, unique_email};

async fn ask_return(
    app: &TestApp,
    customer: &str,
    order_id: &str,
    body: Value,
) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/orders/{order_id}/returns"),
        Some(customer),
        Some(body),
    )
    .await
}

async fn step(
    app: &TestApp,
    staff: &str,
    return_id: &str,
    step: &str,
    body: Value,
) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/admin/returns/{return_id}/{step}"),
        Some(staff),
        Some(body),
    )
    .await
}

async fn stock_of(app: &TestApp, variant: Uuid) -> i32 {
    sqlx::query_scalar!("SELECT stock_on_hand FROM variants WHERE id = $1", variant)
        .fetch_one(&app.db)
        .await
        .expect("stock")
}

/// A delivered order of 2 posters (2 × 25.00 to DE: free shipping, 19 % VAT included, total
/// 50.00)
/// out of 10 in stock; returns (order id, variant).
async fn delivered_order(app: &TestApp, staff: &str, customer: &str) -> (String, Uuid) {
    let variant = app.stocked_variant(staff, 10).await;
    let paid = app.buy(customer, variant, 2).await;
    assert_eq!(paid["order"]["totals"]["total"]["amount_minor"], 5000);
    let order_id = paid["order"]["id"].as_str().expect("id").to_owned();
    app.deliver(staff, &order_id).await;
    (order_id, variant)
}

#[api_test_stack::test]
async fn a_return_is_approved_received_restocked_and_refunded_and_the_rest_completes_the_order() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let (order_id, variant) = delivered_order(&app, &staff, &customer).await;
    assert_eq!(stock_of(&app, variant).await, 8);

    let order = app
        .get_json(&format!("/api/v1/orders/{order_id}"), &customer)
        .await;
    assert!(order["order"]["returnable_until"].is_string(), "{order}");
    assert_eq!(order["order"]["lines"][0]["line_number"], 1);

    let asked = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "does_not_fit"}],
               "note": "Too small"}),
    )
    .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let asked: Value = asked.json().await.expect("json");
    let return_id = asked["return"]["id"].as_str().expect("id").to_owned();
    assert_eq!(asked["return"]["status"], "requested");
    assert_eq!(asked["return"]["lines"][0]["sku"], "POSTER-1");
    assert_eq!(asked["return"]["customer_note"], "Too small");

    // One unit is left to return; two more are refused.
    let too_many = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 2, "reason": "changed_mind"}]}),
    )
    .await;
    let body: Value = too_many.json().await.expect("json");
    assert_eq!(body["error"]["code"], "return_exceeds_order", "{body}");
    assert_eq!(body["error"]["details"]["returnable"], 1);

    // Receiving before approval is not a step a requested return takes.
    let early = step(&app, &staff, &return_id, "receive", json!({})).await;
    assert_eq!(
        error_code(early, StatusCode::CONFLICT).await,
        "illegal_return_step"
    );
    let approved = step(&app, &staff, &return_id, "approve", json!(null)).await;
    assert_eq!(approved.status(), StatusCode::OK);
    let again = step(&app, &staff, &return_id, "approve", json!(null)).await;
    assert_eq!(
        error_code(again, StatusCode::CONFLICT).await,
        "illegal_return_step"
    );

    // A receipt naming a line the return does not have changes nothing.
    let typo = step(
        &app,
        &staff,
        &return_id,
        "receive",
        json!({"lines": [{"line_number": 9, "restock": false}]}),
    )
    .await;
    assert_eq!(typo.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let received = step(&app, &staff, &return_id, "receive", json!({"lines": []})).await;
    assert_eq!(received.status(), StatusCode::OK);
    let received: Value = received.json().await.expect("json");
    assert_eq!(received["return"]["status"], "received");
    assert_eq!(received["return"]["lines"][0]["restocked"], true);
    // One unit's price, VAT included: 25.00.
    assert_eq!(received["return"]["refund_due"]["amount_minor"], 2500);
    assert_eq!(
        stock_of(&app, variant).await,
        9,
        "the unit is back on the shelf"
    );

    let more = step(
        &app,
        &staff,
        &return_id,
        "refund",
        json!({"amount_minor": 2976}),
    )
    .await;
    assert_eq!(
        error_code(more, StatusCode::CONFLICT).await,
        "refund_exceeds_return"
    );
    let refunded = step(&app, &staff, &return_id, "refund", json!({})).await;
    assert_eq!(refunded.status(), StatusCode::CREATED);
    let refunded: Value = refunded.json().await.expect("json");
    assert_eq!(refunded["return"]["status"], "refunded");
    assert_eq!(refunded["return"]["refunded"]["amount_minor"], 2500);
    let order = &refunded["order"];
    assert_eq!(
        order["status"], "delivered",
        "a part refund keeps the status"
    );
    assert_eq!(order["totals"]["refunded"]["amount_minor"], 2500);
    let actions: Vec<&str> = order["audit_trail"]
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .filter(|action| action.starts_with("return."))
        .collect();
    assert_eq!(
        actions,
        [
            "return.requested",
            "return.approved",
            "return.received",
            "return.refunded"
        ]
    );

    // The last unit, written off as damaged, completes the order: shipping policy refunds
    // the rest of the total, to the cent.
    let last = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "damaged"}]}),
    )
    .await;
    assert_eq!(last.status(), StatusCode::CREATED);
    let last: Value = last.json().await.expect("json");
    let last_id = last["return"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        step(&app, &staff, &last_id, "approve", json!(null))
            .await
            .status(),
        StatusCode::OK
    );
    let written_off = step(
        &app,
        &staff,
        &last_id,
        "receive",
        json!({"lines": [{"line_number": 1, "restock": false}]}),
    )
    .await;
    assert_eq!(written_off.status(), StatusCode::OK);
    assert_eq!(
        stock_of(&app, variant).await,
        9,
        "a damaged unit stays off the shelf"
    );
    let rest = step(&app, &staff, &last_id, "refund", json!({})).await;
    assert_eq!(rest.status(), StatusCode::CREATED);
    let rest: Value = rest.json().await.expect("json");
    assert_eq!(rest["return"]["refunded"]["amount_minor"], 5000 - 2500);
    assert_eq!(rest["order"]["status"], "refunded");
    assert_eq!(rest["order"]["totals"]["refunded"]["amount_minor"], 5000);
    let nothing_left = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "other"}]}),
    )
    .await;
    assert_eq!(
        error_code(nothing_left, StatusCode::CONFLICT).await,
        "not_returnable"
    );

    let queue = app
        .get_json(
            &format!("/api/v1/admin/returns?order_id={order_id}"),
            &staff,
        )
        .await;
    assert_eq!(queue["meta"]["total"], 2);
    assert_eq!(queue["returns"][0]["id"], last_id.as_str(), "newest first");
    assert_eq!(queue["returns"][0]["item_count"], 1);
    assert_consistent(&app).await;
}

/// Twenty clicks at once on each of receive and refund: the goods go back on the shelf once
/// and the money goes back once.
#[api_test_stack::test]
async fn concurrent_receipts_restock_once_and_concurrent_refunds_pay_once() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let other_staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let (order_id, variant) = delivered_order(&app, &staff, &customer).await;
    let asked = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 2, "reason": "not_as_described"}]}),
    )
    .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let asked: Value = asked.json().await.expect("json");
    let return_id = asked["return"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        step(&app, &staff, &return_id, "approve", json!(null))
            .await
            .status(),
        StatusCode::OK
    );

    let burst = |name: &'static str| {
        let app = &app;
        let return_id = &return_id;
        let tokens = [&staff, &other_staff];
        futures::future::join_all((0..20).map(move |n| async move {
            step(app, tokens[n % 2], return_id, name, json!({}))
                .await
                .status()
        }))
    };
    let receipts = burst("receive").await;
    assert_eq!(
        receipts.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{receipts:?}"
    );
    assert!(
        receipts
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT)
    );
    assert_eq!(stock_of(&app, variant).await, 10, "two units back, once");

    let refunds = burst("refund").await;
    assert_eq!(
        refunds
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{refunds:?}"
    );
    assert!(
        refunds
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT)
    );
    let paid_back = sqlx::query!(
        r#"SELECT count(*) AS "refunds!", COALESCE(sum(amount_minor), 0)::bigint AS "minor!"
             FROM payments WHERE order_id = $1::text::uuid AND kind = 'refund'"#,
        order_id
    )
    .fetch_one(&app.db)
    .await
    .expect("refunds");
    assert_eq!((paid_back.refunds, paid_back.minor), (1, 5000));
    let at_provider = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM simulated_provider_refunds WHERE outcome = 'refunded'"#
    )
    .fetch_one(&app.db)
    .await
    .expect("provider");
    assert_eq!(at_provider, 1);
    assert_consistent(&app).await;
}

#[api_test_stack::test]
async fn only_a_delivered_order_of_ones_own_within_its_window_can_be_returned() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    let (stranger, _) = app.customer().await;
    let variant = app.stocked_variant(&staff, 10).await;
    let paid = app.buy(&customer, variant, 1).await;
    let order_id = paid["order"]["id"].as_str().expect("id").to_owned();
    let one = json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "changed_mind"}]});

    let not_yet = ask_return(&app, &customer, &order_id, one.clone()).await;
    assert_eq!(
        error_code(not_yet, StatusCode::CONFLICT).await,
        "not_returnable"
    );
    app.deliver(&staff, &order_id).await;
    let not_theirs = ask_return(&app, &stranger, &order_id, one.clone()).await;
    assert_eq!(not_theirs.status(), StatusCode::NOT_FOUND);

    let bad = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 7, "quantity": 1, "reason": "other"}]}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"],
        "lines[0].line_number"
    );
    let unknown_reason = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "bored"}]}),
    )
    .await;
    assert_eq!(unknown_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A refused return frees its units: the customer may ask again.
    let asked: Value = ask_return(&app, &customer, &order_id, one.clone())
        .await
        .json()
        .await
        .expect("json");
    let return_id = asked["return"]["id"].as_str().expect("id").to_owned();
    let blank = step(&app, &staff, &return_id, "refuse", json!({"reason": "  "})).await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = step(
        &app,
        &staff,
        &return_id,
        "refuse",
        json!({"reason": "Worn"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::OK);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["return"]["refusal_reason"], "Worn");
    let again = ask_return(&app, &customer, &order_id, one.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);

    // Past the window, nothing more.
    sqlx::query!(
        "UPDATE orders SET returnable_until = now() - interval '1 day' WHERE id = $1::text::uuid",
        order_id
    )
    .execute(&app.db)
    .await
    .expect("close the window");
    let late = ask_return(&app, &customer, &order_id, one).await;
    assert_eq!(
        error_code(late, StatusCode::CONFLICT).await,
        "return_window_closed"
    );
    assert_consistent(&app).await;
}

fn quick_relay(settings: &mut Settings) {
    settings.relay.poll_interval_ms = 50;
}

#[api_test_stack::test]
async fn the_customer_is_emailed_at_each_step_of_a_return() {
    let app = TestApp::spawn_with(Options {
        settings: Some(quick_relay),
        ..Options::default()
    })
    .await;
    let staff = app.staff().await;
    let email = unique_email("returns");
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": "correct horse battery", "full_name": "Ada Return"})),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let body: Value = registered.json().await.expect("json");
    let customer = body["session"]["token"].as_str().expect("token").to_owned();
    let (order_id, _) = delivered_order(&app, &staff, &customer).await;
    let asked: Value = ask_return(
        &app,
        &customer,
        &order_id,
        json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "damaged"}]}),
    )
    .await
    .json()
    .await
    .expect("json");
    let number = asked["return"]["number"].as_i64().expect("number");
    let return_id = asked["return"]["id"].as_str().expect("id").to_owned();
    let inbox = mail_server();
    let requested = inbox.wait_for(&email, "we have your request").await;
    assert!(
        requested
            .subject
            .starts_with(&format!("Return {number} for order "))
    );
    assert!(
        requested.text.contains("1 × Limited Edition Poster")
            && requested.text.contains("Arrived damaged"),
        "{}",
        requested.text
    );
    assert_eq!(
        step(&app, &staff, &return_id, "approve", json!(null))
            .await
            .status(),
        StatusCode::OK
    );
    let approved = inbox
        .wait_for(&email, "approved, please send the items")
        .await;
    assert!(
        approved
            .text
            .contains("write the return number on the parcel")
    );
    assert_eq!(
        step(&app, &staff, &return_id, "receive", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    inbox.wait_for(&email, "items received").await;
    assert_eq!(
        step(&app, &staff, &return_id, "refund", json!({}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let refund = inbox.wait_for(&email, "Refund for order").await;
    assert!(refund.text.contains("€25.00"), "{}", refund.text);
}

/// Two returns of one order refunded at the same moment: the second to take the order sees
/// the first, so together they refund the whole total, shipping included, to the cent.
#[api_test_stack::test]
async fn two_returns_of_one_order_refunded_at_once_add_up_to_the_whole() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (customer, _) = app.customer().await;
    // 2 × 10.00 pays shipping: 20.00 + 4.90 = 24.90, 19 % VAT included.
    let category = app.category(&staff, "Mugs", None).await;
    let (_, variants) = app
        .product(
            &staff,
            ProductSpec {
                name: "Enamel Mug",
                description: "A mug.",
                category,
                variants: &[("MUG-1", 1000, 10)],
            },
        )
        .await;
    let paid = app.buy(&customer, variants[0], 2).await;
    assert_eq!(paid["order"]["totals"]["total"]["amount_minor"], 2490);
    let order_id = paid["order"]["id"].as_str().expect("id").to_owned();
    app.deliver(&staff, &order_id).await;
    let mut returns = Vec::new();
    for _ in 0..2 {
        let asked = ask_return(
            &app,
            &customer,
            &order_id,
            json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "changed_mind"}]}),
        )
        .await;
        assert_eq!(asked.status(), StatusCode::CREATED);
        let asked: Value = asked.json().await.expect("json");
        let id = asked["return"]["id"].as_str().expect("id").to_owned();
        for name in ["approve", "receive"] {
            assert_eq!(
                step(&app, &staff, &id, name, json!({})).await.status(),
                StatusCode::OK
            );
        }
        returns.push(id);
    }
    let refunds = futures::future::join_all(
        returns
            .iter()
            .map(|id| step(&app, &staff, id, "refund", json!({}))),
    )
    .await;
    assert!(refunds.iter().all(|r| r.status() == StatusCode::CREATED));
    let order = app
        .get_json(&format!("/api/v1/admin/orders/{order_id}"), &staff)
        .await;
    assert_eq!(order["order"]["totals"]["refunded"]["amount_minor"], 2490);
    assert_eq!(order["order"]["status"], "refunded");
    let mut paid: Vec<i64> = order["order"]["returns"]
        .as_array()
        .expect("returns")
        .iter()
        .map(|r| r["refunded"]["amount_minor"].as_i64().expect("refunded"))
        .collect();
    paid.sort_unstable();
    // One unit (VAT included); then the rest of the total, shipping included.
    assert_eq!(paid, [1000, 2490 - 1000]);
    assert_consistent(&app).await;
}
