//! Markets: a variant has a price per market currency, set by staff (never converted); a
//! shopper sees and pays the prices of the market of where they shop from — with tax in them
//! in the EU and the UK, added at checkout in the US — and what has no price there is not
//! sold there.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::payments::test_cards;

use crate::helpers::{
    ProductSpec, TestApp, assert_consistent, card_expiry_year, error_code, error_fields,
};

async fn set_market_prices(app: &TestApp, staff: &str, variant: uuid::Uuid, prices: Value) {
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/variants/{variant}"),
            Some(staff),
            Some(json!({ "market_prices": prices })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("json")
}

fn slugs(list: &Value) -> Vec<&str> {
    list["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug"))
        .collect()
}

#[api_test_stack::test]
async fn each_market_sees_and_pays_its_own_prices_with_its_own_tax() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let category = app.category(&staff, "Scarves", None).await;
    let (scarf_id, scarves) = app
        .product(
            &staff,
            ProductSpec {
                name: "Merino Scarf",
                description: "Warm.",
                category,
                variants: &[("SCARF-GREY", 5000, 10), ("SCARF-RED", 6000, 10)],
            },
        )
        .await;
    let (_, mugs) = app
        .product(
            &staff,
            ProductSpec {
                name: "Euro Mug",
                description: "Sold in the EU only.",
                category,
                variants: &[("MUG-1", 1200, 10)],
            },
        )
        .await;
    let (grey, red) = (scarves[0], scarves[1]);
    set_market_prices(
        &app,
        &staff,
        grey,
        json!([{"currency": "GBP", "price_minor": 4300},
               {"currency": "USD", "price_minor": 5400, "compare_at_minor": 5900}]),
    )
    .await;
    set_market_prices(
        &app,
        &staff,
        red,
        json!([{"currency": "GBP", "price_minor": 5100}]),
    )
    .await;

    // A price in the product's own currency is its price, not a market price.
    let own = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/variants/{grey}"),
            Some(&staff),
            Some(json!({"market_prices": [{"currency": "EUR", "price_minor": 1}]})),
        )
        .await;
    assert_eq!(
        error_fields(own, StatusCode::UNPROCESSABLE_ENTITY).await,
        ["market_prices[0].currency"]
    );
    // Staff see every price of a variant, and the audit trail has the change.
    let staff_view = app
        .get_json(&format!("/api/v1/admin/products/{scarf_id}"), &staff)
        .await;
    let grey_view = &staff_view["product"]["variants"][0];
    assert_eq!(grey_view["price"]["currency"], "EUR");
    assert_eq!(
        grey_view["market_prices"],
        json!([
            {"price": {"amount_minor": 4300, "currency": "GBP"}, "compare_at_price": null},
            {"price": {"amount_minor": 5400, "currency": "USD"},
             "compare_at_price": {"amount_minor": 5900, "currency": "USD"}}
        ])
    );

    // Listings: each currency lists what is sold in it, at its prices there.
    let euros = json_of(&app, "/api/v1/products?category=scarves&sort=price_asc").await;
    assert_eq!(slugs(&euros), ["euro-mug", "merino-scarf"]);
    assert_eq!(euros["products"][1]["price_from"]["amount_minor"], 5000);
    let dollars = json_of(&app, "/api/v1/products?category=scarves&currency=USD").await;
    assert_eq!(slugs(&dollars), ["merino-scarf"]);
    assert_eq!(
        dollars["products"][0]["price_from"],
        json!({"amount_minor": 5400, "currency": "USD"})
    );
    assert_eq!(
        dollars["products"][0]["compare_at_from"]["amount_minor"],
        5900
    );
    let pounds = json_of(
        &app,
        "/api/v1/products?category=scarves&currency=gbp&min_price=4500",
    )
    .await;
    assert!(slugs(&pounds).is_empty(), "the scarf starts at £43.00");
    let found = json_of(&app, "/api/v1/search?q=scarf&currency=GBP").await;
    assert_eq!(found["products"][0]["price_from"]["amount_minor"], 4300);
    let unsold = app.get("/api/v1/products/euro-mug?currency=USD").await;
    assert_eq!(unsold.status(), StatusCode::NOT_FOUND);
    // The category's count is of what is sold in the currency asked for.
    let count = |list: &Value| {
        list["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .find(|c| c["slug"] == "scarves")
            .expect("scarves")["product_count"]
            .clone()
    };
    assert_eq!(count(&json_of(&app, "/api/v1/categories").await), 2);
    assert_eq!(
        count(&json_of(&app, "/api/v1/categories?currency=USD").await),
        1
    );
    let yen = app.get("/api/v1/products?currency=JPY").await;
    assert_eq!(
        error_fields(yen, StatusCode::UNPROCESSABLE_ENTITY).await,
        ["currency"]
    );
    let scarf_in_dollars = json_of(&app, "/api/v1/products/merino-scarf?currency=USD").await;
    let variants = scarf_in_dollars["product"]["variants"]
        .as_array()
        .expect("variants");
    assert_eq!(variants.len(), 1, "the red scarf has no dollar price");
    assert_eq!(
        variants[0]["price"],
        json!({"amount_minor": 5400, "currency": "USD"})
    );

    // A US shopper: dollars, the unsold line flagged, tax added on top at 7.25 %.
    let (american, _) = app.customer().await;
    app.add_to_cart(&american, grey, 2).await;
    app.add_to_cart(&american, red, 1).await;
    app.add_to_cart(&american, mugs[0], 1).await;
    let cart = app
        .get_json("/api/v1/cart?country=US&shipping_method=express", &american)
        .await;
    assert_eq!(cart["cart"]["currency"], "USD");
    assert_eq!(cart["cart"]["ready_for_checkout"], false);
    let problems: Vec<&Value> = cart["cart"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| &line["problem"])
        .collect();
    assert_eq!(
        problems
            .iter()
            .filter(|p| p["code"] == "not_sold_in_market")
            .count(),
        2
    );
    let refused = check_out_to_the_us(&app, &american, "us-1", "USD").await;
    assert_eq!(
        error_code(refused, StatusCode::CONFLICT).await,
        "not_sold_in_market"
    );
    for unsold in [red, mugs[0]] {
        let removed = app
            .request(
                Method::PUT,
                &format!("/api/v1/cart/items/{unsold}?country=US&shipping_method=express"),
                Some(&american),
                Some(json!({"quantity": 0})),
            )
            .await;
        assert_eq!(removed.status(), StatusCode::OK);
    }
    let cart = app
        .get_json("/api/v1/cart?country=US&shipping_method=express", &american)
        .await;
    let totals = &cart["cart"]["totals"];
    assert_eq!(totals["prices_include_tax"], false);
    assert_eq!(totals["subtotal_minor"], 2 * 5400);
    assert_eq!(totals["shipping_minor"], 1999);
    // 7.25 % of 108.00 is 7.83; of 19.99 shipping, 1.45 (1.449…, rounded half up).
    assert_eq!(cart["cart"]["lines"][0]["tax_minor"], 783);
    assert_eq!(totals["tax_minor"], 783 + 145);
    assert_eq!(totals["total_minor"], 10_800 + 1999 + 783 + 145);
    // A shopper shown euro prices is not charged dollars for a US address.
    let shown_euros = check_out_to_the_us(&app, &american, "us-2", "EUR").await;
    assert_eq!(
        error_code(shown_euros, StatusCode::CONFLICT).await,
        "currency_changed"
    );
    let placed = check_out_to_the_us(&app, &american, "us-3", "usd").await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.expect("json");
    let order = &order["order"];
    assert_eq!(
        order["totals"]["total"],
        json!({"amount_minor": 13_727, "currency": "USD"})
    );
    assert_eq!(order["totals"]["prices_include_tax"], false);
    assert_eq!(order["lines"][0]["unit_price"]["amount_minor"], 5400);

    // A British shopper: pounds with 20 % VAT in them, free standard shipping from £45.
    let (briton, _) = app.customer().await;
    app.add_to_cart(&briton, grey, 2).await;
    let cart = app.get_json("/api/v1/cart?country=GB", &briton).await;
    let totals = &cart["cart"]["totals"];
    assert_eq!(cart["cart"]["currency"], "GBP");
    assert_eq!(totals["prices_include_tax"], true);
    assert_eq!(totals["shipping_minor"], 0);
    assert_eq!(totals["total_minor"], 8600);
    // 86.00 with 20 % in it: 86.00 − 86.00 / 1.2 = 14.33.
    assert_eq!(totals["tax_minor"], 1433);

    assert_consistent(&app).await;
}

