//! Crashes: the API as its own process, killed mid-checkout — at each step by a fail point
//! that aborts it there, and with SIGKILL during a burst of checkouts — then started again.
//! After a restart every order is whole, every interrupted checkout is settled with the
//! payment provider (paid, or cancelled with its stock back), every retry with the same key
//! hears one final answer, and `storefront-api check` finds nothing broken.
//!
//! The fail points exist only in builds with the `failpoints` feature, which
//! `cargo xtask test` turns on.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_api::payments::test_cards;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_consistent, checkout_body, error_code};

/// The request deadline of the crashing processes: a checkout's lease is a second longer,
/// so an interrupted checkout can be taken over three seconds after it began.
const REQUEST_TIMEOUT_SECS: &str = "2";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `storefront-api` on the test's databases, as its own process.
struct ApiProcess {
    /// Behind a lock so that a test can kill it while requests to it are in flight.
    child: Mutex<Child>,
    address: String,
}

impl ApiProcess {
    fn command(app: &TestApp) -> Command {
        crate::helpers::api_command(app)
    }

    /// Starts the API with `fail_point` (if any) set: a bare name aborts the process when
    /// reached (`return` in the checkout's fail points); `name=actions` sets its actions.
    async fn start(app: &TestApp, fail_point: Option<&str>) -> Self {
        let port = free_port();
        let mut command = Self::command(app);
        command
            .env("NEXUS_HTTP__PORT", port.to_string())
            .env("NEXUS_HTTP__REQUEST_TIMEOUT_SECS", REQUEST_TIMEOUT_SECS)
            .env("NEXUS_CHECKOUT__RECOVERY_INTERVAL_SECS", "1");
        match fail_point {
            Some(spec) if spec.contains('=') => {
                command.env("FAILPOINTS", spec);
            }
            Some(point) => {
                command.env("FAILPOINTS", format!("{point}=return"));
            }
            None => {}
        }
        let child = command.spawn().expect("start storefront-api");
        let process = Self {
            child: Mutex::new(child),
            address: format!("http://127.0.0.1:{port}"),
        };
        process.wait_until_serving().await;
        process
    }

