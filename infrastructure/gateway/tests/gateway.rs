//! The gateway of `infrastructure/nginx/nginx.conf`, running (Debian's nginx) in front of real
//! storefront-api instances of one shop and the web shop: what a shopper or a client of the
//! API notices when an instance dies, is replaced or deploys a model, and what the gateway
//! itself refuses.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate};
use churn_lab::{
    Events, ModelArtifact, Transactions,
    models::ModelKind,
    synthetic,
    training::{Silent, TrainingConfig, train},
};
use futures::future::join_all;
use serde_json::Value;
use tokio::sync::Mutex;

use support::{Site, admin_token, checkout_body, instance};

/// HTTPS with the certificate made for this run, plain HTTP only to be sent there, the usual
/// security headers on the shop's pages, and the gateway's own refusals in the API's error
/// envelope: bodies over 1 MiB, a login brute force, the metrics.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_the_shop_over_https_and_guards_its_edge() {
    let site = Site::start(2, &[]).await;

    // Plain HTTP moves to HTTPS, path and query kept; the gateway's probe still answers.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = site.gateway.http_url();
    let response = plain
        .get(format!("{http}/products?page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(
        response.headers()["location"],
        format!(
            "https://127.0.0.1:{}/products?page=2",
            site.gateway.local.https.port()
        )
        .as_str()
    );
    let probe = plain.get(format!("{http}/healthz")).send().await.unwrap();
    assert_eq!(probe.status(), 200);

    // A shop page over HTTPS (the client checks the certificate) with the security headers.
    let page = site.client.get(site.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    for (name, value) in [
        ("strict-transport-security", "max-age=63072000"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ] {
        assert_eq!(headers.get(name).map(|v| v.to_str().unwrap()), Some(value));
    }
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(headers.contains_key("x-request-id"));
    assert!(
        page.text().await.unwrap().contains("<html"),
        "the shop rendered a page"
    );

    // The API through the gateway: an instance answers and says which.
    let products = site
        .client
        .get(site.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), 200);
    assert!(instance(&products).is_some_and(|name| name.starts_with("api-")));

    // Metrics are each instance's, scraped inside the network: not served to the outside.
    let metrics = site.client.get(site.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 404);
    assert_eq!(error_code(metrics).await, "not_found");
    let inside = reqwest::get(format!("{}/metrics", site.api.instance_url(0)))
        .await
        .unwrap();
    assert_eq!(
        inside.status(),
        200,
        "an instance serves its metrics inside"
    );

    // A body over the gateway's 1 MiB never reaches an instance.
    let oversized = site
        .client
        .post(site.url("/api/v1/cart/items"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    assert_eq!(instance(&oversized), None);
    assert_eq!(error_code(oversized).await, "payload_too_large");

    // A burst of login attempts from one address: the gateway lets 5/s (bursts of 10)
    // through to the API, which refuses the wrong passwords, and answers the rest itself with
    // 429 and when to come back.
    let attempts = (0..30).map(|n| {
        site.client
            .post(site.url("/api/v1/auth/login"))
            .json(&serde_json::json!({
                "email": format!("nobody-{n}@example.com"),
                "password": "Not-the-password-1",
            }))
            .send()
    });
    let mut braked = 0;
    let mut refused_by_the_api = 0;
    for response in join_all(attempts).await {
        let response = response.unwrap();
        match response.status().as_u16() {
            401 => refused_by_the_api += 1,
            429 => {
                assert_eq!(instance(&response), None, "the gateway answered");
                assert_eq!(response.headers()["retry-after"], "1");
                assert_eq!(error_code(response).await, "rate_limited");
                braked += 1;
            }
            status => panic!("a login attempt got {status}"),
        }
    }
    // Exactly how many pass depends on how fast the 30 arrive (TLS handshakes take turns):
    // a burst's worth at least, and far from all.
    assert!(
        refused_by_the_api >= 5 && braked >= 10,
        "{refused_by_the_api} reached the API, {braked} were braked"
    );
}

/// A model activated through the gateway (so on one instance) is the model every instance
/// scores with within a second: activations travel over Redis pub/sub, not a restart.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_activated_through_one_instance_scores_on_every_instance_within_a_second() {
    let site = Site::start(3, &[]).await;
    let (first, second) = tokio::task::spawn_blocking(|| {
        (
            artifact(ModelKind::GradientBoosting, 5),
            artifact(ModelKind::Logistic, 6),
        )
    })
    .await
    .unwrap();
    let token = admin_token(&site.api.url).await;
    for model in [&first, &second] {
        let response = site
            .client
            .post(site.url("/api/v1/admin/churn/models"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(model.to_json())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    let activate = async |version: &str| {
        let response = site
            .client
            .post(site.url(&format!("/api/v1/admin/churn/models/{version}/activate")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        instance(&response).expect("an instance activated it")
    };
    activate(&first.version).await;
    let customer = scorable_customer(&site, &token).await;
    let versions = async || {
        let mut versions = Vec::new();
        for index in 0..site.api.instance_count() {
            let response = reqwest::Client::new()
                .get(format!(
                    "{}/api/v1/admin/customers/{customer}/churn",
                    site.api.instance_url(index)
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            versions.push(body["churn"]["model_version"].as_str().map(str::to_owned));
        }
        versions
    };
    api_test_stack::wait_for(
        "the first model on every instance",
        Duration::from_secs(30),
        async || {
            versions()
                .await
                .iter()
                .all(|v| v.as_deref() == Some(&first.version))
        },
    )
    .await;

    // From the activation's answer: one instance has it; pub/sub tells the others.
    let through = activate(&second.version).await;
    let activated_at = Instant::now();
    let mut rounds = tokio::time::interval(Duration::from_millis(50));
    loop {
        rounds.tick().await;
        let now = versions().await;
        if now.iter().all(|v| v.as_deref() == Some(&second.version)) {
            break;
        }
        assert!(
            activated_at.elapsed() < Duration::from_secs(1),
            "a second after {through} activated {}, the instances score with {now:?}",
            second.version
        );
    }
    eprintln!(
        "every instance scored with the activated model {} ms after the activation's answer",
        activated_at.elapsed().as_millis()
    );
}

/// Three instances behind the gateway under a steady load of reads: requests spread over
/// all of them; one killed (SIGKILL) mid-checkout costs no read, and its checkouts, retried
/// by the client with their Idempotency-Keys, are each paid once; it comes back and takes
/// its share again; another stopped with SIGTERM finishes its checkouts in flight and exits,
/// and still no request fails.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_killed_or_stopped_under_load_cost_no_request() {
    let site = Site::start(
        3,
        &[
            // Every checkout stays in flight for 4 s once the card is charged: the moment
            // an instance dies or is stopped, it is holding some.
            ("FAILPOINTS", "checkout::charged_hold=return(4000)"),
            // An interrupted checkout is settled soon after its deadline passes.
            ("NEXUS_HTTP__REQUEST_TIMEOUT_SECS", "8"),
            ("NEXUS_CHECKOUT__RECOVERY_INTERVAL_SECS", "1"),
        ],
    )
    .await;

    // Spread: sequential reads reach every instance.
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        let response = site
            .client
            .get(site.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        seen.extend(instance(&response));
    }
    assert_eq!(
        seen,
        BTreeSet::from(["api-1".to_owned(), "api-2".to_owned(), "api-3".to_owned()])
    );

    let variant = site.stocked_variant(80).await;
    let admin = admin_token(&site.api.url).await;
    let load = ReadLoad::start(&site);
    load.wait_for_more(100).await;

    // SIGKILL to api-2 while it holds checkouts.
    let (buyers, outcomes) = checkouts_meanwhile(&site, &variant, &admin, 1, async || {
        site.api.kill(1);
        // From here on, only the instances alive answer.
        load.instances().await;
    })
    .await;
    load.wait_for_more(200).await;
    let retried = outcomes
        .iter()
        .filter(|outcome| outcome.attempts > 1)
        .count();
    assert!(
        retried >= 1,
        "no checkout was on the killed instance: {outcomes:?}"
    );
    for (token, outcome) in buyers.iter().zip(&outcomes) {
        assert_one_order_as_answered(&site, token, outcome).await;
    }
    report("SIGKILL", &outcomes);

    // api-2 back on its port: the gateway sends it requests again.
    site.api.start_instance(1).await;
    load.instances().await;
    api_test_stack::wait_for(
        "api-2 behind the gateway again",
        Duration::from_secs(30),
        async || load.instances().await.contains("api-2"),
    )
    .await;

    // SIGTERM to api-3 while it holds checkouts: it finishes them, then exits cleanly.
    let (buyers, outcomes) = checkouts_meanwhile(&site, &variant, &admin, 2, async || {
        site.api.terminate(2);
    })
    .await;
    for (token, outcome) in buyers.iter().zip(&outcomes) {
        assert_eq!(
            (outcome.status, outcome.attempts),
            (201, 1),
            "a checkout in flight on a stopping instance is finished, not cut: {outcome:?}"
        );
        assert_one_order_as_answered(&site, token, outcome).await;
    }
    report("SIGTERM", &outcomes);
    assert!(
        outcomes
            .iter()
            .any(|outcome| outcome.instance.as_deref() == Some("api-3")),
        "no checkout was on the stopped instance: {outcomes:?}"
    );
    let mut exit = None;
    api_test_stack::wait_for("api-3 to exit", Duration::from_secs(30), async || {
        exit = site.api.stopped(2);
        exit.is_some()
    })
    .await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");
    load.wait_for_more(200).await;

    let (served, failures) = load.stop().await;
    eprintln!(
        "reads through the gateway: {served} served, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {served} reads failed: {failures:?}\nnginx: {}",
        failures.len(),
        site.nginx_log()
    );
}

/// Readers that GET the catalog through the gateway until stopped, counting what they got.
struct ReadLoad {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    instances: Arc<Mutex<BTreeSet<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl ReadLoad {
    const READERS: usize = 6;

    fn start(site: &Site) -> Self {
        let load = Self {
            stop: Arc::default(),
            served: Arc::default(),
            failures: Arc::default(),
            instances: Arc::default(),
            readers: Vec::new(),
        };
        let readers = (0..Self::READERS)
            .map(|reader| {
                let (client, stop, served) =
                    (site.client.clone(), load.stop.clone(), load.served.clone());
                let (failures, instances) = (load.failures.clone(), load.instances.clone());
                let paths = [
                    site.url("/api/v1/products?limit=20"),
                    site.url("/api/v1/categories"),
                    site.url(&format!("/api/v1/products?page={}", reader + 1)),
                ];
                tokio::spawn(async move {
                    for path in paths.iter().cycle() {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        match client.get(path).send().await {
                            Ok(response) if response.status().is_success() => {
                                instances.lock().await.extend(instance(&response));
                                // The whole body, as a reader would.
                                if response.bytes().await.is_ok() {
                                    served.fetch_add(1, Ordering::Relaxed);
                                } else {
                                    failures.lock().await.push(format!("{path}: body cut"));
                                }
                            }
                            Ok(response) => failures.lock().await.push(format!(
                                "{path}: {} {}",
                                response.status(),
                                response.text().await.unwrap_or_default()
                            )),
                            Err(error) => failures.lock().await.push(format!("{path}: {error}")),
                        }
                    }
                })
            })
            .collect();
        Self { readers, ..load }
    }

    /// Waits until `more` reads have been served since the call.
    async fn wait_for_more(&self, more: usize) {
        let target = self.served.load(Ordering::Relaxed) + more;
        api_test_stack::wait_for("reads", Duration::from_secs(60), async || {
            self.served.load(Ordering::Relaxed) >= target
        })
        .await;
    }

    /// The instances that answered a read since the last call.
    async fn instances(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.instances.lock().await)
    }

    async fn stop(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for reader in self.readers {
            reader.await.unwrap();
        }
        let failures = self.failures.lock().await.clone();
        (self.served.load(Ordering::Relaxed), failures)
    }
}

/// Waves of six new customers check out `variant` at once, each as `checkout_until_final`,
/// until a wave has one in flight on the instance `target` (the gateway's least-conn choice
/// is not ours to make); then, while that wave's checkouts are held, `meanwhile` runs. The
/// customers' tokens and their checkouts' outcomes, in the same order, over all waves.
async fn checkouts_meanwhile(
    site: &Site,
    variant: &str,
    admin: &str,
    target: usize,
    meanwhile: impl AsyncFnOnce(),
) -> (Vec<String>, Vec<CheckoutOutcome>) {
    let mut meanwhile = Some(meanwhile);
    let (mut all_buyers, mut all_outcomes) = (Vec::new(), Vec::new());
    for _wave in 0..5 {
        let buyers = shoppers(site, variant, 6).await;
        let pending_before = pending_payment(site, admin).await;
        let checkouts = buyers
            .iter()
            .map(|token| checkout_until_final(site, token))
            .collect::<Vec<_>>();
        let checkouts = async { join_all(checkouts).await };
        let act = async {
            api_test_stack::wait_for(
                "six checkouts in flight",
                Duration::from_secs(20),
                async || pending_payment(site, admin).await >= pending_before + 6,
            )
            .await;
            if checkouts_in_flight(site, target).await >= 1.0 {
                let meanwhile = meanwhile.take().expect("acts once");
                meanwhile().await;
            }
        };
        let (outcomes, ()) = tokio::join!(checkouts, act);
        all_buyers.extend(buyers);
        all_outcomes.extend(outcomes);
        if meanwhile.is_none() {
            return (all_buyers, all_outcomes);
        }
    }
    panic!("five waves of checkouts, none held by instance {target}: {all_outcomes:?}");
}

/// The checkouts instance `index` is answering now, from its own `/metrics`.
async fn checkouts_in_flight(site: &Site, index: usize) -> f64 {
    let metrics = reqwest::get(format!("{}/metrics", site.api.instance_url(index)))
        .await
        .expect("the instance answers")
        .text()
        .await
        .expect("metrics");
    metrics
        .lines()
        .filter(|line| {
            line.starts_with("http_requests_in_flight{")
                && line.contains(r#"method="POST""#)
                && line.contains(r#"route="/api/v1/checkout""#)
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `count` new customers, each with one of `variant` in the cart.
async fn shoppers(site: &Site, variant: &str, count: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for _ in 0..count {
        tokens.push(site.customer_with_cart(variant, 1).await);
    }
    tokens
}

#[derive(Debug)]
struct CheckoutOutcome {
    status: u16,
    attempts: u32,
    /// Each attempt's status and error code.
    answers: Vec<String>,
    /// The instance that gave the final answer.
    instance: Option<String>,
}

/// The figures of a kill or drain, for the log of the run.
fn report(what: &str, outcomes: &[CheckoutOutcome]) {
    let attempts: u32 = outcomes.iter().map(|outcome| outcome.attempts).sum();
    let retried = outcomes
        .iter()
        .filter(|outcome| outcome.attempts > 1)
        .count();
    eprintln!(
        "{what}: {} checkouts, {attempts} requests, {retried} retried by the client; answers: {:?}",
        outcomes.len(),
        outcomes
            .iter()
            .map(|outcome| (&outcome.instance, &outcome.answers))
            .collect::<Vec<_>>()
    );
}

/// A checkout as a careful client sends it: one Idempotency-Key, the same request again
/// after a transient answer (the gateway's 502 when the instance died mid-request, the
/// API's prompt 409 `checkout_in_progress` while the interrupted attempt is unsettled),
/// until the final answer.
async fn checkout_until_final(site: &Site, token: &str) -> CheckoutOutcome {
    let key = uuid::Uuid::new_v4().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answers = Vec::new();
    loop {
        let response = site
            .client
            .post(site.url("/api/v1/checkout"))
            .bearer_auth(token)
            .header("idempotency-key", &key)
            .json(&checkout_body())
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let answered_by = instance(&response);
        let body: Value = response.json().await.unwrap_or_default();
        answers.push(format!("{status} {}", body["error"]["code"]));
        let code = &body["error"]["code"];
        let transient = matches!(status, 502 | 504)
            || (status == 503 && code == "unavailable")
            || (status == 409 && code == "checkout_in_progress");
        if !transient {
            let attempts = u32::try_from(answers.len()).unwrap();
            return CheckoutOutcome {
                status,
                attempts,
                answers,
                instance: answered_by,
            };
        }
        assert!(
            Instant::now() < deadline,
            "no final answer in 60 s: {answers:?}"
        );
        // A client's pause before trying again, not a synchronisation.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The customer has exactly one order, as the checkout's final answer said: paid (201) — or,
/// if the instance died before the provider charged the card, cancelled with nothing charged
/// (503 `payment_unavailable`; the kill lands after the charge in all but a rare race).
async fn assert_one_order_as_answered(site: &Site, token: &str, outcome: &CheckoutOutcome) {
    let expected = match (outcome.status, outcome.answers.last()) {
        (201, _) => "paid",
        (503, Some(answer)) if answer.contains("payment_unavailable") => "cancelled",
        _ => panic!("not a final checkout answer: {outcome:?}"),
    };
    let response = site
        .client
        .get(site.url("/api/v1/orders"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let orders: Value = response.json().await.unwrap();
    let orders = orders["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 1, "one order per checkout: {orders:?}");
    assert_eq!(orders[0]["status"], expected, "{outcome:?}");
}

/// How many orders await their payment (checkouts between placing and recording the charge).
async fn pending_payment(site: &Site, token: &str) -> u64 {
    let list: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/admin/orders?status=pending_payment&limit=1",
            site.api.url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["meta"]["total"].as_u64().expect("a total")
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("the error envelope");
    body["error"]["code"]
        .as_str()
        .expect("an error code")
        .to_owned()
}

/// A small model trained in-process on a synthetic shop, as churn-lab trains any.
fn artifact(kind: ModelKind, seed: u64) -> ModelArtifact {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let tx = synthetic::transactions(600, start, 600, seed);
    let events = synthetic::events(&tx, seed + 1);
    let mut config = TrainingConfig::new(start + Days::days(400), 120);
    config.search = false;
    config.seed = seed;
    config.models = vec![ModelKind::Recency, kind];
    train(
        &Transactions::from_records(&tx),
        Some(&Events::from_records(&events)),
        &config,
        &Silent,
    )
    .expect("training")
    .artifact
}

/// A demo customer the active model can score (one with orders).
async fn scorable_customer(site: &Site, token: &str) -> String {
    let list: Value = site
        .client
        .get(site.url("/api/v1/admin/customers?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for customer in list["customers"].as_array().expect("customers") {
        let id = customer["id"].as_str().expect("an id");
        let response = site
            .client
            .get(site.url(&format!("/api/v1/admin/customers/{id}/churn")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            return id.to_owned();
        }
    }
    panic!("no demo customer can be scored");
}