/// Checks out the caller's cart to San Francisco, express, with an approved card, having
/// been shown prices in `expected_currency`.
async fn check_out_to_the_us(
    app: &TestApp,
    token: &str,
    key: &str,
    expected_currency: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&json!({
            "shipping_address": {"full_name": "Ada Lovelace", "line1": "1 Market St",
                                 "city": "San Francisco", "postal_code": "94105", "country": "US"},
            "shipping_method": "express",
            "payment": {"card_number": test_cards::APPROVED, "expiry_month": 12,
                        "expiry_year": card_expiry_year(), "cvc": "123"},
            "expected_currency": expected_currency
        }))
        .send()
        .await
        .expect("checkout")
}

/// The console's way to price: one currency at a time (`PUT`/`DELETE
/// …/variants/{id}/prices/{currency}`), so that two staff pricing two markets at once both
/// land, and a price the same as before is not a change.
#[api_test_stack::test]
async fn staff_price_one_market_at_a_time() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let category = app.category(&staff, "Gloves", None).await;
    let (glove_id, gloves) = app
        .product(
            &staff,
            ProductSpec {
                name: "Leather Gloves",
                description: "Lined.",
                category,
                variants: &[("GLOVE-S", 4000, 5)],
            },
        )
        .await;
    let glove = gloves[0];
    let price = |currency: &'static str, body: Value| price_of(&app, &staff, glove, currency, body);

    // Two markets priced at the same moment: both prices land.
    let (pounds, dollars) = tokio::join!(
        price("GBP", json!({"price_minor": 3500})),
        price(
            "usd",
            json!({"price_minor": 4300, "compare_at_minor": 4900})
        ),
    );
    assert_eq!(pounds.status(), StatusCode::OK);
    assert_eq!(dollars.status(), StatusCode::OK);
    let staff_view = app
        .get_json(&format!("/api/v1/admin/products/{glove_id}"), &staff)
        .await;
    assert_eq!(
        staff_view["product"]["variants"][0]["market_prices"],
        json!([
            {"price": {"amount_minor": 3500, "currency": "GBP"}, "compare_at_price": null},
            {"price": {"amount_minor": 4300, "currency": "USD"},
             "compare_at_price": {"amount_minor": 4900, "currency": "USD"}}
        ])
    );
    let in_pounds = json_of(&app, "/api/v1/products/leather-gloves?currency=GBP").await;
    assert_eq!(
        in_pounds["product"]["price_from"],
        json!({"amount_minor": 3500, "currency": "GBP"})
    );

    // The product's own currency is the variant's price, set the same way.
    let euros = price("EUR", json!({"price_minor": 3900})).await;
    assert_eq!(euros.status(), StatusCode::OK);
    let body: Value = euros.json().await.expect("json");
    assert_eq!(
        body["product"]["variants"][0]["price"]["amount_minor"],
        3900
    );
    assert_eq!(
        json_of(&app, "/api/v1/products/leather-gloves").await["product"]["price_from"]["amount_minor"],
        3900
    );

    // Setting the same price again is no change: the audit trail has one entry per change.
    let trail = |_: &TestApp| price_changes(&app, &staff, glove);
    assert_eq!(trail(&app).await, 3);
    let again = price("GBP", json!({"price_minor": 3500})).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(trail(&app).await, 3, "an unchanged price is not audited");

    // Bad input is named; nothing changes.
    let bad = price("pounds", json!({"price_minor": 3500})).await;
    assert_eq!(
        error_fields(bad, StatusCode::UNPROCESSABLE_ENTITY).await,
        ["currency"]
    );
    let below = price(
        "GBP",
        json!({"price_minor": 3500, "compare_at_minor": 3000}),
    )
    .await;
    assert_eq!(
        error_fields(below, StatusCode::UNPROCESSABLE_ENTITY).await,
        ["compare_at_minor"]
    );
    let nobody = app
        .request(
            Method::PUT,
            &format!("/api/v1/admin/variants/{}/prices/GBP", uuid::Uuid::new_v4()),
            Some(&staff),
            Some(json!({"price_minor": 100})),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    // Removing the pound price takes the gloves off the British shop; the euro price cannot
    // be removed (archive the variant to stop selling it).
    let remove = |currency: &'static str| remove_price(&app, &staff, glove, currency);
    let removed = remove("GBP").await;
    assert_eq!(removed.status(), StatusCode::OK);
    let body: Value = removed.json().await.expect("json");
    assert_eq!(
        body["product"]["variants"][0]["market_prices"][0]["price"]["currency"],
        "USD"
    );
    let gone = app
        .get("/api/v1/products/leather-gloves?currency=GBP")
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(remove("GBP").await.status(), StatusCode::OK, "idempotent");
    assert_eq!(trail(&app).await, 4);
    assert_eq!(
        error_code(remove("EUR").await, StatusCode::CONFLICT).await,
        "own_currency_price"
    );
    assert_eq!(
        json_of(&app, "/api/v1/products/leather-gloves?currency=USD").await["product"]["price_from"]
            ["amount_minor"],
        4300
    );
}

/// `PUT /admin/variants/{variant}/prices/{currency}`.
async fn price_of(
    app: &TestApp,
    staff: &str,
    variant: uuid::Uuid,
    currency: &str,
    body: Value,
) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/admin/variants/{variant}/prices/{currency}"),
        Some(staff),
        Some(body),
    )
    .await
}

/// How many price changes of the variant the audit trail holds.
async fn price_changes(app: &TestApp, staff: &str, variant: uuid::Uuid) -> usize {
    let log = app
        .get_json(
            &format!("/api/v1/admin/audit-log?entity=variant&entity_id={variant}"),
            staff,
        )
        .await;
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "variant.price")
        .count()
}

/// `DELETE /admin/variants/{variant}/prices/{currency}`.
async fn remove_price(
    app: &TestApp,
    staff: &str,
    variant: uuid::Uuid,
    currency: &str,
) -> reqwest::Response {
    app.request(
        Method::DELETE,
        &format!("/api/v1/admin/variants/{variant}/prices/{currency}"),
        Some(staff),
        None,
    )
    .await
}
