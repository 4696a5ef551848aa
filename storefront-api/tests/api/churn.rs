//! Churn models in the API: staff upload churn-lab artifacts, activate and roll back versions
//! (reaching every instance without a restart), score one customer with the same feature code
//! churn-lab trains on, and score everyone in a background job.

use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, Utc};
use churn_lab::{
    Events, ModelArtifact, Transactions,
    models::ModelKind,
    synthetic,
    training::{Silent, TrainingConfig, train},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code};

/// A small model trained in-process on a synthetic shop; with events it also uses engagement.
pub(crate) fn artifact(kind: ModelKind, with_events: bool, seed: u64) -> ModelArtifact {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let tx = synthetic::transactions(1200, start, 600, seed);
    let events = synthetic::events(&tx, seed + 1);
    let mut config = TrainingConfig::new(start + Days::days(400), 120);
    config.search = false;
    config.seed = seed;
    config.models = vec![ModelKind::Recency, kind];
    let events = Events::from_records(&events);
    train(
        &Transactions::from_records(&tx),
        with_events.then_some(&events),
        &config,
        &Silent,
    )
    .expect("training")
    .artifact
}

async fn order(app: &TestApp, customer: Uuid, days_ago: i32, total_minor: i64, status: &str) {
    sqlx::query(
        "INSERT INTO orders (id, account_id, status, currency, subtotal_minor, shipping_minor,
                             tax_rate_basis_points, tax_minor, total_minor, shipping_method,
                             shipping_address, placed_at)
         VALUES ($1, $2, $3::order_status, 'EUR', $4, 0, 0, 0, $4, 'standard', '{}'::jsonb,
                 now() - make_interval(days => $5))",
    )
    .bind(Uuid::now_v7())
    .bind(customer)
    .bind(status)
    .bind(total_minor)
    .bind(days_ago)
    .execute(&app.db)
    .await
    .expect("order");
}

async fn upload(app: &TestApp, token: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/admin/churn/models"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("upload")
}

async fn churn_of(address: &str, token: &str, customer: Uuid) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{address}/api/v1/admin/customers/{customer}/churn"))
        .bearer_auth(token)
        .send()
        .await
        .expect("churn");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

async fn post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request(Method::POST, path, Some(token), None).await
}