    async fn wait_until_serving(&self) {
        // Generous: the binary starts slowly while compilers hold both cores.
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::Client::new();
        loop {
            let probe = client.get(format!("{}/healthz", self.address)).send().await;
            if probe.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "storefront-api did not serve within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn staff_post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("the API answers")
    }

    async fn checkout(&self, token: &str, key: &str) -> reqwest::Result<reqwest::Response> {
        reqwest::Client::new()
            .post(format!("{}/api/v1/checkout", self.address))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&checkout_body(test_cards::APPROVED))
            .send()
            .await
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// SIGKILL: no destructor, no graceful shutdown, no flush.
    fn kill(&self) {
        let mut child = self.child();
        child.kill().expect("SIGKILL storefront-api");
        child.wait().expect("reap storefront-api");
    }

    /// Waits for the process to end by itself (a fail point aborted it).
    fn wait_for_crash(&self) {
        let status = self.child().wait().expect("wait for storefront-api");
        assert!(
            !status.success(),
            "the fail point ends the process: {status}"
        );
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let mut child = self.child();
        drop(child.kill());
        drop(child.wait());
    }
}

async fn customer_with_cart(app: &TestApp, variant: Uuid, quantity: i32) -> String {
    let (token, _) = app.customer().await;
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/cart/items",
            Some(&token),
            Some(json!({"variant_id": variant, "quantity": quantity})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    token
}

/// Retries a checkout, as a shop would, until it has its final answer: a prompt 409
/// `checkout_in_progress` means the interrupted first attempt's lease has not run out yet,
/// a 503 `unavailable` that this attempt hit its deadline on a busy machine.
async fn final_answer(api: &ApiProcess, token: &str, key: &str) -> (StatusCode, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = api.checkout(token, key).await.expect("the API answers");
        let status = response.status();
        let body: Value = response.json().await.expect("an answer in JSON");
        let code = &body["error"]["code"];
        let try_again = (status == StatusCode::CONFLICT && code == "checkout_in_progress")
            || (status == StatusCode::SERVICE_UNAVAILABLE && code == "unavailable");
        if !try_again {
            return (status, body);
        }
        assert!(
            Instant::now() < deadline,
            "{key} stayed in progress for 60 s"
        );
    }
}

async fn stock_on_hand(app: &TestApp, variant: Uuid) -> i32 {
    sqlx::query_scalar("SELECT stock_on_hand FROM variants WHERE id = $1")
        .bind(variant)
        .fetch_one(&app.db)
        .await
        .expect("stock")
}

/// Kills the API at each step of a checkout and checks what the retry hears and what the
/// shop holds: the order, its charge and its stock.
#[api_test_stack::test]
async fn a_checkout_killed_at_each_step_is_settled_and_its_retry_hears_the_final_answer() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 100).await;
    // (fail point, whether the shopper ends up paid)
    let steps = [
        // Key claimed, nothing placed: the retry starts over and pays.
        ("checkout::claimed", true),
        // Order placed and stock taken, the card never charged: cancelled, stock back.
        ("checkout::placed", false),
        // The provider charged the card, the shop never recorded it: paid from the
        // provider's records.
        ("checkout::charged", true),
        // Paid and recorded, the answer never stored: the retry hears the paid order.
        ("checkout::answered", true),
    ];
    let mut sold = 0;
    for (point, paid) in steps {
        let token = customer_with_cart(&app, variant, 2).await;
        let key = format!("crash-at-{point}");
        let crashing = ApiProcess::start(&app, Some(point)).await;
        assert!(
            crashing.checkout(&token, &key).await.is_err(),
            "{point}: the connection dies with the process"
        );
        crashing.wait_for_crash();
        if point == "checkout::placed" {
            // The order awaits its payment: only the checkout's recovery may settle it, so
            // staff cannot cancel or mark it paid behind the provider's back.
            let pending: Uuid =
                sqlx::query_scalar("SELECT id FROM orders WHERE status = 'pending_payment'")
                    .fetch_one(&app.db)
                    .await
                    .expect("the order awaiting payment");
            for to in ["cancelled", "paid"] {
                let response = app
                    .request(
                        reqwest::Method::POST,
                        &format!("/api/v1/admin/orders/{pending}/transitions"),
                        Some(&staff),
                        Some(json!({ "to": to, "reason": "customer asked" })),
                    )
                    .await;
                assert_eq!(
                    error_code(response, StatusCode::CONFLICT).await,
                    "awaiting_payment",
                    "pending_payment -> {to}"
                );
            }
        }

        let restarted = ApiProcess::start(&app, None).await;
        let (status, answer) = final_answer(&restarted, &token, &key).await;
        if paid {
            sold += 2;
            assert_eq!(status, StatusCode::CREATED, "{point}: {answer}");
            assert_eq!(answer["order"]["status"], "paid", "{point}");
            let charges: Vec<&Value> = answer["order"]["payments"]
                .as_array()
                .expect("payments")
                .iter()
                .filter(|p| p["kind"] == "charge" && p["outcome"] == "succeeded")
                .collect();
            assert_eq!(charges.len(), 1, "{point}: charged once: {answer}");
            assert_eq!(charges[0]["card_last4"], "4242", "{point}");
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{point}: {answer}");
            assert_eq!(answer["error"]["code"], "payment_unavailable", "{point}");
            assert_eq!(answer["error"]["details"]["cart_kept"], true, "{point}");
        }
        // The answer is final: the same key hears it again, word for word.
        let (again_status, again) = final_answer(&restarted, &token, &key).await;
        assert_eq!(
            (again_status, &again),
            (status, &answer),
            "{point}: replayed"
        );
        assert_eq!(stock_on_hand(&app, variant).await, 100 - sold, "{point}");
        restarted.kill();
    }
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("orders");
    // One order per crash that got as far as placing one, plus the retry that started over.
    assert_eq!(orders, 4);
    assert_consistent(&app).await;
}

