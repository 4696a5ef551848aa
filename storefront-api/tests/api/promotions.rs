//! Automatic promotions: what the cart shows and why, what the order keeps, budgets that
//! concurrent checkouts cannot overspend, and a return that refunds what its units cost.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::payments::test_cards;
use uuid::Uuid;

use crate::helpers::{ProductSpec, TestApp, checkout_body};

async fn promotion(app: &TestApp, staff: &str, body: Value) -> Value {
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/promotions",
            Some(staff),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["promotion"].clone()
}

/// Socks at 5.00 (in "Socks", under "Clothing") and a coat at 120.00 (in "Clothing").
async fn catalog(app: &TestApp, staff: &str, stock: i32) -> (Uuid, Uuid, Uuid, Uuid) {
    let clothing = app.category(staff, "Clothing", None).await;
    let socks_category = app.category(staff, "Socks", Some(clothing)).await;
    let (_, socks) = app
        .product(
            staff,
            ProductSpec {
                name: "Wool Socks",
                description: "Warm.",
                category: socks_category,
                variants: &[("SOCK-1", 500, stock)],
            },
        )
        .await;
    let (_, coat) = app
        .product(
            staff,
            ProductSpec {
                name: "Rain Coat",
                description: "Dry.",
                category: clothing,
                variants: &[("COAT-1", 12_000, stock)],
            },
        )
        .await;
    (clothing, socks_category, socks[0], coat[0])
}

async fn cart(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_json(&format!("/api/v1/cart{query}"), token).await["cart"].clone()
}

/// A shopper sees "3 for 2 on socks" and free shipping apply, with why, and what is within
/// reach; the order keeps the promotions and each line's share; returning the free pair's
/// line refunds what the pairs cost after the promotion.
#[api_test_stack::test]
async fn the_cart_shows_what_applied_and_why_and_the_order_keeps_it() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (_, socks_category, socks, coat) = catalog(&app, &staff, 50).await;
    let three_for_two = promotion(
        &app,
        &staff,
        json!({
            "title": "3 for 2 on socks",
            "rule": {"kind": "buy_x_get_y", "buy": 2, "get": 1, "off_basis_points": 10000},
            "scope": {"kind": "categories", "category_ids": [socks_category]},
            "currency": "EUR",
            "combines": true
        }),
    )
    .await;
    promotion(
        &app,
        &staff,
        json!({
            "title": "Free express from 125",
            "rule": {"kind": "free_shipping", "min_spend_minor": 12500, "include_express": true},
            "currency": "EUR",
            "combines": true
        }),
    )
    .await;
    let (token, _) = app.customer().await;
    app.add_to_cart(&token, socks, 2).await;
    let two = cart(&app, &token, "").await;
    assert_eq!(two["promotions"], json!([]));
    assert_eq!(two["promotion_hints"][0]["title"], "3 for 2 on socks");
    assert_eq!(
        two["promotion_hints"][0]["missing"],
        json!({"kind": "units", "units": 1})
    );
    app.add_to_cart(&token, socks, 1).await;
    app.add_to_cart(&token, coat, 1).await;
    let priced = cart(&app, &token, "?country=DE&shipping_method=express").await;
    let applied = priced["promotions"].as_array().expect("promotions");
    assert_eq!(applied.len(), 2, "{applied:?}");
    assert_eq!(applied[0]["title"], "3 for 2 on socks");
    assert_eq!(applied[0]["reason"], "3 items of the offer: 1 free");
    assert_eq!(applied[0]["discount_minor"], 500);
    assert_eq!(applied[1]["reason"], "free shipping from 125.00 EUR spent");
    assert!(
        applied[1]["shipping_discount_minor"]
            .as_i64()
            .expect("shipping")
            > 0
    );
    let totals = &priced["totals"];
    assert_eq!(totals["subtotal_minor"], 13_500);
    assert_eq!(totals["discount_minor"], 500);
    assert_eq!(totals["shipping_minor"], 0);
    let socks_line = priced["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|line| line["sku"] == "SOCK-1")
        .expect("socks");
    assert_eq!(socks_line["promotion_discount_minor"], 500);

    let mut body = checkout_body(test_cards::APPROVED);
    body["shipping_method"] = json!("express");
    let placed = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&token)
        .header("idempotency-key", "socks-1")
        .json(&body)
        .send()
        .await
        .expect("checkout");
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = placed.json::<Value>().await.expect("json")["order"].clone();
    assert_eq!(
        order["totals"]["total"]["amount_minor"],
        totals["total_minor"]
    );
    let kept: Vec<&str> = order["promotions"]
        .as_array()
        .expect("promotions")
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kept, ["3 for 2 on socks", "Free express from 125"]);
    let listed = app.get_json("/api/v1/admin/promotions", &staff).await;
    let used = listed["promotions"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["id"] == three_for_two["id"])
        .expect("listed")
        .clone();
    assert_eq!(
        (used["used_uses"].clone(), used["used_minor"].clone()),
        (json!(1), json!(500))
    );

    // Three pairs sold for 10.00 (VAT included) come back: 10.00, not 15.00.
    let order_id = order["id"].as_str().expect("id").to_owned();
    app.deliver(&staff, &order_id).await;
    let socks_line = order["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|line| line["sku"] == "SOCK-1")
        .expect("socks line")
        .clone();
    let requested = app
        .request(
            Method::POST,
            &format!("/api/v1/orders/{order_id}/returns"),
            Some(&token),
            Some(json!({"lines": [{"line_number": socks_line["line_number"], "quantity": 3, "reason": "changed_mind"}]})),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::CREATED);
    let requested: Value = requested.json().await.expect("json");
    let return_id = requested["return"]["id"]
        .as_str()
        .expect("return id")
        .to_owned();
    for (step, body) in [
        ("approve", json!({})),
        (
            "receive",
            json!({"lines": [{"line_number": socks_line["line_number"], "restock": true}]}),
        ),
    ] {
        let response = app
            .request(
                Method::POST,
                &format!("/api/v1/admin/returns/{return_id}/{step}"),
                Some(&staff),
                Some(body),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{step}");
    }
    let refunded = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/returns/{return_id}/refund"),
            Some(&staff),
            Some(json!({})),
        )
        .await;
    assert_eq!(refunded.status(), StatusCode::CREATED);
    let refunded: Value = refunded.json().await.expect("json");
    // German prices include the 19 %: the unit's 10.00 is what goes back.
    assert_eq!(refunded["return"]["refunded"]["amount_minor"], 1000);
}

