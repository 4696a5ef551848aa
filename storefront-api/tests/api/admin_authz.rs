//! Every `/api/v1/admin` route refuses anonymous callers (401), customers (403) and staff
//! roles without its permission (403). The routes and their permissions are read from the
//! OpenAPI document, which is generated from the router itself, so a new admin route is
//! covered without touching this test.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use storefront_api::domain::access::{Permission, Role, RolePermissions};

use crate::helpers::{TestApp, error_code};

/// Every `/api/v1/admin` operation names exactly one permission as its OpenAPI security
/// scope, and the API enforces exactly that: anonymous callers get 401, customers 403, and
/// each staff role is refused — 403 naming the permission — exactly the operations whose
/// permission it lacks, and let through to the handler for the rest.
#[api_test_stack::test]
async fn every_admin_route_enforces_its_declared_permission_for_every_role() {
    let app = TestApp::spawn().await;
    let (customer, _) = app.customer().await;
    let mut staff = Vec::new();
    for role in Role::ALL.into_iter().filter(|role| role.is_staff()) {
        let session = app.staff_session_as(role).await;
        // The login tells each role what it may do (the console shows only those screens):
        // exactly the permissions the routes below enforce.
        let told: BTreeSet<Permission> = serde_json::from_value(session["permissions"].clone())
            .expect("the session lists permissions");
        let enforced: BTreeSet<Permission> = Permission::ALL
            .into_iter()
            .filter(|permission| role.may(*permission))
            .collect();
        assert_eq!(told, enforced, "{role:?}");
        let token = session["token"].as_str().expect("token").to_owned();
        staff.push((role, token));
    }
    let openapi: Value = app
        .get("/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    let paths = openapi["paths"].as_object().expect("paths");
    let mut checked = 0;
    let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, operations) in paths
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/admin"))
    {
        let concrete = path
            .replace("{id}", "0195f3a2-0000-7000-8000-000000000000")
            .replace("{version}", "gradient_boosting-20261129T120000Z")
            .replace("{delivery_id}", "1")
            .replace("{email_id}", "1")
            .replace("{currency}", "GBP")
            .replace("{account_id}", "0195f3a2-0000-7000-8000-000000000001");
        assert!(
            !concrete.contains('{'),
            "unhandled path parameter in {path}"
        );
        for (method, operation) in operations.as_object().expect("operations") {
            let scopes: Vec<&str> = operation["security"][0]["bearer"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no bearer security"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let [scope] = scopes.as_slice() else {
                panic!("{method} {path} must declare one permission, declares {scopes:?}");
            };
            let permission = Permission::parse(scope)
                .unwrap_or_else(|| panic!("{method} {path}: unknown permission {scope}"));
            let method: Method = method.to_uppercase().parse().expect("method");
            let anonymous = app.request(method.clone(), &concrete, None, None).await;
            assert_eq!(
                error_code(anonymous, StatusCode::UNAUTHORIZED).await,
                "unauthenticated",
                "{method} {path} anonymous"
            );
            let as_customer = app
                .request(method.clone(), &concrete, Some(&customer), None)
                .await;
            assert_eq!(
                error_code(as_customer, StatusCode::FORBIDDEN).await,
                "forbidden",
                "{method} {path} as customer"
            );
            for (role, token) in &staff {
                let response = app
                    .request(method.clone(), &concrete, Some(token), None)
                    .await;
                let status = response.status();
                if role.may(permission) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{method} {path} as {role:?} (has {scope}): {status}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {role:?}");
                    let body: Value = response.json().await.expect("envelope");
                    assert_eq!(body["error"]["code"], "forbidden");
                    assert_eq!(
                        body["error"]["details"]["permission"], *scope,
                        "{method} {path} as {role:?} names what it lacks"
                    );
                    *refused.entry(role.as_str()).or_default() += 1;
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} admin operations found");
    eprintln!("admin operations checked: {checked}; refused per role: {refused:?}");
    // Admins are refused nothing.
    assert!(!refused.contains_key("admin"));
}

#[api_test_stack::test]
async fn public_registration_cannot_make_staff() {
    let app = TestApp::spawn().await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(serde_json::json!({
                "email": "sneaky@example.com", "password": "correct horse battery",
                "full_name": "Sneaky", "role": "admin"
            })),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
}

/// Customers' personal data is read on the record: every customer a staff member is shown,
/// in a list or opened, leaves an audit entry with who saw it.
#[api_test_stack::test]
async fn staff_reads_of_customers_personal_data_are_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer().await;
    let support = app.staff_as(Role::Support).await;
    let me: Value = app
        .request(Method::GET, "/api/v1/me", Some(&support), None)
        .await
        .json()
        .await
        .expect("json");
    let support_id = me["account"]["id"].clone();
    let listed = app
        .request(
            Method::GET,
            "/api/v1/admin/customers?q=shopper",
            Some(&support),
            None,
        )
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    let opened = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/customers/{customer}"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(opened.status(), StatusCode::OK);

    let admin = app.staff_as(Role::Admin).await;
    let trail: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/audit-log?entity=account&entity_id={customer}"),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let reads: Vec<(&str, &Value)> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap_or_default(),
                &entry["actor_id"],
            )
        })
        .collect();
    assert_eq!(
        reads,
        [
            ("customer.listed", &support_id),
            ("customer.viewed", &support_id)
        ]
    );
}
