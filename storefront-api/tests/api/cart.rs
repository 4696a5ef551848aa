//! Carts: guests and customers, limits, re-pricing, merging at login, concurrency.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ProductSpec, TestApp, error_code};

struct Shelf {
    staff: String,
    tee: Uuid,
    mug: Uuid,
    scarce: Uuid,
}

async fn shelf(app: &TestApp) -> Shelf {
    let staff = app.staff().await;
    let category = app.category(&staff, "Goods", None).await;
    let (_, tee) = app
        .product(
            &staff,
            ProductSpec {
                name: "Plain Tee",
                description: "Cotton tee.",
                category,
                variants: &[("TEE-M", 1500, 100)],
            },
        )
        .await;
    let (_, mug) = app
        .product(
            &staff,
            ProductSpec {
                name: "Stone Mug",
                description: "Glazed mug.",
                category,
                variants: &[("MUG-S", 900, 100)],
            },
        )
        .await;
    let (_, scarce) = app
        .product(
            &staff,
            ProductSpec {
                name: "Rare Print",
                description: "Signed print.",
                category,
                variants: &[("PRINT-1", 12000, 2)],
            },
        )
        .await;
    Shelf {
        staff,
        tee: tee[0],
        mug: mug[0],
        scarce: scarce[0],
    }
}

