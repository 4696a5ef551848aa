//! Public catalog: paging, filters, sorts, search, detail and cache invalidation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

fn names(body: &Value) -> Vec<String> {
    body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("json")
}

#[api_test_stack::test]
async fn cursor_paging_walks_every_product_once() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/products?limit=2&sort=price_asc".to_owned();
    let mut pages = 0;
    loop {
        let body = json(&app, &path).await;
        seen.extend(names(&body));
        pages += 1;
        match body["meta"]["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/products?limit=2&sort=price_asc&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "Oxford Shirt",
            "Linen Shirt",
            "Leather Sneaker",
            "Trail Running Shoe",
            "Wool Coat"
        ]
    );
}

#[api_test_stack::test]
async fn sorts_order_by_price_and_age() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let desc = names(&json(&app, "/api/v1/products?sort=price_desc").await);
    assert_eq!(desc.first().map(String::as_str), Some("Wool Coat"));
    assert_eq!(desc.last().map(String::as_str), Some("Oxford Shirt"));
    let newest = names(&json(&app, "/api/v1/products").await);
    assert_eq!(
        newest.first().map(String::as_str),
        Some("Leather Sneaker"),
        "last created first"
    );
}

#[api_test_stack::test]
async fn filters_by_category_tree_price_and_stock() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let mut clothing = names(&json(&app, "/api/v1/products?category=clothing").await);
    clothing.sort();
    assert_eq!(
        clothing,
        ["Linen Shirt", "Oxford Shirt", "Wool Coat"],
        "sub-categories included"
    );
    let shirts = names(&json(&app, "/api/v1/products?category=shirts&sort=price_asc").await);
    assert_eq!(shirts, ["Oxford Shirt", "Linen Shirt"]);
    let mid = names(
        &json(
            &app,
            "/api/v1/products?min_price=4000&max_price=9000&sort=price_asc",
        )
        .await,
    );
    assert_eq!(mid, ["Linen Shirt", "Leather Sneaker"]);
    let in_stock = names(&json(&app, "/api/v1/products?in_stock=true&category=shoes").await);
    assert_eq!(in_stock, ["Leather Sneaker"]);
    let response = app.get("/api/v1/products?category=no-such-thing").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}

#[api_test_stack::test]
async fn categories_come_as_a_tree_with_counts() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let body = json(&app, "/api/v1/categories").await;
    let roots = body["categories"].as_array().expect("categories");
    let clothing = roots
        .iter()
        .find(|c| c["slug"] == "clothing")
        .expect("clothing");
    assert_eq!(clothing["product_count"], 3);
    assert_eq!(clothing["children"][0]["slug"], "shirts");
    assert_eq!(clothing["children"][0]["product_count"], 2);
}

#[api_test_stack::test]
async fn search_ranks_prefixes_and_forgives_typos() {
    let app = TestApp::spawn().await;
    app.small_catalog().await;
    let body = json(&app, "/api/v1/search?q=shirt").await;
    let mut found = names(&body);
    found.sort();
    assert_eq!(found, ["Linen Shirt", "Oxford Shirt"]);
    assert_eq!(body["meta"]["total"], 2);

    let prefix = names(&json(&app, "/api/v1/search?q=sneak").await);
    assert_eq!(prefix, ["Leather Sneaker"], "a prefix finds the word");

    let typo = names(&json(&app, "/api/v1/search?q=sneakr").await);
    assert_eq!(
        typo.first().map(String::as_str),
        Some("Leather Sneaker"),
        "a misspelt word still finds it"
    );

    let two_typos = names(&json(&app, "/api/v1/search?q=lether%20sneakr").await);
    assert_eq!(
        two_typos,
        ["Leather Sneaker"],
        "every misspelt word is corrected"
    );

    let mixed = names(&json(&app, "/api/v1/search?q=oxfrd%20shirt").await);
    assert_eq!(mixed, ["Oxford Shirt"], "a typo beside a correct word");

    let description = names(&json(&app, "/api/v1/search?q=merino").await);
    assert_eq!(description, ["Wool Coat"], "description words are searched");

    let ranked = names(&json(&app, "/api/v1/search?q=linen").await);
    assert_eq!(ranked.first().map(String::as_str), Some("Linen Shirt"));

    let past_the_end = json(&app, "/api/v1/search?q=shirt&page=5").await;
    assert_eq!(
        past_the_end["meta"]["total"], 2,
        "the total is known on any page"
    );
    assert!(
        past_the_end["products"]
            .as_array()
            .expect("products")
            .is_empty()
    );

    let none = json(&app, "/api/v1/search?q=submarine").await;
    assert_eq!(none["meta"]["total"], 0);
    let response = app.get("/api/v1/search?q=%21%21").await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}

#[api_test_stack::test]
async fn detail_by_slug_shows_only_what_shoppers_may_see() {
    let app = TestApp::spawn().await;
    let catalog = app.small_catalog().await;
    let body = json(&app, "/api/v1/products/linen-shirt").await;
    let product = &body["product"];
    assert_eq!(product["name"], "Linen Shirt");
    assert_eq!(
        product["price_from"],
        json!({"amount_minor": 4900, "currency": "EUR"})
    );
    assert_eq!(product["variants"].as_array().expect("variants").len(), 2);
    assert_eq!(product["breadcrumbs"][0]["slug"], "clothing");
    assert_eq!(product["breadcrumbs"][1]["slug"], "shirts");

    // A draft is invisible to shoppers.
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/products",
            Some(&catalog.staff_token),
            Some(json!({"name": "Secret Draft", "category_id": catalog.shoes, "currency": "EUR"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app.get("/api/v1/products/secret-draft").await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let listed = names(&json(&app, "/api/v1/products?category=shoes").await);
    assert!(!listed.contains(&"Secret Draft".to_owned()));
}

#[api_test_stack::test]
async fn staff_price_change_is_visible_on_the_next_public_read() {
    let app = TestApp::spawn().await;
    let catalog = app.small_catalog().await;
    // Warm the caches.
    let before = json(&app, "/api/v1/products/oxford-shirt").await;
    assert_eq!(before["product"]["price_from"]["amount_minor"], 3900);
    let list_before = json(&app, "/api/v1/products?category=shirts&sort=price_asc").await;
    assert_eq!(
        list_before["products"][0]["price_from"]["amount_minor"],
        3900
    );
    let variant = before["product"]["variants"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/variants/{variant}"),
            Some(&catalog.staff_token),
            Some(json!({"price_minor": 2500, "compare_at_minor": 3900})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let after = json(&app, "/api/v1/products/oxford-shirt").await;
    assert_eq!(after["product"]["price_from"]["amount_minor"], 2500);
    assert_eq!(
        after["product"]["variants"][0]["compare_at_price"]["amount_minor"],
        3900
    );
    let list_after = json(&app, "/api/v1/products?category=shirts&sort=price_asc").await;
    assert_eq!(
        list_after["products"][0]["price_from"]["amount_minor"],
        2500
    );

    // Archiving removes the product from the next public read as well.
    let product = after["product"]["id"].as_str().expect("id").to_owned();
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/products/{product}/archive"),
            Some(&catalog.staff_token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.get("/api/v1/products/oxford-shirt").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
