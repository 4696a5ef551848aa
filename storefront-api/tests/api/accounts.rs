//! Registration, login, sessions, logout, rate limiting, profile and addresses.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, client, error_code, unique_email};

async fn register(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"email": email, "password": password, "full_name": "Jane Doe"})),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

#[api_test_stack::test]
async fn register_login_logout_and_revoked_session_is_refused() {
    let app = TestApp::spawn().await;
    let email = unique_email("jane");
    let response = register(&app, &email.to_uppercase(), "correct horse battery").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["session"]["account"]["email"], email,
        "emails are normalised"
    );
    assert_eq!(body["session"]["account"]["role"], "customer");

    let response = login(&app, &email, "correct horse battery").await;
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.json::<Value>().await.expect("json")["session"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .request(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNAUTHORIZED).await,
        "unauthenticated"
    );
}

#[api_test_stack::test]
async fn browsers_are_authenticated_by_the_session_cookie() {
    let app = TestApp::spawn().await;
    let browser = client();
    let email = unique_email("cookie");
    let response = browser
        .post(app.url("/api/v1/auth/register"))
        .json(&json!({"email": email, "password": "correct horse battery", "full_name": "C"}))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let me = browser.get(app.url("/api/v1/me")).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let logout = browser
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    // The browser drops the cookie, but the server must have ended the session too: the old
    // cookie, replayed by hand, is refused.
    let replayed = app
        .client
        .get(app.url("/api/v1/me"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("me");
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[api_test_stack::test]
async fn logout_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let email = unique_email("multi");
    assert_eq!(
        register(&app, &email, "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let body: Value = login(&app, &email, "correct horse battery")
            .await
            .json()
            .await
            .expect("json");
        tokens.push(body["session"]["token"].as_str().expect("token").to_owned());
    }
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/logout-everywhere",
            Some(&tokens[0]),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["revoked"], 4,
        "three logins and the registration session"
    );
    for token in &tokens {
        let response = app
            .request(Method::GET, "/api/v1/me", Some(token), None)
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

#[api_test_stack::test]
async fn weak_passwords_and_taken_emails_get_clear_messages() {
    let app = TestApp::spawn().await;
    let response = register(&app, "not-an-email", "short").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    let fields = body["error"]["details"]["fields"]
        .as_array()
        .expect("fields");
    assert!(fields.iter().any(|f| f["field"] == "email"));

    let email = unique_email("weak");
    let response = register(&app, &email, "password123").await;
    let body: Value = response.json().await.expect("json");
    let message = body["error"]["details"]["fields"][0]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("common"), "{message}");

    assert_eq!(
        register(&app, &email, "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let response = register(&app, &email.to_uppercase(), "another good passphrase").await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "email_taken"
    );
}

#[api_test_stack::test]
async fn wrong_passwords_are_refused_then_rate_limited() {
    let app = TestApp::spawn().await;
    let email = unique_email("victim");
    assert_eq!(
        register(&app, &email, "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let unknown = login(&app, &unique_email("nobody"), "whatever password").await;
    assert_eq!(
        error_code(unknown, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );

    let max = app.settings.auth.login_max_failures_per_account_and_client;
    for _ in 0..max {
        let response = login(&app, &email, "wrong horse battery").await;
        assert_eq!(
            error_code(response, StatusCode::UNAUTHORIZED).await,
            "invalid_credentials"
        );
    }
    // Now even the right password waits: the account is locked for the window.
    let response = login(&app, &email, "correct horse battery").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!(retry_after > 0 && retry_after <= app.settings.auth.login_failure_window_secs);
    assert_eq!(
        error_code(response, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
}

#[api_test_stack::test]
async fn too_many_failures_from_one_client_are_limited_across_accounts() {
    let app = TestApp::spawn().await;
    let max = app.settings.auth.login_max_failures_per_client;
    for _ in 0..max {
        let response = login(&app, &unique_email("spray"), "some password here").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = login(&app, &unique_email("spray"), "some password here").await;
    assert_eq!(
        error_code(response, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
}

#[api_test_stack::test]
async fn profile_password_and_addresses() {
    let app = TestApp::spawn().await;
    let (token, _) = app.customer().await;
    let response = app
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&token),
            Some(json!({"full_name": "Renamed"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["account"]["full_name"], "Renamed");

    let address = json!({
        "full_name": "Renamed", "line1": "Hauptstraße 1", "city": "Berlin",
        "postal_code": "10115", "country": "de", "is_default": true
    });
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/addresses",
            Some(&token),
            Some(address.clone()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let first: Value = response.json().await.expect("json");
    assert_eq!(first["address"]["country"], "DE");
    let mut second = address.clone();
    second["line1"] = json!("Nebenstraße 2");
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/addresses",
            Some(&token),
            Some(second),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let list: Value = app
        .request(Method::GET, "/api/v1/me/addresses", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let addresses = list["addresses"].as_array().expect("addresses");
    assert_eq!(addresses.len(), 2);
    assert_eq!(
        addresses.iter().filter(|a| a["is_default"] == true).count(),
        1,
        "one default"
    );
    assert_eq!(
        addresses[0]["line1"], "Nebenstraße 2",
        "the new default comes first"
    );

    let bad =
        json!({"full_name": "", "line1": "x", "city": "y", "postal_code": "1", "country": "XX"});
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/addresses",
            Some(&token),
            Some(bad),
        )
        .await;
    let body: Value = response.json().await.expect("json");
    let fields: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["full_name", "country"]);

    // A misspelt field is refused, not dropped: the address would be saved without it.
    let misspelt = json!({"full_name": "A B", "line1": "x", "city": "y", "postal_code": "1",
        "postcode": "1", "country": "DE"});
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/addresses",
            Some(&token),
            Some(misspelt),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );

    // Another customer cannot touch this address.
    let (other, _) = app.customer().await;
    let id = first["address"]["id"].as_str().expect("id");
    let response = app
        .request(
            Method::DELETE,
            &format!("/api/v1/me/addresses/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "not_found"
    );

    // Changing the password ends other sessions but keeps this one.
    let me: Value = app
        .request(Method::GET, "/api/v1/me", Some(&token), None)
        .await
        .json()
        .await
        .expect("json");
    let email = me["account"]["email"].as_str().expect("email").to_owned();
    let other_device: Value = login(&app, &email, "correct horse battery")
        .await
        .json()
        .await
        .expect("json");
    let other_token = other_device["session"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(json!({"current_password": "wrong horse battery", "new_password": "a new long passphrase"})),
        )
        .await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let response = app
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(json!({"current_password": "correct horse battery", "new_password": "a new long passphrase"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.request(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status(),
        StatusCode::OK
    );
    let response = app
        .request(Method::GET, "/api/v1/me", Some(&other_token), None)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the other device is logged out"
    );
    let response = login(&app, &email, "a new long passphrase").await;
    assert_eq!(response.status(), StatusCode::OK, "the new password works");
}

#[api_test_stack::test]
async fn one_account_is_limited_across_many_client_addresses() {
    let app = TestApp::spawn_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    let email = unique_email("target");
    assert_eq!(
        register(&app, &email, "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let attempt = |n: u64, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            // The gateway appends the address it saw; earlier hops are the client's claims.
            .header(
                "x-forwarded-for",
                format!("203.0.113.77, 198.51.100.{}", n % 250),
            )
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let per_account = app.settings.auth.login_max_failures_per_account;
    for n in 0..per_account {
        let response = attempt(n, "wrong horse battery").await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let response = attempt(per_account, "correct horse battery")
        .await
        .expect("send");
    assert_eq!(
        error_code(response, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
}

#[api_test_stack::test]
async fn a_mistyping_shopper_does_not_lock_out_the_account_elsewhere() {
    let app = TestApp::spawn_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    let email = unique_email("typo");
    assert_eq!(
        register(&app, &email, "correct horse battery")
            .await
            .status(),
        StatusCode::CREATED
    );
    let from = |address: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", address)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let pair_limit = app.settings.auth.login_max_failures_per_account_and_client;
    for _ in 0..pair_limit {
        let response = from("198.51.100.1", "wrong horse battery")
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = from("198.51.100.1", "correct horse battery")
        .await
        .expect("send");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "this client waits"
    );
    let response = from("198.51.100.2", "correct horse battery")
        .await
        .expect("send");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the owner elsewhere still gets in"
    );
}

#[api_test_stack::test]
async fn changing_the_login_email_needs_the_password() {
    let app = TestApp::spawn().await;
    let (token, _) = app.customer().await;
    let new_email = unique_email("moved");
    let response = app
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&token),
            Some(json!({"email": new_email})),
        )
        .await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"],
        "current_password"
    );
    let response = app
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&token),
            Some(json!({"email": new_email, "current_password": "correct horse battery"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        login(&app, &new_email, "correct horse battery")
            .await
            .status(),
        StatusCode::OK
    );
}

/// The Redis key of a session token, as the session store names it.
fn session_key(app: &TestApp, token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    let hash: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}session:{hash}", app.settings.redis.key_prefix)
}

async fn redis(app: &TestApp) -> redis::aio::MultiplexedConnection {
    use secrecy::ExposeSecret;
    redis::Client::open(app.settings.redis.url.expose_secret())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// A session unused for its idle timeout ends (staff's much sooner than a shopper's), every
/// use starts the idle clock again, and none outlives its absolute expiry.
#[api_test_stack::test]
async fn sessions_end_when_idle_staff_sooner_and_never_past_their_expiry() {
    use redis::AsyncCommands;
    let app = TestApp::spawn().await;
    let (customer, _) = app.customer().await;
    let staff = app.staff().await;
    let redis = redis(&app).await;
    let auth = &app.settings.auth;
    let (customer_idle, staff_idle) = (
        i64::try_from(auth.customer_idle_minutes * 60).expect("secs"),
        i64::try_from(auth.staff_idle_minutes * 60).expect("secs"),
    );
    assert!(staff_idle < customer_idle);
    let ttl = |key: String| {
        let mut redis = redis.clone();
        async move { redis.ttl::<_, i64>(key).await.expect("ttl") }
    };
    let mut redis = redis.clone();
    let customer_ttl = ttl(session_key(&app, &customer)).await;
    assert!(
        (customer_idle - 60..=customer_idle).contains(&customer_ttl),
        "{customer_ttl}"
    );
    let staff_ttl = ttl(session_key(&app, &staff)).await;
    assert!(
        (staff_idle - 60..=staff_idle).contains(&staff_ttl),
        "{staff_ttl}"
    );

    // Nearly idle for too long: one use, and the full idle timeout is back.
    let _: () = redis
        .expire(session_key(&app, &customer), 5)
        .await
        .expect("expire");
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&customer), None)
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let renewed = ttl(session_key(&app, &customer)).await;
    assert!(renewed > customer_idle - 60, "{renewed}");

    // Past its absolute expiry, a session ends however recently it was used.
    let key = session_key(&app, &staff);
    let stored: String = redis.get(&key).await.expect("session");
    let mut session: Value = serde_json::from_str(&stored).expect("session json");
    session["expires_at"] = json!("2020-01-01T00:00:00Z");
    let _: () = redis
        .set_ex(&key, session.to_string(), 600)
        .await
        .expect("age the session");
    let expired = app
        .request(Method::GET, "/api/v1/me", Some(&staff), None)
        .await;
    assert_eq!(
        error_code(expired, StatusCode::UNAUTHORIZED).await,
        "unauthenticated"
    );
    assert!(
        !redis.exists::<_, bool>(&key).await.expect("exists"),
        "and it is gone"
    );
}
