//! Staff management beyond products: the category tree and the customer list.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

#[api_test_stack::test]
async fn categories_move_but_never_under_their_own_subtree() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let home = app.category(&token, "Home", None).await;
    let kitchen = app.category(&token, "Kitchen", Some(home)).await;
    let knives = app.category(&token, "Knives", Some(kitchen)).await;

    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/categories/{home}"),
            Some(&token),
            Some(json!({"parent_id": knives})),
        )
        .await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "parent_id");

    // Knives becomes a root and is renamed; the tree shows it.
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/categories/{knives}"),
            Some(&token),
            Some(json!({"parent_id": null, "name": "Chef Knives", "slug": "chef-knives"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tree: Value = app
        .get("/api/v1/categories")
        .await
        .json()
        .await
        .expect("json");
    let roots: Vec<&str> = tree["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c["slug"].as_str().unwrap_or_default())
        .collect();
    assert!(
        roots.contains(&"chef-knives") && roots.contains(&"home"),
        "{roots:?}"
    );

    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/categories/{kitchen}"),
            Some(&token),
            Some(json!({"slug": "chef-knives"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "slug_taken"
    );
}

#[api_test_stack::test]
async fn staff_find_customers_by_email_or_name() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let (_, customer_id) = app.customer().await;
    let response = app
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&app.customer().await.0),
            Some(json!({"full_name": "Zelda Quinn"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let found: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/customers?q=zelda",
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["customers"][0]["full_name"], "Zelda Quinn");

    let all: Value = app
        .request(Method::GET, "/api/v1/admin/customers", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["meta"]["total"], 2, "staff accounts are not customers");

    let detail = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/customers/{customer_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(detail.status(), StatusCode::OK);
    let detail: Value = detail.json().await.expect("json");
    assert_eq!(detail["customer"]["id"], customer_id.to_string());
    assert!(
        detail["customer"]["addresses"]
            .as_array()
            .expect("addresses")
            .is_empty()
    );
}

/// Two staff moving two categories under each other at the same moment: the moves are
/// serialised, so one of them is refused and the tree stays a tree.
#[api_test_stack::test]
async fn concurrent_category_moves_cannot_make_a_cycle() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let a = app.category(&token, "Alpha", None).await;
    let b = app.category(&token, "Beta", None).await;
    let move_under = |child, parent| {
        let path = format!("/api/v1/admin/categories/{child}");
        let (app, token) = (&app, &token);
        async move {
            app.request(
                Method::PATCH,
                &path,
                Some(token),
                Some(json!({"parent_id": parent})),
            )
            .await
            .status()
        }
    };
    let (first, second) = tokio::join!(move_under(a, b), move_under(b, a));
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]);
    let tree: Value = app
        .get("/api/v1/categories")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        tree["categories"].as_array().expect("categories").len(),
        1,
        "one root remains"
    );
    let response = app.get("/api/v1/products?category=alpha").await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Every staff change to the catalog is in the audit log: who, when, what, before and after.
#[api_test_stack::test]
async fn catalog_changes_are_audited_with_before_and_after() {
    let app = TestApp::spawn().await;
    let token = app.staff().await;
    let category = app.category(&token, "Audited", None).await;
    let (product, variants) = app
        .product(
            &token,
            crate::helpers::ProductSpec {
                name: "Audit Lamp",
                description: "Logged.",
                category,
                variants: &[("AUD-1", 1000, 3)],
            },
        )
        .await;
    let variant = variants[0];
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/variants/{variant}"),
            Some(&token),
            Some(json!({"price_minor": 1200})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/products/{product}/archive"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let trail: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/audit-log?entity=product&entity_id={product}"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        ["product.create", "product.update", "product.archive"]
    );
    let archive = &trail["entries"][2];
    assert_eq!(archive["before"]["status"], "active");
    assert_eq!(archive["after"]["status"], "archived");

    let variant_trail: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/audit-log?entity=variant&entity_id={variant}"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let update = &variant_trail["entries"][1];
    assert_eq!(update["action"], "variant.update");
    assert_eq!(update["before"]["price_minor"], 1000);
    assert_eq!(update["after"]["price_minor"], 1200);
    let latest: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/audit-log?limit=500",
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(
        latest["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "category.create")
    );
}
