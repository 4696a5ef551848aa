//! A chaos proxy between the API and PostgreSQL, as the Rust registry's server tests with:
//! the test slows every packet down, or cuts every connection and refuses new ones (what the
//! API sees when PostgreSQL restarts), then lets traffic through again. Requests in flight
//! fail with 503 naming `postgres`, nothing is committed twice, and the pool reconnects.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::helpers::{Options, TestApp, assert_consistent};

/// What the proxy does to the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards everything as it comes.
    Pass,
    /// Holds every chunk this long before forwarding it.
    Slow(Duration),
    /// Closes every connection and refuses new ones: PostgreSQL is gone.
    Down,
}

struct ChaosProxy {
    port: u16,
    mode: watch::Sender<Mode>,
    /// Connections accepted so far, for the test to see that the pool reconnected.
    accepted: Arc<Mutex<u64>>,
}

impl ChaosProxy {
    async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (mode, watching) = watch::channel(Mode::Pass);
        let accepted = Arc::new(Mutex::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if *watching.borrow() == Mode::Down {
                    drop(client);
                    continue;
                }
                *counter.lock().expect("counter") += 1;
                tokio::spawn(forward(client, upstream, watching.clone()));
            }
        });
        Self {
            port,
            mode,
            accepted,
        }
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    fn accepted(&self) -> u64 {
        *self.accepted.lock().expect("counter")
    }
}

/// Copies both ways, chunk by chunk, as the mode says; ends both sides when it goes down.
async fn forward(client: TcpStream, upstream: u16, mode: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pump(client_read, server_write, mode.clone()) => {}
        () = pump(server_read, client_write, mode.clone()) => {}
        () = gone(mode) => {}
    }
}

async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    mode: watch::Receiver<Mode>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let current = *mode.borrow();
        match current {
            Mode::Pass => {}
            Mode::Slow(delay) => tokio::time::sleep(delay).await,
            Mode::Down => return,
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

async fn gone(mut mode: watch::Receiver<Mode>) {
    drop(mode.wait_for(|mode| *mode == Mode::Down).await);
}

fn postgres_port() -> u16 {
    let url = crate::helpers::env_or(
        "NEXUS_TEST_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432",
    );
    url.rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse().ok())
        .unwrap_or(5432)
}

/// The app with PostgreSQL behind `proxy` and a request deadline of `deadline_secs`.
async fn spawn_behind(proxy: &ChaosProxy, deadline_secs: u64) -> TestApp {
    TestApp::spawn_with(Options {
        database_port: Some(proxy.port),
        request_timeout_secs: Some(deadline_secs),
        ..Options::default()
    })
    .await
}

async fn checkout(app: &TestApp, token: &str, key: &str) -> (StatusCode, Value) {
    let response = app.checkout_approved(token, key).await;
    let status = response.status();
    (status, response.json().await.expect("an answer in JSON"))
}

async fn order_history(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/orders", Some(token), None)
        .await
}

async fn add_to_cart(app: &TestApp, token: &str, variant: uuid::Uuid) {
    app.add_to_cart(token, variant, 1).await;
}

#[api_test_stack::test]
async fn postgres_going_away_fails_requests_with_503_and_the_pool_reconnects() {
    let proxy = ChaosProxy::start(postgres_port()).await;
    // Longer than the pool's 5 s wait for a connection, so that its timeout is what answers.
    let app = spawn_behind(&proxy, 10).await;
    let (token, _) = app.customer().await;
    assert_eq!(order_history(&app, &token).await.status(), StatusCode::OK);

    proxy.set(Mode::Down);
    let history = order_history(&app, &token).await;
    assert_eq!(history.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = history.json().await.expect("an error envelope");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert_eq!(body["error"]["details"]["dependency"], "postgres", "{body}");
    let readiness: Value = app.get("/readyz").await.json().await.expect("readiness");
    assert_eq!(readiness["checks"]["postgres"]["status"], "down");

    let before = proxy.accepted();
    proxy.set(Mode::Pass);
    assert_eq!(order_history(&app, &token).await.status(), StatusCode::OK);
    assert!(proxy.accepted() > before, "the pool opened new connections");
}

/// A slow database pushes a checkout past its deadline, then the connection drops in the
/// middle of the retry: whatever was cut off, the key ends with one order, charged once.
#[api_test_stack::test]
async fn a_slow_then_broken_database_never_commits_a_checkout_twice() {
    let proxy = ChaosProxy::start(postgres_port()).await;
    let app = spawn_behind(&proxy, 3).await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 10).await;
    let (token, _) = app.customer().await;
    add_to_cart(&app, &token, variant).await;

    // Every packet held 300 ms: a checkout's dozens of round trips outlast its 3 s.
    proxy.set(Mode::Slow(Duration::from_millis(300)));
    let (status, body) = checkout(&app, &token, "chaos").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");

    // The retry meets a database that goes away under it.
    let retry = checkout(&app, &token, "chaos");
    let cut = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.set(Mode::Down);
    };
    let ((status, body), ()) = tokio::join!(retry, cut);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    proxy.set(Mode::Pass);
    // Retried as a shop would, until the key has its final answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (status, answer) = loop {
        let (status, body) = checkout(&app, &token, "chaos").await;
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !matches!(code.as_str(), "checkout_in_progress" | "unavailable") {
            break (status, body);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no final answer: {body}"
        );
    };
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("orders");
    assert!(orders <= 1, "one key, at most one order: {orders}");
    let charges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payments WHERE kind = 'charge' AND outcome = 'succeeded'",
    )
    .fetch_one(&app.db)
    .await
    .expect("charges");
    if status == StatusCode::CREATED {
        assert_eq!((orders, charges), (1, 1), "{answer}");
    } else {
        assert_eq!(answer["error"]["code"], "payment_unavailable", "{answer}");
        assert_eq!(charges, 0);
    }
    assert_consistent(&app).await;
}