/// SIGKILL in the middle of 40 concurrent checkouts, then a restart: every order is whole,
/// none stays awaiting payment, every shopper's retry ends in one answer, and the
/// operators' check (the CLI) finds nothing broken.
#[api_test_stack::test]
async fn sigkill_during_a_burst_of_checkouts_loses_nothing() {
    const SHOPPERS: usize = 40;
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 1000).await;
    let mut tokens = Vec::with_capacity(SHOPPERS);
    for _ in 0..SHOPPERS {
        tokens.push(customer_with_cart(&app, variant, 3).await);
    }
    let api = ApiProcess::start(&app, None).await;
    let burst = futures::future::join_all(tokens.iter().enumerate().map(|(n, token)| {
        let api = &api;
        async move {
            api.checkout(token, &format!("burst-{n}"))
                .await
                .map(|r| r.status())
        }
    }));
    // Kill once some orders exist: the others are at every step of their checkout.
    let kill_when_placed = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let placed: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
                .fetch_one(&app.db)
                .await
                .expect("orders");
            if placed >= 5 {
                return;
            }
            assert!(Instant::now() < deadline, "no orders placed within 60 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let ((), answers) = tokio::join!(
        async {
            kill_when_placed.await;
            api.kill();
        },
        burst
    );
    let cut_off = answers.iter().filter(|answer| answer.is_err()).count();
    assert!(cut_off > 0, "the kill came in the middle of the burst");

    let restarted = ApiProcess::start(&app, None).await;
    let mut paid: usize = 0;
    for (n, token) in tokens.iter().enumerate() {
        let key = format!("burst-{n}");
        let (status, answer) = final_answer(&restarted, token, &key).await;
        match status {
            StatusCode::CREATED => paid += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer["error"]["code"], "payment_unavailable", "{answer}");
            }
            other => panic!("{key}: unexpected {other}: {answer}"),
        }
        let again = final_answer(&restarted, token, &key).await;
        assert_eq!(again, (status, answer), "{key}: one final answer");
    }
    eprintln!(
        "SIGKILL burst: {SHOPPERS} checkouts, {cut_off} cut off by the kill; after the restart \
         {paid} paid, {} refused (not charged, stock back)",
        SHOPPERS - paid
    );
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'pending_payment'")
            .fetch_one(&app.db)
            .await
            .expect("pending");
    assert_eq!(pending, 0, "no order is left awaiting payment");
    let paid_orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'paid'")
        .fetch_one(&app.db)
        .await
        .expect("paid");
    assert_eq!(
        usize::try_from(paid_orders).expect("count"),
        paid,
        "one paid order per shopper who heard 201"
    );
    assert_eq!(
        stock_on_hand(&app, variant).await,
        1000 - 3 * i32::try_from(paid).expect("count")
    );
    assert_consistent(&app).await;
    restarted.kill();

    // The operators' command says the same.
    let check = ApiProcess::command(&app)
        .arg("check")
        .stdout(Stdio::piped())
        .output()
        .expect("run storefront-api check");
    let report = String::from_utf8_lossy(&check.stdout);
    eprintln!("storefront-api check after the SIGKILL burst:\n{report}");
    assert!(check.status.success(), "{report}");
    assert!(report.contains("consistency rules hold"), "{report}");
}

fn succeeded<'a>(order: &'a Value, kind: &str) -> Vec<&'a Value> {
    order["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .filter(|p| p["kind"] == kind && p["outcome"] == "succeeded")
        .collect()
}

