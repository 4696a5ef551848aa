//! Webhooks: staff register endpoints; the outbox relay delivers each message at least once,
//! signed, an order's messages in order, retrying failures and giving up (dead, replayable)
//! after the last attempt; endpoints on private networks are refused before any connection.
//! The receivers are real HTTP servers the tests start on loopback.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use api_test_stack::wait_for;
use axum::{body::Bytes, http::HeaderMap, routing::post};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::config::Settings;
use storefront_client::webhooks::{DEFAULT_TOLERANCE_SECS, verify};
use uuid::Uuid;

use crate::helpers::{Options, TestApp, error_code};

/// Loopback receivers, plain http, quick retries.
fn local_receivers(settings: &mut Settings) {
    settings.webhooks.allow_http = true;
    settings.webhooks.allow_private_networks = true;
    settings.relay.poll_interval_ms = 50;
    settings.relay.backoff_base_secs = 1;
    settings.relay.backoff_max_secs = 1;
    settings.relay.max_attempts = 5;
}

async fn app_for_local_receivers() -> TestApp {
    TestApp::spawn_with(Options {
        settings: Some(local_receivers),
        ..Options::default()
    })
    .await
}

/// One request a receiver got.
#[derive(Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An HTTP receiver on loopback that answers the n-th request (0-based) with `answer(n)`.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(answer: fn(usize) -> StatusCode) -> Self {
        let (_, open) = tokio::sync::watch::channel(true);
        Self::start_gated(answer, open).await
    }

    /// A receiver that takes each request in, then holds its answer until `gate` is true.
    async fn start_gated(
        answer: fn(usize) -> StatusCode,
        gate: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let handler = move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let mut gate = gate.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                    });
                    log.len() - 1
                };
                let _ = gate.wait_for(|open| *open).await;
                (answer(n), format!("answer {n}"))
            }
        };
        let router = axum::Router::new().route("/hooks", post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Registers an endpoint as an admin; returns (endpoint id, secret).
async fn register(app: &TestApp, admin: &str, url: &str, topics: &[&str]) -> (Uuid, String) {
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(admin),
            Some(json!({ "url": url, "topics": topics, "description": "ERP" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = body["webhook_endpoint"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (id, secret)
}

/// A customer's paid order of one poster; returns its id.
async fn paid_order(app: &TestApp, admin: &str) -> Uuid {
    let variant = app.stocked_variant(admin, 5).await;
    let (token, _) = app.customer().await;
    let added = app
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(&token),
            Some(json!({"variant_id": variant, "quantity": 1})),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let paid = app
        .checkout_approved(&token, &Uuid::new_v4().to_string())
        .await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let order: Value = paid.json().await.unwrap();
    order["order"]["id"].as_str().unwrap().parse().unwrap()
}

/// Writes `count` `stock.low` messages straight to the outbox, as the stock ledger would.
async fn publish_stock_low(app: &TestApp, count: usize) {
    for n in 0..count {
        sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('stock.low', $1)")
            .bind(json!({ "n": n }))
            .execute(&app.db)
            .await
            .unwrap();
    }
}

async fn delivery_log(app: &TestApp, admin: &str, endpoint: Uuid) -> Vec<Value> {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/webhooks/{endpoint}/deliveries"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

#[api_test_stack::test]
async fn a_receiver_that_fails_three_times_gets_the_message_four_times_signed_and_in_order() {
    let app = app_for_local_receivers().await;
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    // The first three requests fail: all of them the order's first message, since its
    // second waits until the first is through.
    let receiver = Receiver::start(|n| match n {
        0..=2 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::NO_CONTENT,
    })
    .await;
    let (endpoint, secret) =
        register(&app, &admin, &receiver.url, &["order.placed", "order.paid"]).await;

    let order_id = paid_order(&app, &admin).await;
    wait_for(
        "both messages delivered",
        Duration::from_secs(60),
        async || receiver.received().len() >= 5,
    )
    .await;

    let received = receiver.received();
    let topics: Vec<String> = received
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        topics,
        [
            "order.placed",
            "order.placed",
            "order.placed",
            "order.placed",
            "order.paid"
        ]
    );
    let placed = &received[..4];
    assert!(
        placed.iter().all(|r| r.id == placed[0].id),
        "one id on every attempt"
    );
    assert_ne!(received[4].id, placed[0].id);
    for request in &received {
        assert_eq!(
            verify(
                &secret,
                &request.id,
                &request.timestamp,
                &request.signature,
                &request.body,
                chrono::Utc::now(),
                DEFAULT_TOLERANCE_SECS,
            ),
            Ok(()),
            "every delivery verifies with the endpoint's secret"
        );
        let message = request.json();
        assert_eq!(message["id"].as_str().unwrap(), request.id);
        assert_eq!(message["data"]["order_id"], json!(order_id));
        assert_eq!(message["data"]["order"]["id"], json!(order_id));
    }
    assert_eq!(received[4].json()["data"]["order"]["status"], "paid");

    // The log shows each attempt with its status code and the receiver's words.
    let log = delivery_log(&app, &admin, endpoint).await;
    assert_eq!(log.len(), 2);
    let placed_log = log.iter().find(|d| d["topic"] == "order.placed").unwrap();
    assert_eq!(placed_log["status"], "delivered");
    assert_eq!(placed_log["attempts"], 4);
    assert_eq!(placed_log["message_id"].as_str().unwrap(), placed[0].id);
    let codes: Vec<i64> = placed_log["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 500, 204]);
    assert_eq!(placed_log["attempt_log"][0]["response_excerpt"], "answer 0");
}

#[api_test_stack::test]
async fn two_relays_deliver_each_message_exactly_once() {
    let app = app_for_local_receivers().await;
    // A second relay on the same database, as on another instance.
    let second = storefront_api::startup::build_state(app.settings.clone())
        .await
        .unwrap();
    tokio::spawn(storefront_api::relay::run(second));
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let receiver = Receiver::start(|_| StatusCode::OK).await;
    register(&app, &admin, &receiver.url, &["stock.low"]).await;

    const MESSAGES: usize = 300;
    publish_stock_low(&app, MESSAGES).await;
    wait_for(
        "every message delivered",
        Duration::from_secs(120),
        async || {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
            )
            .fetch_one(&app.db)
            .await
            .unwrap()
                == MESSAGES as i64
        },
    )
    .await;

    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), MESSAGES, "every message arrived");
    assert_eq!(received.len(), MESSAGES, "and none twice");
}

#[api_test_stack::test]
async fn dead_messages_disable_a_failing_endpoint_and_are_replayed_once_it_is_back() {
    let app = TestApp::spawn_with(Options {
        settings: Some(|settings| {
            local_receivers(settings);
            settings.relay.max_attempts = 2;
            settings.relay.disable_after_dead_in_a_row = 2;
        }),
        ..Options::default()
    })
    .await;
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    // Down for the first four requests (two messages, two attempts each), then fine.
    let receiver = Receiver::start(|n| {
        if n < 4 {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    })
    .await;
    let (endpoint, _) = register(&app, &admin, &receiver.url, &["stock.low"]).await;
    publish_stock_low(&app, 2).await;
    let get_endpoint = async || -> Value {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/admin/webhooks/{endpoint}"),
                Some(&admin),
                None,
            )
            .await;
        response.json::<Value>().await.unwrap()["webhook_endpoint"].clone()
    };
    wait_for(
        "the endpoint disabled",
        Duration::from_secs(60),
        async || !get_endpoint().await["disabled_at"].is_null(),
    )
    .await;
    let disabled = get_endpoint().await;
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("2 messages in a row"),
        "{disabled}"
    );
    assert_eq!(receiver.received().len(), 4);
    let log = delivery_log(&app, &admin, endpoint).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "dead" && d["attempts"] == 2)
    );

    // Back on, and the dead messages replayed: each arrives once more, with its own id.
    let enabled = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/webhooks/{endpoint}"),
            Some(&admin),
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    for delivery in &log {
        let replayed = app
            .request(
                Method::POST,
                &format!(
                    "/api/v1/admin/webhooks/{endpoint}/deliveries/{}/replay",
                    delivery["id"]
                ),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(replayed.status(), StatusCode::ACCEPTED);
    }
    wait_for(
        "the replays delivered",
        Duration::from_secs(60),
        async || {
            delivery_log(&app, &admin, endpoint)
                .await
                .iter()
                .all(|d| d["status"] == "delivered")
        },
    )
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 6);
    for delivery in &log {
        let id = delivery["message_id"].as_str().unwrap();
        assert_eq!(received.iter().filter(|r| r.id == id).count(), 3);
    }
    // A delivered message can be replayed too; one still pending cannot be (409).
    let replay_again = app
        .request(
            Method::POST,
            &format!(
                "/api/v1/admin/webhooks/{endpoint}/deliveries/{}/replay",
                log[0]["id"]
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(replay_again.status(), StatusCode::ACCEPTED);
}

#[api_test_stack::test]
async fn private_addresses_plain_http_and_unknown_topics_are_refused_before_any_connection() {
    // The shop's default policy: https only, public addresses only.
    let app = TestApp::spawn().await;
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let receiver = Receiver::start(|_| StatusCode::OK).await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for (url, says) in [
        (format!("https://127.0.0.1:{port}/hooks"), "loopback"),
        (format!("https://localhost:{port}/hooks"), "loopback"),
        (format!("https://[::1]:{port}/hooks"), "loopback"),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "link-local",
        ),
        ("https://10.0.0.8/hooks".to_owned(), "private"),
        (receiver.url.clone(), "https"),
    ] {
        let response = app
            .request(
                Method::POST,
                "/api/v1/admin/webhooks",
                Some(&admin),
                Some(json!({ "url": url, "topics": ["order.paid"] })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = response.json().await.unwrap();
        let field = &body["error"]["details"]["fields"][0];
        assert_eq!(field["field"], "url", "{url}: {body}");
        assert!(
            field["message"].as_str().unwrap().contains(says),
            "{url}: {body}"
        );
    }
    let unknown = app
        .request(
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(&admin),
            Some(json!({ "url": "https://erp.example.com/hooks", "topics": ["order.exploded"] })),
        )
        .await;
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    let field = &body["error"]["details"]["fields"][0];
    assert_eq!(field["field"], "topics");
    assert!(
        field["message"]
            .as_str()
            .unwrap()
            .contains("`order.exploded`")
    );
    assert!(receiver.received().is_empty(), "nothing was sent anywhere");

    // Webhooks carry customers' data: only roles with `integrations` manage them.
    let staff = app.staff().await;
    let forbidden = app
        .request(Method::GET, "/api/v1/admin/webhooks", Some(&staff), None)
        .await;
    error_code(forbidden, StatusCode::FORBIDDEN).await;
}

/// `storefront-api relay` on the test's databases, as its own process.
fn relay_process(app: &TestApp) -> std::process::Child {
    crate::helpers::api_command(app)
        .arg("relay")
        .env("NEXUS_WEBHOOKS__ALLOW_HTTP", "true")
        .env("NEXUS_WEBHOOKS__ALLOW_PRIVATE_NETWORKS", "true")
        .env("NEXUS_RELAY__POLL_INTERVAL_MS", "50")
        .env("NEXUS_RELAY__ATTEMPT_TIMEOUT_SECS", "2")
        .spawn()
        .expect("storefront-api relay starts")
}

async fn delivered(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[api_test_stack::test]
async fn a_relay_killed_mid_delivery_loses_nothing_the_next_one_delivers_it() {
    // Only the relay processes relay: the test's own instance does not.
    let app = TestApp::spawn_with(Options {
        settings: Some(|settings| {
            local_receivers(settings);
            settings.relay.enabled = false;
        }),
        ..Options::default()
    })
    .await;
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let (release, gate) = tokio::sync::watch::channel(false);
    let receiver = Receiver::start_gated(|_| StatusCode::OK, gate).await;
    register(&app, &admin, &receiver.url, &["stock.low"]).await;
    const MESSAGES: usize = 20;
    publish_stock_low(&app, MESSAGES).await;

    let mut first = relay_process(&app);
    wait_for(
        "deliveries in flight",
        Duration::from_secs(60),
        async || !receiver.received().is_empty(),
    )
    .await;
    let in_flight: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(
        delivered(&app).await,
        0,
        "nothing was answered before the kill"
    );

    // The receiver answers from now on; a new relay takes the lapsed leases over.
    release.send(true).unwrap();
    let mut second = relay_process(&app);
    wait_for(
        "every message delivered",
        Duration::from_secs(90),
        async || delivered(&app).await == MESSAGES as i64,
    )
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        MESSAGES,
        "{MESSAGES} messages in, {MESSAGES} out"
    );
    for id in &in_flight {
        assert!(
            received.iter().filter(|r| &r.id == id).count() >= 2,
            "a message in flight at the kill is sent again, with its id"
        );
    }
}

#[api_test_stack::test]
async fn messages_past_retention_go_with_their_logs_once_nothing_is_left_to_send() {
    let app = app_for_local_receivers().await;
    let admin = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let receiver = Receiver::start(|_| StatusCode::NO_CONTENT).await;
    register(&app, &admin, &receiver.url, &["customer.registered"]).await;
    let mut customers = Vec::new();
    for _ in 0..3 {
        customers.push(app.customer().await.1.to_string());
    }
    wait_for(
        "three registrations delivered",
        Duration::from_secs(60),
        async || receiver.received().len() >= 3,
    )
    .await;
    let message_of = |customer: &str| {
        let db = app.db.clone();
        let customer = customer.to_owned();
        async move {
            sqlx::query_scalar!(
                "SELECT id FROM outbox WHERE payload ->> 'customer_id' = $1",
                customer
            )
            .fetch_one(&db)
            .await
            .expect("the message")
        }
    };
    let (old, old_but_pending, recent) = (
        message_of(&customers[0]).await,
        message_of(&customers[1]).await,
        message_of(&customers[2]).await,
    );
    // Two messages were processed 31 days ago; one of them still has a delivery to make.
    sqlx::query!(
        "UPDATE outbox SET processed_at = now() - interval '31 days' WHERE id = ANY($1)",
        &[old, old_but_pending]
    )
    .execute(&app.db)
    .await
    .expect("backdated");
    sqlx::query!(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + interval '1 day'
          WHERE outbox_id = $1",
        old_but_pending
    )
    .execute(&app.db)
    .await
    .expect("pending again");

    let swept = storefront_api::storage::outbox::sweep(&app.db, 30, 100)
        .await
        .expect("sweep");
    assert_eq!(
        swept, 1,
        "only the old message with nothing left to send goes"
    );
    let left: Vec<i64> = sqlx::query_scalar!(
        "SELECT id FROM outbox WHERE id = ANY($1) ORDER BY id",
        &[old, old_but_pending, recent]
    )
    .fetch_all(&app.db)
    .await
    .expect("outbox");
    assert_eq!(left, [old_but_pending, recent]);
    let logs = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM webhook_attempts a
             JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.outbox_id = $1"#,
        old
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(logs, 0, "its delivery log went with it");
}
