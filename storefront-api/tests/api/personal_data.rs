//! A customer's own data: a copy of everything the shop holds about them, and deleting the
//! account — the person erased everywhere, the books kept.

use chrono::Utc;
use mongodb::bson::doc;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use storefront_api::domain::account::Role;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_consistent, error_code};

const PASSWORD: &str = "correct horse battery";

/// A customer with a saved address, two recorded visits and a paid order.
async fn customer_with_history(app: &TestApp, staff: &str) -> (String, Uuid, String) {
    let (token, id) = app.customer().await;
    let address = app
        .request(
            Method::POST,
            "/api/v1/me/addresses",
            Some(&token),
            Some(
                json!({"full_name": "Test Shopper", "line1": "Hauptstraße 1", "city": "Berlin",
                        "postal_code": "10115", "country": "DE", "is_default": true}),
            ),
        )
        .await;
    assert_eq!(address.status(), StatusCode::CREATED);
    let now = Utc::now().to_rfc3339();
    let events = app
        .request(
            Method::POST,
            "/api/v1/events",
            Some(&token),
            Some(json!({"events": [
                {"type": "session_start", "anonymous_id": "v-1", "occurred_at": now},
                {"type": "search", "anonymous_id": "v-1", "occurred_at": now,
                 "properties": {"query": "lamp"}},
            ]})),
        )
        .await;
    assert_eq!(events.status(), StatusCode::OK);
    let variant = app.stocked_variant(staff, 10).await;
    let paid = app.buy(&token, variant, 1).await;
    let order = paid["order"]["id"].as_str().expect("order").to_owned();
    (token, id, order)
}

#[api_test_stack::test]
async fn a_customer_downloads_everything_the_shop_holds_about_them() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (token, id, order) = customer_with_history(&app, &staff).await;
    let response = app
        .request(Method::GET, "/api/v1/me/data", Some(&token), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let data: Value = response.json().await.expect("json");
    assert_eq!(data["account"]["id"], id.to_string());
    assert_eq!(data["addresses"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["orders"][0]["id"], order.as_str());
    assert_eq!(data["orders"][0]["shipping_address"]["city"], "Berlin");
    let kinds: Vec<&str> = data["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["type"].as_str())
        .collect();
    assert_eq!(kinds, ["session_start", "search"]);
    assert_eq!(data["events"][1]["properties"]["query"], "lamp");
}

#[api_test_stack::test]
async fn deleting_an_account_erases_the_person_and_keeps_the_books() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (token, id, order) = customer_with_history(&app, &staff).await;
    let me: Value = app
        .request(Method::GET, "/api/v1/me", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let email = me["account"]["email"].as_str().expect("email").to_owned();
    let delete = |password: &'static str| {
        app.request(
            Method::DELETE,
            "/api/v1/me",
            Some(&token),
            Some(json!({ "password": password })),
        )
    };

    // The order is still on its way: the shop needs the address until it arrives.
    let open = delete(PASSWORD).await;
    assert_eq!(error_code(open, StatusCode::CONFLICT).await, "orders_open");
    app.deliver(&staff, &order).await;
    // What they wrote with a return goes too.
    let note = "Call me on 0151 555 0199 before collecting";
    let asked = app
        .request(
            Method::POST,
            &format!("/api/v1/orders/{order}/returns"),
            Some(&token),
            Some(json!({"lines": [{"line_number": 1, "quantity": 1, "reason": "other"}], "note": note})),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let wrong = delete("not my password").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = delete(PASSWORD).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    // Nor do the outbox's messages (what webhook receivers are sent) still name them.
    let naming = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM outbox
            WHERE (payload::text || coalesce(body::text, '')) LIKE '%' || $1 || '%'
               OR (payload::text || coalesce(body::text, '')) LIKE '%Hauptstraße%'"#,
        email
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(naming, 0, "the outbox forgets the person too");
    let noted = sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM returns WHERE customer_note IS NOT NULL)
                + (SELECT count(*) FROM audit_log WHERE after::text LIKE '%' || $1 || '%')
                + (SELECT count(*) FROM outbox WHERE coalesce(body::text, '') LIKE '%' || $1 || '%')
                AS "count!""#,
        note
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(noted, 0, "the return's note is gone everywhere");

    // Logged out everywhere; the old email and password open nothing, and the email is free.
    let after = app
        .request(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let login = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        error_code(login, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let again = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": PASSWORD, "full_name": "Someone New"})),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);

    // The books keep the order — its money and the destination country, not the person.
    let kept: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/orders/{order}"),
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(kept["order"]["status"], "delivered");
    assert_eq!(kept["order"]["shipping_address"]["country"], "DE");
    assert_eq!(
        kept["order"]["shipping_address"]["full_name"],
        "Deleted customer"
    );
    assert_eq!(kept["order"]["shipping_address"]["line1"], "");
    let customer: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/customers/{id}"),
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(customer["customer"]["full_name"], "Deleted customer");
    assert_eq!(customer["customer"]["addresses"], json!([]));
    assert!(
        !customer["customer"]["email"]
            .as_str()
            .unwrap_or_default()
            .contains("shopper")
    );

    // Their recorded visits are gone from MongoDB.
    let mongo = mongodb::Client::with_uri_str(app.settings.mongodb.uri.expose_secret())
        .await
        .expect("mongodb");
    let events = mongo
        .database(&app.settings.mongodb.database)
        .collection::<mongodb::bson::Document>("events")
        .count_documents(doc! { "customer_id": id.to_string() })
        .await
        .expect("count");
    assert_eq!(events, 0);
    assert_consistent(&app).await;
}

#[api_test_stack::test]
async fn staff_accounts_are_disabled_not_deleted() {
    let app = TestApp::spawn().await;
    let staff = app.staff_as(Role::Support).await;
    let refused = app
        .request(
            Method::DELETE,
            "/api/v1/me",
            Some(&staff),
            Some(json!({"password": "staff password 1"})),
        )
        .await;
    assert_eq!(
        error_code(refused, StatusCode::CONFLICT).await,
        "staff_account"
    );
}
