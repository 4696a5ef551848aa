//! Staff management: admins create staff with a role, change it (which applies at once),
//! disable those who left, and can never lock the shop out of its last admin.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::domain::account::Role;

use crate::helpers::{TestApp, error_code, unique_email};

const PASSWORD: &str = "a long first passphrase";

async fn log_in(app: &TestApp, email: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await
}

async fn token(app: &TestApp, email: &str) -> String {
    let response = log_in(app, email).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["session"]["token"].as_str().expect("token").to_owned()
}

async fn status_of(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.request(Method::GET, path, Some(token), None)
        .await
        .status()
}

async fn change(app: &TestApp, admin: &str, id: &str, patch: Value) -> reqwest::Response {
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/staff/{id}"),
        Some(admin),
        Some(patch),
    )
    .await
}

#[api_test_stack::test]
async fn admins_hire_move_and_disable_staff_and_each_change_applies_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.staff_as(Role::Admin).await;
    let email = unique_email("support");
    let created = app
        .request(
            Method::POST,
            "/api/v1/admin/staff",
            Some(&admin),
            Some(
                json!({"email": email, "full_name": "Sam Support", "role": "support",
                        "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let member = &created["staff_member"];
    assert_eq!(member["role"], "support");
    assert_eq!(
        member["permissions"],
        json!(["dashboard", "orders", "refunds", "customers"])
    );
    let id = member["id"].as_str().expect("id").to_owned();

    // Support reads orders, not the catalog.
    let support = token(&app, &email).await;
    assert_eq!(
        status_of(&app, &support, "/api/v1/admin/orders").await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, &support, "/api/v1/admin/products").await,
        StatusCode::FORBIDDEN
    );

    // Moved to the catalog: the old session (opened as support) ends, the new role applies.
    let moved = change(&app, &admin, &id, json!({"role": "catalog_manager"})).await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(
        status_of(&app, &support, "/api/v1/admin/orders").await,
        StatusCode::UNAUTHORIZED,
        "a role change ends the sessions opened with the old role"
    );
    let catalog = token(&app, &email).await;
    assert_eq!(
        status_of(&app, &catalog, "/api/v1/admin/products").await,
        StatusCode::OK
    );
    // Restating the role it has, or renaming, changes no rights: the session stays.
    let same = change(
        &app,
        &admin,
        &id,
        json!({"role": "catalog_manager", "full_name": "Sam Catalog"}),
    )
    .await;
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(
        status_of(&app, &catalog, "/api/v1/admin/products").await,
        StatusCode::OK,
        "the same role keeps the session"
    );
    assert_eq!(
        status_of(&app, &catalog, "/api/v1/admin/orders").await,
        StatusCode::FORBIDDEN
    );

    // Disabled: the session ends and the password no longer opens one.
    let disabled = change(&app, &admin, &id, json!({"disabled": true})).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let disabled: Value = disabled.json().await.expect("json");
    assert!(disabled["staff_member"]["disabled_at"].is_string());
    assert_eq!(
        status_of(&app, &catalog, "/api/v1/admin/products").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_code(log_in(&app, &email).await, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let enabled = change(&app, &admin, &id, json!({"disabled": false})).await;
    assert_eq!(enabled.status(), StatusCode::OK);
    assert_eq!(log_in(&app, &email).await.status(), StatusCode::OK);

    // The list shows them; the audit log has who did it.
    let list: Value = app
        .request(Method::GET, "/api/v1/admin/staff", Some(&admin), None)
        .await
        .json()
        .await
        .expect("json");
    let listed = list["staff"]
        .as_array()
        .expect("staff")
        .iter()
        .find(|member| member["id"] == id.as_str())
        .expect("listed");
    assert_eq!(listed["role"], "catalog_manager");
    assert!(listed["disabled_at"].is_null());
    let audit: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/audit-log?entity=account&entity_id={id}"),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "account.created",
            "account.changed",
            "account.changed",
            "account.changed",
            "account.changed"
        ]
    );
}

#[api_test_stack::test]
async fn the_last_admin_can_be_neither_demoted_nor_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.staff_as(Role::Admin).await;
    let me: Value = app
        .request(Method::GET, "/api/v1/me", Some(&admin), None)
        .await
        .json()
        .await
        .expect("json");
    let my_id = me["account"]["id"].as_str().expect("id").to_owned();
    for patch in [json!({"role": "staff"}), json!({"disabled": true})] {
        let refused = change(&app, &admin, &my_id, patch.clone()).await;
        assert_eq!(
            error_code(refused, StatusCode::CONFLICT).await,
            "last_admin",
            "{patch}"
        );
    }
    // With a second admin, the first may step down.
    app.staff_as(Role::Admin).await;
    let stepped_down = change(&app, &admin, &my_id, json!({"role": "staff"})).await;
    assert_eq!(stepped_down.status(), StatusCode::OK);
}

#[api_test_stack::test]
async fn bad_staff_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.staff_as(Role::Admin).await;
    let customer_role = app
        .request(
            Method::POST,
            "/api/v1/admin/staff",
            Some(&admin),
            Some(
                json!({"email": unique_email("x"), "full_name": "X", "role": "customer",
                        "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(customer_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = customer_role.json().await.expect("json");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "role");
    let (_, customer_id) = app.customer().await;
    let not_staff = change(
        &app,
        &admin,
        &customer_id.to_string(),
        json!({"role": "staff"}),
    )
    .await;
    assert_eq!(
        error_code(not_staff, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let taken_email = unique_email("dup");
    for expected in [StatusCode::CREATED, StatusCode::CONFLICT] {
        let response = app
            .request(
                Method::POST,
                "/api/v1/admin/staff",
                Some(&admin),
                Some(
                    json!({"email": taken_email, "full_name": "Dup", "role": "analyst",
                            "password": PASSWORD}),
                ),
            )
            .await;
        assert_eq!(response.status(), expected);
    }
}