/// The budget race: 100 customers check out at once under a promotion with a budget of 10
/// orders. Exactly 10 are discounted; the others are told it ran out, and their next try
/// is placed at the full price.
#[api_test_stack::test]
async fn a_hundred_concurrent_checkouts_spend_a_budget_of_ten_exactly() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (_, _, socks, _) = catalog(&app, &staff, 500).await;
    let budgeted = promotion(
        &app,
        &staff,
        json!({
            "title": "10 % off, first ten orders",
            "rule": {"kind": "spend_tiers", "tiers": [{"min_spend_minor": 0, "off_basis_points": 1000}]},
            "currency": "EUR",
            "budget_uses": 10
        }),
    )
    .await;
    let customers = futures::future::join_all((0..100).map(|_| app.customer())).await;
    for (token, _) in &customers {
        app.add_to_cart(token, socks, 2).await;
    }
    let attempts = customers.iter().enumerate().map(|(n, (token, _))| {
        let app = &app;
        async move {
            let response = app.checkout_approved(token, &format!("budget-{n}")).await;
            let status = response.status();
            (status, response.json::<Value>().await.expect("json"))
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let placed = |discount: i64| {
        answers
            .iter()
            .filter(|(status, body)| {
                *status == StatusCode::CREATED
                    && body["order"]["totals"]["discount"]["amount_minor"] == discount
            })
            .count()
    };
    let exhausted = answers
        .iter()
        .filter(|(status, body)| {
            *status == StatusCode::CONFLICT && body["error"]["code"] == "promotion_exhausted"
        })
        .count();
    // A checkout priced after the budget ran out never saw the promotion: it is placed at the
    // full price. One priced before but placed after is refused whole.
    assert_eq!(placed(100), 10, "exactly the budget is spent");
    assert_eq!(
        placed(100) + placed(0) + exhausted,
        100,
        "every other answer is the full price or a clear refusal: {:?}",
        answers
            .iter()
            .map(|(status, body)| (*status, body["error"]["code"].clone()))
            .collect::<Vec<_>>()
    );
    assert!(
        exhausted > 0,
        "the race was run: some quotes saw the promotion"
    );
    let listed = app.get_json("/api/v1/admin/promotions", &staff).await;
    assert_eq!(listed["promotions"][0]["id"], budgeted["id"]);
    assert_eq!(listed["promotions"][0]["used_uses"], 10);
    assert_eq!(listed["promotions"][0]["used_minor"], 1000);
    // One of those told it ran out: the cart no longer shows it, and the order goes through at
    // the full price.
    let (token, _) = customers
        .iter()
        .zip(&answers)
        .find(|(_, (status, _))| *status == StatusCode::CONFLICT)
        .map(|(customer, _)| customer)
        .expect("a refused customer");
    assert_eq!(cart(&app, token, "").await["promotions"], json!([]));
    let full_price = app.checkout_approved(token, "budget-again").await;
    assert_eq!(full_price.status(), StatusCode::CREATED);
    let order = full_price.json::<Value>().await.expect("json");
    assert_eq!(order["order"]["totals"]["discount"]["amount_minor"], 0);
}

/// A declined payment gives the promotion's use and amount back; a paused promotion stops
/// applying; a draft that breaks the rules names each field.
#[api_test_stack::test]
async fn a_declined_payment_gives_the_budget_back_and_bad_drafts_are_explained() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (_, _, socks, _) = catalog(&app, &staff, 50).await;
    let single = promotion(
        &app,
        &staff,
        json!({
            "title": "5.00 off from 10.00",
            "rule": {"kind": "spend_tiers", "tiers": [{"min_spend_minor": 1000, "off_minor": 500}]},
            "currency": "EUR",
            "budget_minor": 1000
        }),
    )
    .await;
    let (token, _) = app.customer().await;
    app.add_to_cart(&token, socks, 2).await;
    let declined = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&token)
        .header("idempotency-key", "declined")
        .json(&checkout_body(test_cards::DECLINED))
        .send()
        .await
        .expect("checkout");
    assert_eq!(declined.status(), StatusCode::PAYMENT_REQUIRED);
    let listed = app.get_json("/api/v1/admin/promotions", &staff).await;
    assert_eq!(listed["promotions"][0]["used_minor"], 0, "given back");
    let paid = app.checkout_approved(&token, "paid").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let paid: Value = paid.json().await.expect("json");
    assert_eq!(paid["order"]["totals"]["discount"]["amount_minor"], 500);

    let paused = app
        .request(
            Method::PATCH,
            &format!(
                "/api/v1/admin/promotions/{}",
                single["id"].as_str().expect("id")
            ),
            Some(&staff),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(paused.status(), StatusCode::OK);
    app.add_to_cart(&token, socks, 2).await;
    assert_eq!(cart(&app, &token, "").await["promotions"], json!([]));

    let bad = app
        .request(
            Method::POST,
            "/api/v1/admin/promotions",
            Some(&staff),
            Some(json!({
                "title": "",
                "rule": {"kind": "quantity_tiers", "tiers": [{"min_quantity": 3, "off_basis_points": 20000}]},
                "scope": {"kind": "products", "product_ids": [Uuid::from_u128(1)]},
                "currency": "EUR"
            })),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.expect("json");
    let fields: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(fields, ["title", "rule.tiers[0].off_basis_points"]);
    let unknown = app
        .request(
            Method::POST,
            "/api/v1/admin/promotions",
            Some(&staff),
            Some(json!({
                "title": "Nothing",
                "rule": {"kind": "buy_x_get_y", "buy": 1, "get": 1, "off_basis_points": 5000},
                "scope": {"kind": "products", "product_ids": [Uuid::from_u128(1)]},
                "currency": "EUR"
            })),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