async fn cart_request(
    app: &TestApp,
    method: Method,
    path: &str,
    cart_token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = cart_token {
        request = request.header("x-cart-token", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

#[api_test_stack::test]
async fn a_guest_builds_a_cart_that_is_repriced_at_every_read() {
    let app = TestApp::spawn().await;
    let shelf = shelf(&app).await;
    let response = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.tee, "quantity": 2})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.starts_with("nexus_cart=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let body: Value = response.json().await.expect("json");
    let token = body["cart"]["token"]
        .as_str()
        .expect("guest token")
        .to_owned();

    // The cart lives 30 days from its last change.
    let mut redis = redis::Client::open(crate::helpers::env_or(
        "NEXUS_TEST_REDIS_URL",
        "redis://127.0.0.1:6379",
    ))
    .expect("redis url")
    .get_multiplexed_async_connection()
    .await
    .expect("redis");
    let key = format!("{}cart:guest:{token}", app.settings.redis.key_prefix);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("ttl");
    let idle = i64::try_from(app.settings.cart.idle_days * 24 * 3600).expect("secs");
    assert!((idle - 60..=idle).contains(&ttl), "ttl {ttl}");

    let body: Value = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        Some(&token),
        Some(json!({"variant_id": shelf.mug})),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(body["cart"]["item_count"], 3);
    assert_eq!(body["cart"]["totals"]["subtotal_minor"], 2 * 1500 + 900);

    // A staff price change shows on the next read of the cart.
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/variants/{}", shelf.tee),
            Some(&shelf.staff),
            Some(json!({"price_minor": 1000})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = cart_request(
        &app,
        Method::GET,
        "/api/v1/cart?country=DE&shipping_method=express",
        Some(&token),
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    let totals = &body["cart"]["totals"];
    assert_eq!(totals["subtotal_minor"], 2 * 1000 + 900);
    assert_eq!(totals["shipping_minor"], 1290);
    assert_eq!(totals["tax_rate_basis_points"], 1900);
    // German prices include VAT: the total is goods and shipping, the tax the part of each
    // line (and of shipping) that is VAT, each rounded on its own.
    assert_eq!(totals["prices_include_tax"], true);
    assert_eq!(totals["total_minor"], 2900 + 1290);
    let lines = body["cart"]["lines"].as_array().expect("lines");
    let line_tax: Vec<i64> = lines
        .iter()
        .map(|l| l["tax_minor"].as_i64().unwrap())
        .collect();
    let mut sorted = line_tax.clone();
    sorted.sort_unstable();
    // 20.00 → 3.19 (16.81 net), 9.00 → 1.44 (7.56 net); shipping 12.90 → 2.06.
    assert_eq!(sorted, vec![144, 319]);
    assert_eq!(totals["tax_minor"], 144 + 319 + 206);

    // Quantities change and lines go.
    let body: Value = cart_request(
        &app,
        Method::PUT,
        &format!("/api/v1/cart/items/{}", shelf.tee),
        Some(&token),
        Some(json!({"quantity": 5})),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(body["cart"]["item_count"], 6);
    let body: Value = cart_request(
        &app,
        Method::DELETE,
        &format!("/api/v1/cart/items/{}", shelf.mug),
        Some(&token),
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(body["cart"]["lines"].as_array().expect("lines").len(), 1);
    let response = cart_request(
        &app,
        Method::GET,
        "/api/v1/cart?country=JP",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}

#[api_test_stack::test]
async fn stock_limits_and_unsellable_items_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let shelf = shelf(&app).await;
    let response = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.scarce, "quantity": 3})),
    )
    .await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "insufficient_stock");
    assert_eq!(body["error"]["details"]["available"], 2);
    let response = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": Uuid::nil()})),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let response = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.tee, "quantity": 0})),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let max = app.settings.cart.max_quantity_per_line;
    let response = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.tee, "quantity": max + 1})),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );

    // A line whose stock ran out stays in the cart, flagged, and out of the totals.
    let body: Value = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.scarce, "quantity": 2})),
    )
    .await
    .json()
    .await
    .expect("json");
    let token = body["cart"]["token"].as_str().expect("token").to_owned();
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/variants/{}/stock-adjustments", shelf.scarce),
            Some(&shelf.staff),
            Some(json!({"delta": -1, "reason": "damaged"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = cart_request(&app, Method::GET, "/api/v1/cart", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let line = &body["cart"]["lines"][0];
    assert_eq!(
        line["problem"],
        json!({"code": "insufficient_stock", "available": 1})
    );
    assert_eq!(body["cart"]["ready_for_checkout"], false);
    assert_eq!(body["cart"]["totals"]["subtotal_minor"], 0);
}

#[api_test_stack::test]
async fn a_guest_cart_merges_into_the_customer_cart_at_login() {
    let app = TestApp::spawn().await;
    let shelf = shelf(&app).await;
    let (customer, _) = app.customer().await;
    let me: Value = app
        .request(Method::GET, "/api/v1/me", Some(&customer), None)
        .await
        .json()
        .await
        .expect("json");
    let email = me["account"]["email"].as_str().expect("email").to_owned();
    // The customer already has a mug in their cart.
    let response = app
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(&customer),
            Some(json!({"variant_id": shelf.mug})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // As a guest on another device they add a tee and another mug.
    let body: Value = cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        None,
        Some(json!({"variant_id": shelf.tee})),
    )
    .await
    .json()
    .await
    .expect("json");
    let guest = body["cart"]["token"].as_str().expect("token").to_owned();
    cart_request(
        &app,
        Method::POST,
        "/api/v1/cart/items",
        Some(&guest),
        Some(json!({"variant_id": shelf.mug})),
    )
    .await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-cart-token", &guest)
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let token = body["session"]["token"].as_str().expect("token").to_owned();
    let cart: Value = app
        .request(Method::GET, "/api/v1/cart", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let mut lines: Vec<(String, i64)> = cart["cart"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap_or_default().to_owned(),
                l["quantity"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    lines.sort();
    assert_eq!(lines, [("MUG-S".to_owned(), 2), ("TEE-M".to_owned(), 1)]);
    // The guest cart is gone.
    let guest_cart: Value = cart_request(&app, Method::GET, "/api/v1/cart", Some(&guest), None)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        guest_cart["cart"]["lines"]
            .as_array()
            .expect("lines")
            .is_empty()
    );
}

#[api_test_stack::test]
async fn concurrent_adds_lose_no_line_and_no_unit() {
    let app = TestApp::spawn().await;
    let shelf = shelf(&app).await;
    let (customer, _) = app.customer().await;
    let adds = (0..20).map(|n| {
        let variant = if n % 2 == 0 { shelf.tee } else { shelf.mug };
        let (app, customer) = (&app, &customer);
        async move {
            app.request(
                Method::POST,
                "/api/v1/cart/items",
                Some(customer),
                Some(json!({"variant_id": variant})),
            )
            .await
            .status()
        }
    });
    let statuses = futures::future::join_all(adds).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let cart: Value = app
        .request(Method::GET, "/api/v1/cart", Some(&customer), None)
        .await
        .json()
        .await
        .expect("json");
    let quantities: Vec<i64> = cart["cart"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(quantities.len(), 2);
    assert_eq!(quantities.iter().sum::<i64>(), 20);
}

#[api_test_stack::test]
async fn shoppers_can_see_where_the_shop_ships_and_what_it_costs() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/shipping/countries").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let countries = body["countries"].as_array().unwrap();
    let germany = countries
        .iter()
        .find(|c| c["code"] == "DE")
        .expect("the default configuration ships to Germany");
    assert_eq!(germany["name"], "Germany");
    assert_eq!(germany["tax_basis_points"], 1900);
    assert_eq!(germany["market"], "EU");
    assert_eq!(germany["prices_include_tax"], true);
    assert_eq!(germany["standard_minor"], 490);
    assert_eq!(germany["currency"], "EUR");
    assert_eq!(germany["free_standard_shipping_from_minor"], 5000);
    let us = countries.iter().find(|c| c["code"] == "US").expect("US");
    assert_eq!(us["market"], "US");
    assert_eq!(us["currency"], "USD");
    assert_eq!(us["prices_include_tax"], false);
    assert_eq!(us["free_standard_shipping_from_minor"], 7500);
    let names: Vec<&str> = countries
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "countries are listed by name");
    assert_eq!(body["meta"]["default_country"], "DE");
}