// Polars (inside churn-lab) may block in place, which tokio allows only on its multi-threaded
// runtime — the runtime the API runs on.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_deploy_models_and_every_instance_scores_with_the_active_one() {
    let app = TestApp::spawn().await;
    let sibling = app.sibling().await;
    let staff = app.staff().await;
    let (_, regular) = app.customer().await;
    let (_, newcomer) = app.customer().await;
    for (days_ago, total) in [(300, 4_500), (200, 2_000), (120, 7_900), (95, 1_250)] {
        order(&app, regular, days_ago, total, "delivered").await;
    }
    order(&app, regular, 60, 3_000, "cancelled").await;
    // Paid-but-pending orders are not purchases yet: the newcomer is not scorable.
    order(&app, newcomer, 1, 999, "pending_payment").await;

    let first = artifact(ModelKind::GradientBoosting, false, 5);
    let second = artifact(ModelKind::Logistic, true, 6);
    assert_ne!(first.version, second.version);

    // Before any model is active, scoring says so.
    let (status, body) = churn_of(&app.address, &staff, regular).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "no_active_model");

    // Bad artifacts are refused whole, with the reason.
    let response = upload(&app, &staff, b"{\"not\":\"a model\"}".to_vec()).await;
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "validation_failed"
    );
    let mut future: Value = serde_json::from_slice(&first.to_json()).unwrap();
    future["feature_definition_version"] = json!(999);
    let response = upload(&app, &staff, serde_json::to_vec(&future).unwrap()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"],
        "feature_definition_version"
    );

    for model in [&first, &second] {
        let response = upload(&app, &staff, model.to_json()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["model"]["version"], model.version.as_str());
        assert_eq!(body["model"]["active"], false);
    }
    let response = upload(&app, &staff, first.to_json()).await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "version_exists"
    );

    let response = post(
        &app,
        &staff,
        &format!("/api/v1/admin/churn/models/{}/activate", first.version),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/churn/models",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["models"].as_array().unwrap().len(), 2);
    assert_eq!(list["meta"]["active"], first.version.as_str());
    assert!(
        list["models"][0]["metrics"]["test"]["roc_auc"]
            .as_f64()
            .unwrap()
            > 0.5
    );

    // The API scores with churn-lab's own definition: the same records give the same number.
    let (status, body) = churn_of(&app.address, &staff, regular).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let churn = &body["churn"];
    assert_eq!(churn["scorable"], true);
    assert_eq!(churn["model_version"], first.version.as_str());
    let probability = churn["probability"].as_f64().unwrap();
    let now = Utc::now();
    use churn_lab::transactions::{Transaction, TransactionKind};
    let records: Vec<Transaction> = [
        (300, 45.0, TransactionKind::Purchase),
        (200, 20.0, TransactionKind::Purchase),
        (120, 79.0, TransactionKind::Purchase),
        (95, 12.5, TransactionKind::Purchase),
        (60, 30.0, TransactionKind::Cancellation),
    ]
    .into_iter()
    .map(|(days, amount, kind)| Transaction {
        customer_id: regular.to_string(),
        ordered_at: (now - Days::days(days)).naive_utc(),
        amount,
        quantity: 1,
        kind,
    })
    .collect();
    let expected =
        churn_lab::scoring::score_customer(&first, &records, &[], now.date_naive() + Days::days(1))
            .unwrap()
            .unwrap();
    assert!((probability - expected.score.churn_probability).abs() < 1e-9);
    assert_eq!(churn["risk_band"], expected.score.band.as_str());
    assert_eq!(churn["features"]["frequency"], 4.0);
    assert_eq!(churn["features"]["cancellations"], 1.0);
    assert_eq!(churn["features"]["recency_days"], 96.0);
    for driver in churn["drivers"].as_array().unwrap() {
        assert!(driver["effect"].as_f64().unwrap() > 0.0);
    }

    let (status, body) = churn_of(&app.address, &staff, newcomer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["churn"]["scorable"], false);
    assert!(
        body["churn"]["reason"]
            .as_str()
            .unwrap()
            .contains("no paid order")
    );
    let (status, _) = churn_of(&app.address, &staff, Uuid::now_v7()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Activating on one instance reaches the other through Redis, without a restart.
    let response = post(
        &app,
        &staff,
        &format!("/api/v1/admin/churn/models/{}/activate", second.version),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_for_version(&sibling, &staff, regular, &second.version).await;
    let (_, body) = churn_of(&app.address, &staff, regular).await;
    assert_eq!(body["churn"]["model_version"], second.version.as_str());
    assert!(
        body["churn"]["features"].get("sessions_90d").is_some(),
        "the second model reads events"
    );

    // Roll back: the first model again, everywhere; then there is nothing earlier.
    let response = post(&app, &staff, "/api/v1/admin/churn/rollback").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["model"]["version"], first.version.as_str());
    wait_for_version(&sibling, &staff, regular, &first.version).await;
    let response = post(&app, &staff, "/api/v1/admin/churn/rollback").await;
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "nothing_to_roll_back"
    );

    let response = post(
        &app,
        &staff,
        "/api/v1/admin/churn/models/no-such-model/activate",
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Every registry change is in the audit log.
    let log: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/audit-log?limit=50",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("churn_model."))
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "churn_model.upload")
            .count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "churn_model.activate")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "churn_model.roll_back")
            .count(),
        1
    );

    // Nobody scored yet: the dashboard has no risk bands.
    let dashboard = app.dashboard(&staff).await;
    assert!(dashboard["churn_risk"].is_null(), "{dashboard}");

    // Score everyone: a job whose progress can be read, every score stored.
    let response = post(&app, &staff, "/api/v1/admin/churn/score-all").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let job = body["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["job"]["model_version"], first.version.as_str());
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let body: Value = app
            .request(
                Method::GET,
                &format!("/api/v1/admin/churn/jobs/{job}"),
                Some(&staff),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        if body["job"]["status"] != "running" {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "score-all did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["job"]["status"], "finished", "{finished}");
    assert_eq!(
        finished["job"]["total"], 1,
        "only the regular customer has paid orders"
    );
    assert_eq!(finished["job"]["done"], 1);
    assert_eq!(
        finished["top_customers"][0]["customer_id"],
        regular.to_string()
    );
    // The dashboard counts the run's customers per band, with the model that scored them.
    let band = finished["top_customers"][0]["risk_band"].as_str().unwrap();
    let dashboard = app.dashboard(&staff).await;
    let bands = &dashboard["churn_risk"];
    assert_eq!(
        bands["model_version"],
        first.version.as_str(),
        "{dashboard}"
    );
    for name in ["low", "medium", "high"] {
        assert_eq!(bands[name], u64::from(name == band), "{dashboard}");
    }
    let (_, direct) = churn_of(&app.address, &staff, regular).await;
    assert!(
        (finished["top_customers"][0]["probability"]
            .as_f64()
            .unwrap()
            - direct["churn"]["probability"].as_f64().unwrap())
        .abs()
            < 1e-9
    );
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/churn/jobs/{}", Uuid::now_v7()),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// Polls an instance until it scores with `version` (activations travel over pub/sub).
async fn wait_for_version(address: &str, token: &str, customer: Uuid, version: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = churn_of(address, token, customer).await;
        if body["churn"]["model_version"] == version {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{address} still scores with {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_lab_deploy_uploads_and_activates_through_the_api() {
    use churn_lab::deploy::{Credentials, DeployError, deploy};
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let model = artifact(ModelKind::GradientBoosting, false, 9);

    let refused = deploy(
        &app.address,
        &Credentials::Token("not-a-session".into()),
        &model,
        true,
    )
    .await;
    assert!(
        matches!(refused, Err(DeployError::Unauthorized(_))),
        "{refused:?}"
    );
    let (_, customer_token) = {
        let (token, id) = app.customer().await;
        (id, token)
    };
    let refused = deploy(
        &app.address,
        &Credentials::Token(customer_token),
        &model,
        true,
    )
    .await;
    assert!(
        matches!(refused, Err(DeployError::Unauthorized(_))),
        "{refused:?}"
    );

    let token = Credentials::Token(staff.clone());
    let deployed = deploy(&app.address, &token, &model, false)
        .await
        .expect("upload");
    assert!(deployed.uploaded && !deployed.activated);
    let list: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/churn/models",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["active"], Value::Null);

    // Deploying the same model again with --activate only activates it.
    let deployed = deploy(&app.address, &token, &model, true)
        .await
        .expect("activate");
    assert!(!deployed.uploaded && deployed.activated);
    let list: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/churn/models",
            Some(&staff),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["active"], model.version.as_str());
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_the_live_shop_reads_back_as_the_same_transactions_and_events() {
    use churn_lab::shop;
    let app = TestApp::spawn().await;
    let (token, customer) = app.customer().await;
    order(&app, customer, 40, 2_500, "delivered").await;
    order(&app, customer, 10, 1_000, "cancelled").await;
    order(&app, customer, 1, 700, "pending_payment").await;
    let event = json!({"events": [{"type": "session_start", "anonymous_id": "v-1",
        "occurred_at": (Utc::now() - Days::hours(2)).to_rfc3339()}]});
    let response = app
        .request(Method::POST, "/api/v1/events", Some(&token), Some(event))
        .await;
    assert!(response.status().is_success());

    let mongo = storefront_api::storage::mongo_database(&app.settings.mongodb)
        .await
        .unwrap();
    let transactions = shop::orders(&app.db, None).await.unwrap();
    let events = shop::events(&mongo, None).await.unwrap();
    assert_eq!(
        transactions.len(),
        2,
        "the pending order is not a purchase yet"
    );
    assert_eq!(events.len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_owned();
    let (manifest, read_back, read_events) = tokio::task::spawn_blocking(move || {
        let manifest = shop::write_snapshot(&transactions, &events, "test", &out).unwrap();
        let read_back = Transactions::from_path(&out.join(shop::TRANSACTIONS_FILE)).unwrap();
        let read_events = Events::from_path(&out.join(shop::EVENTS_FILE)).unwrap();
        (manifest, read_back, read_events)
    })
    .await
    .unwrap();
    assert_eq!(manifest.transactions.rows, 2);
    assert_eq!(manifest.transactions.customers, 1);
    assert_eq!(manifest.events.rows, 1);
    assert_eq!(read_back.len(), 2);
    let kinds: Vec<&str> = read_back
        .frame()
        .column("kind")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "cancellation").count(), 1);
    assert_eq!(read_events.manifest().rows, 1);
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(shop::MANIFEST_FILE)).unwrap())
            .unwrap();
    assert_eq!(written["transactions"]["rows"], 2);
}
