//! Customer emails, sent by the outbox relay to a real SMTP server (the test process's
//! MailDev) and read back from it: an order's confirmation and shipping, a password reset
//! through the emailed link, and marketing consent with its signed unsubscribe link.

use api_test_stack::{MAIL_ARRIVAL_TIMEOUT, mail_server, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{config::Settings, domain::emails::LinkPurpose};
use storefront_client::money::Money;
use uuid::Uuid;

use crate::helpers::{Options, TestApp, error_code, unique_email};

fn quick_relay(settings: &mut Settings) {
    settings.relay.poll_interval_ms = 50;
}

async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        settings: Some(quick_relay),
        ..Options::default()
    })
    .await
}

/// Registers a customer; returns (email, session token, account id).
async fn customer(app: &TestApp, name: &str, password: &str) -> (String, String, Uuid) {
    let email = unique_email("mail");
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password, "full_name": name})),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let body: Value = registered.json().await.expect("json");
    let token = body["session"]["token"].as_str().expect("token").to_owned();
    let id = body["session"]["account"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("id");
    (email, token, id)
}

/// Waits until the relay has nothing left to send to `account` (every email sent, skipped
/// or dead), so that counting what arrived counts everything.
async fn until_sent(app: &TestApp, account: Uuid) {
    wait_for(
        "the relay to send every email",
        MAIL_ARRIVAL_TIMEOUT,
        async || {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "pending!" FROM email_deliveries
                WHERE account_id = $1 AND status = 'pending'"#,
                account
            )
            .fetch_one(&app.db)
            .await
            .expect("count")
                == 0
        },
    )
    .await;
}

fn money(value: &Value) -> String {
    serde_json::from_value::<Money>(value.clone())
        .expect("money")
        .to_shopper_string()
}

#[api_test_stack::test]
async fn a_paid_order_is_confirmed_once_and_shipping_it_sends_the_tracking_number() {
    let app = app().await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 10).await;
    let (email, token, account) = customer(&app, "Ada Lovelace", "correct horse battery").await;
    let paid = app.buy(&token, variant, 2).await;
    let order = &paid["order"];
    let number = order["number"].as_i64().expect("number");
    let inbox = mail_server();

    let confirmation = inbox.wait_for(&email, "confirmed").await;
    assert_eq!(confirmation.subject, format!("Order {number} confirmed"));
    assert_eq!(confirmation.from, "shop@nexus.test");
    let html = confirmation.html_decoded();
    for part in [&confirmation.text, &html] {
        assert!(part.contains("Ada Lovelace"), "greeting: {part}");
        assert!(part.contains("Limited Edition Poster"), "line: {part}");
        assert!(part.contains(&money(&order["lines"][0]["unit_price"])));
        assert!(part.contains(&money(&order["lines"][0]["line_total"])));
        for total in ["subtotal", "shipping", "tax", "total"] {
            assert!(
                part.contains(&money(&order["totals"][total])),
                "{total}: {part}"
            );
        }
        assert!(part.contains("Hauptstraße 1") && part.contains("10115 Berlin"));
        assert!(part.contains(&format!(
            "/account/orders/{}",
            order["id"].as_str().unwrap()
        )));
    }
    assert!(confirmation.text.contains("2 x Limited Edition Poster"));

    let id = order["id"].as_str().expect("id");
    for step in [
        json!({"to": "fulfilled"}),
        json!({"to": "shipped", "tracking_number": "DHL-4711"}),
    ] {
        let moved = app
            .request(
                Method::POST,
                &format!("/api/v1/admin/orders/{id}/transitions"),
                Some(&staff),
                Some(step),
            )
            .await;
        assert_eq!(moved.status(), StatusCode::OK);
    }
    let shipped = inbox.wait_for(&email, "on its way").await;
    assert!(
        shipped.text.contains("Tracking number: DHL-4711"),
        "{}",
        shipped.text
    );
    assert!(shipped.html.contains("DHL-4711"));

    until_sent(&app, account).await;
    let received: Vec<String> = inbox
        .emails_to(&email)
        .await
        .into_iter()
        .map(|email| email.subject)
        .collect();
    assert_eq!(
        received,
        [
            format!("Order {number} confirmed"),
            format!("Order {number} is on its way")
        ],
        "one email per step, none twice (placing and packing send none)"
    );

    // Support sees what was sent, and sends the confirmation again for a customer who lost it.
    let support = app
        .staff_as(storefront_api::domain::access::Role::Support)
        .await;
    let log: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/customers/{account}/emails"),
            Some(&support),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(log["meta"]["total"], 2);
    let kinds: Vec<(&str, &str)> = log["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .map(|email| {
            (
                email["kind"].as_str().unwrap(),
                email["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("order_shipped", "sent"), ("order_confirmation", "sent")]
    );
    let confirmation_id = log["emails"][1]["id"].as_i64().expect("id");
    assert_eq!(log["emails"][1]["order_id"], order["id"]);
    let resent = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/customers/{account}/emails/{confirmation_id}/resend"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(resent.status(), StatusCode::OK);
    let resent: Value = resent.json().await.expect("json");
    assert_eq!(resent["email"]["status"], "pending");
    wait_for(
        "the confirmation to arrive again",
        MAIL_ARRIVAL_TIMEOUT,
        async || {
            inbox
                .emails_to(&email)
                .await
                .iter()
                .filter(|email| email.subject.ends_with("confirmed"))
                .count()
                == 2
        },
    )
    .await;
    let elsewhere = app
        .request(
            Method::POST,
            &format!(
                "/api/v1/admin/customers/{}/emails/{confirmation_id}/resend",
                Uuid::now_v7()
            ),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(
        error_code(elsewhere, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}

#[api_test_stack::test]
async fn a_forgotten_password_is_reset_once_through_the_emailed_link() {
    let app = app().await;
    let (email, old_session, account) = customer(&app, "Grace Hopper", "my old passphrase").await;
    let ask = |address: String| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(json!({ "email": address })),
            )
            .await
            .status()
        }
    };
    assert_eq!(ask(email.to_uppercase()).await, StatusCode::ACCEPTED);
    // Nobody learns whether an address has an account: the answer is the same.
    assert_eq!(ask(unique_email("nobody")).await, StatusCode::ACCEPTED);
    let not_an_email = app
        .request(
            Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({ "email": "not an email" })),
        )
        .await;
    assert_eq!(
        error_code(not_an_email, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );

    let reset_email = mail_server().wait_for(&email, "Reset your").await;
    let link = reset_email
        .link_starting("http://127.0.0.1:3000/account/reset-password?token=")
        .expect("the email carries the shop's reset link");
    let token = link.split_once("token=").expect("a token").1.to_owned();
    assert!(
        reset_email.html_decoded().contains(&link),
        "the HTML part links the same page"
    );

    let complete = |token: String, password: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/auth/password-reset/complete",
                None,
                Some(json!({ "token": token, "new_password": password })),
            )
            .await
        }
    };
    let weak = complete(token.clone(), "short").await;
    assert_eq!(
        error_code(weak, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let forged = complete(forged, "a brand new passphrase").await;
    assert_eq!(
        error_code(forged, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );

    let done = complete(token.clone(), "a brand new passphrase").await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let again = complete(token, "yet another passphrase").await;
    assert_eq!(
        error_code(again, StatusCode::CONFLICT).await,
        "reset_link_expired"
    );

    // Whoever held a session with the old password is logged out.
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&old_session), None)
        .await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let login = |password: &'static str| {
        let app = &app;
        let email = email.clone();
        async move {
            app.request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await
            .status()
        }
    };
    assert_eq!(login("my old passphrase").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login("a brand new passphrase").await, StatusCode::OK);

    // At most three links an hour reach an inbox, however often someone asks.
    for _ in 0..4 {
        assert_eq!(ask(email.clone()).await, StatusCode::ACCEPTED);
    }
    let resets = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM password_resets WHERE account_id = $1"#,
        account
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(
        resets,
        storefront_api::storage::password_resets::MAX_PER_HOUR
    );
    let nobody = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM password_resets WHERE account_id <> $1"#,
        account
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(nobody, 0, "an unknown address gets no reset");
}