/// The provider charged the card and its answer was lost on the way back (the connection
/// cut): the shop asks the provider what became of the charge before it concludes anything,
/// so the shopper gets the paid order — not a cancelled order with the money taken.
#[api_test_stack::test]
async fn a_charge_whose_answer_was_lost_is_paid_not_cancelled() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 10).await;
    let token = customer_with_cart(&app, variant, 2).await;
    let api = ApiProcess::start(&app, Some("payments::charge_answer_lost=return")).await;

    let (status, answer) = final_answer(&api, &token, "answer-lost").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["order"]["status"], "paid");
    let charges = succeeded(&answer["order"], "charge");
    assert_eq!(charges.len(), 1, "charged once: {answer}");
    assert_eq!(charges[0]["card_last4"], "4242");
    let at_provider: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM simulated_provider_charges WHERE outcome = 'approved'",
    )
    .fetch_one(&app.db)
    .await
    .expect("provider ledger");
    assert_eq!(at_provider, 1, "the provider took the money once");
    assert_eq!(stock_on_hand(&app, variant).await, 8);
    assert_consistent(&app).await;
}

/// The provider paid a refund back and its answer was lost: the refund stays pending
/// (reserved on the order, so no second refund can overdraw it), staff hear 202, and the
/// reaper asks the provider again with the same refund id — which pays nothing more and
/// answers as the first time — and settles it. Paid out once, recorded once.
#[api_test_stack::test]
async fn a_refund_whose_answer_was_lost_is_settled_once_by_the_reaper() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let variant = app.stocked_variant(&staff, 10).await;
    let token = customer_with_cart(&app, variant, 1).await;
    // Only the first refund's answer is lost.
    let api = ApiProcess::start(&app, Some("payments::refund_answer_lost=1*return")).await;
    let (status, answer) = final_answer(&api, &token, "refund-me").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let order_id = answer["order"]["id"].as_str().expect("order id").to_owned();
    let total = answer["order"]["totals"]["total"]["amount_minor"]
        .as_i64()
        .expect("total");
    let refunds = format!("/api/v1/admin/orders/{order_id}/refunds");

    let pending = api
        .staff_post(
            &staff,
            &refunds,
            json!({"amount_minor": 500, "reason": "Scratched"}),
        )
        .await;
    assert_eq!(pending.status(), StatusCode::ACCEPTED);
    let pending: Value = pending.json().await.expect("json");
    let refund = pending["order"]["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .find(|p| p["kind"] == "refund")
        .expect("the refund is on the order");
    assert_eq!(refund["outcome"], "pending", "{pending}");
    assert_eq!(pending["order"]["totals"]["refunded"]["amount_minor"], 500);
    // The pending refund is reserved: the rest of the order is all that is left to refund.
    let over = api
        .staff_post(
            &staff,
            &refunds,
            json!({"amount_minor": total - 499, "reason": "All of it"}),
        )
        .await;
    assert_eq!(
        error_code(over, StatusCode::CONFLICT).await,
        "refund_exceeds_payment"
    );

    // The reaper (every second; a lease of three) settles it from the provider's answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let outcome: String =
            sqlx::query_scalar("SELECT outcome FROM payments WHERE kind = 'refund'")
                .fetch_one(&app.db)
                .await
                .expect("the refund");
        if outcome != "pending" {
            assert_eq!(outcome, "succeeded");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the refund stayed pending for 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (paid_back, times): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(amount_minor), 0)::bigint, count(*) FROM simulated_provider_refunds
          WHERE outcome = 'refunded'",
    )
    .fetch_one(&app.db)
    .await
    .expect("provider ledger");
    assert_eq!((paid_back, times), (500, 1), "the provider paid back once");
    let order = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/admin/orders/{order_id}"),
            Some(&staff),
            None,
        )
        .await;
    let order: Value = order.json().await.expect("json");
    let refunds = succeeded(&order["order"], "refund");
    assert_eq!(refunds.len(), 1, "recorded once: {order}");
    assert_eq!(refunds[0]["amount"]["amount_minor"], 500);
    assert_eq!(order["order"]["totals"]["refunded"]["amount_minor"], 500);
    assert_consistent(&app).await;
}