#[api_test_stack::test]
async fn customers_choose_marketing_emails_and_a_signed_link_unsubscribes_them() {
    let app = app().await;
    let (_, token, account) = customer(&app, "Alan Turing", "correct horse battery").await;
    let consent = |method: Method, body: Option<Value>| {
        let app = &app;
        let token = token.clone();
        async move {
            app.request(method, "/api/v1/me/marketing-consent", Some(&token), body)
                .await
        }
    };
    let first: Value = consent(Method::GET, None).await.json().await.expect("json");
    assert_eq!(
        first["marketing_consent"],
        json!({"subscribed": false, "changed_at": null}),
        "nobody is subscribed without asking"
    );
    let given = consent(Method::PUT, Some(json!({"subscribed": true}))).await;
    assert_eq!(given.status(), StatusCode::OK);
    let given: Value = given.json().await.expect("json");
    assert_eq!(given["marketing_consent"]["subscribed"], true);
    assert!(given["marketing_consent"]["changed_at"].is_string());
    let anonymous = app
        .request(
            Method::PUT,
            "/api/v1/me/marketing-consent",
            None,
            Some(json!({"subscribed": true})),
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let links = app.settings.shop.links();
    let unsubscribe = |token: String| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/marketing/unsubscribe",
                None,
                Some(json!({ "token": token })),
            )
            .await
        }
    };
    let wrong_purpose = unsubscribe(links.token(LinkPurpose::PasswordReset, account)).await;
    assert_eq!(
        error_code(wrong_purpose, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let link = links.token(LinkPurpose::Unsubscribe, account);
    for _ in 0..2 {
        let done = unsubscribe(link.clone()).await;
        assert_eq!(done.status(), StatusCode::OK);
        let done: Value = done.json().await.expect("json");
        assert_eq!(done["marketing_consent"]["subscribed"], false);
    }
    let history: Vec<(bool, String)> = sqlx::query!(
        "SELECT consent, source FROM marketing_consent_changes WHERE account_id = $1 ORDER BY id",
        account
    )
    .fetch_all(&app.db)
    .await
    .expect("history")
    .into_iter()
    .map(|row| (row.consent, row.source))
    .collect();
    assert_eq!(
        history,
        [
            (true, "account_page".to_owned()),
            (false, "unsubscribe_link".to_owned())
        ],
        "each change once, with where it was made"
    );
}
