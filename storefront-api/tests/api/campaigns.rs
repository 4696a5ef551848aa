//! Retention campaigns end to end on the real services: launched on the latest scores, they
//! enrol exactly the customers who qualify, once, hold a share out, give the treated a
//! personal code, an email (with consent) and a banner, and measure from the orders.
//!
//! Scores are written the way a scoring run leaves them (a finished `scoring_runs` row and
//! its scores in MongoDB), so each test chooses its customers' risk exactly.

use api_test_stack::{MAIL_ARRIVAL_TIMEOUT, mail_server, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{config::Settings, domain::account::hash_password};
use uuid::Uuid;

use crate::helpers::{Options, TestApp, card_expiry_year, unique_email};

const PASSWORD: &str = "correct horse battery";

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

/// A customer of the test shop: who, and what their last paid order was.
#[derive(Debug, Clone)]
struct Shopper {
    id: Uuid,
    email: String,
}

/// `n` customers (one password hash for all: Argon2 is slow), each with one paid order
/// `days_ago` days ago.
async fn shoppers(app: &TestApp, n: usize, days_ago: i32) -> Vec<Shopper> {
    let hash = hash_password(PASSWORD);
    let mut out = Vec::new();
    for _ in 0..n {
        let shopper = Shopper {
            id: Uuid::now_v7(),
            email: unique_email("campaign"),
        };
        sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, full_name, role)
             VALUES ($1, $2, $3, 'Campaign Shopper', 'customer')",
        )
        .bind(shopper.id)
        .bind(&shopper.email)
        .bind(&hash)
        .execute(&app.db)
        .await
        .expect("account");
        paid_order(app, shopper.id, days_ago, 4_000).await;
        out.push(shopper);
    }
    out
}

async fn paid_order(app: &TestApp, customer: Uuid, days_ago: i32, total_minor: i64) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO orders (id, account_id, status, currency, subtotal_minor, shipping_minor,
                             tax_rate_basis_points, tax_minor, total_minor, shipping_method,
                             shipping_address, placed_at, paid_at)
         VALUES ($1, $2, 'delivered', 'EUR', $3, 0, 0, 0, $3, 'standard', '{}'::jsonb,
                 now() - make_interval(days => $4), now() - make_interval(days => $4))",
    )
    .bind(id)
    .bind(customer)
    .bind(total_minor)
    .bind(days_ago)
    .execute(&app.db)
    .await
    .expect("order");
    id
}

/// Writes a finished scoring run with these scores, as `score-all` would.
async fn scored(app: &TestApp, scores: &[(Uuid, f64, &str)]) -> Uuid {
    let scores: Vec<_> = scores
        .iter()
        .map(|(id, probability, band)| (*id, *probability, *band, None))
        .collect();
    app.scored(&scores).await
}

async fn login(app: &TestApp, email: &str) -> String {
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{email}");
    let body: Value = response.json().await.expect("json");
    body["session"]["token"].as_str().expect("token").to_owned()
}

fn draft(name: &str) -> Value {
    json!({
        "name": name,
        "audience": {"risk_bands": ["high", "medium"], "min_days_since_last_order": 20},
        "offer": {"percent_basis_points": 1500, "currency": "EUR", "days_valid": 14},
        "holdout_percent": 20,
        "frequency_cap_days": 30,
    })
}

async fn launch(app: &TestApp, staff: &str, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/admin/campaigns",
        Some(staff),
        Some(body),
    )
    .await
}

/// Launches a campaign that must launch; its id.
async fn launched(app: &TestApp, staff: &str, body: Value) -> String {
    let response = launch(app, staff, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    body["campaign"]["id"].as_str().expect("id").to_owned()
}

async fn detail(app: &TestApp, staff: &str, id: &str) -> Value {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/campaigns/{id}"),
            Some(staff),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// Each enrolled customer's arm and code, by account.
async fn enrolments(app: &TestApp, campaign: &str) -> Vec<(Uuid, String, Option<String>)> {
    sqlx::query_as(
        "SELECT e.account_id, e.arm, d.code::text FROM campaign_enrolments e
           LEFT JOIN discount_codes d ON d.id = e.discount_code_id
          WHERE e.campaign_id = $1::text::uuid ORDER BY e.account_id",
    )
    .bind(campaign)
    .fetch_all(&app.db)
    .await
    .expect("enrolments")
}

async fn offers(app: &TestApp, token: &str) -> Value {
    let response = app
        .request(Method::GET, "/api/v1/me/offers", Some(token), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[api_test_stack::test]
async fn a_launch_enrols_exactly_who_qualifies_once_and_the_holdout_gets_nothing() {
    let app = app().await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;

    // Before any scoring run there is nothing to launch on.
    let response = launch(&app, &staff, draft("Too soon")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "no_scores");

    let high = shoppers(&app, 20, 40).await;
    let medium = shoppers(&app, 10, 40).await;
    let low = shoppers(&app, 5, 40).await;
    let recent = shoppers(&app, 3, 5).await; // ordered 5 days ago: excluded
    let opted_out = shoppers(&app, 1, 40).await;
    sqlx::query(
        "UPDATE accounts SET marketing_consent = false, marketing_consent_changed_at = now()
          WHERE id = $1",
    )
    .bind(opted_out[0].id)
    .execute(&app.db)
    .await
    .expect("opt out");
    // Everyone else said yes to offers, so the treated get their email.
    sqlx::query(
        "UPDATE accounts SET marketing_consent = true, marketing_consent_changed_at = now()
          WHERE role = 'customer' AND id <> $1",
    )
    .bind(opted_out[0].id)
    .execute(&app.db)
    .await
    .expect("consent");
    let mut scores = Vec::new();
    scores.extend(high.iter().map(|s| (s.id, 0.8, "high")));
    scores.extend(medium.iter().map(|s| (s.id, 0.5, "medium")));
    scores.extend(low.iter().map(|s| (s.id, 0.1, "low")));
    scores.extend(recent.iter().map(|s| (s.id, 0.9, "high")));
    scores.extend(opted_out.iter().map(|s| (s.id, 0.9, "high")));
    scored(&app, &scores).await;

    // The preview says what a launch will do, and what it could detect.
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/campaigns/preview",
            Some(&staff),
            Some(draft("Preview")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let preview: Value = response.json().await.expect("json");
    assert_eq!(preview["preview"]["qualifying"], 30);
    assert_eq!(preview["preview"]["held_out"], 6, "20 % of each band");
    assert_eq!(
        preview["preview"]["by_band"],
        json!({"low": 0, "medium": 10, "high": 20})
    );
    assert!(
        preview["preview"]["minimum_detectable_uplift_points"]
            .as_f64()
            .unwrap()
            > 10.0
    );

    let response = launch(&app, &staff, draft("Win back")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let campaign: Value = response.json().await.expect("json");
    let id = campaign["campaign"]["id"].as_str().expect("id").to_owned();
    assert_eq!(campaign["campaign"]["treated"], 24);
    assert_eq!(campaign["campaign"]["held_out"], 6);
    assert_eq!(
        campaign["campaign"]["offer"]["headline"],
        "15 % off your next order"
    );

    let enrolled = enrolments(&app, &id).await;
    let qualifying: Vec<Uuid> = high.iter().chain(&medium).map(|s| s.id).collect();
    assert_eq!(enrolled.len(), 30);
    assert!(enrolled.iter().all(|(a, _, _)| qualifying.contains(a)));
    // Stratified: 4 of the 20 high-risk and 2 of the 10 medium-risk customers held out.
    let held_in = |group: &[Shopper]| {
        enrolled
            .iter()
            .filter(|(a, arm, _)| arm == "holdout" && group.iter().any(|s| s.id == *a))
            .count()
    };
    assert_eq!((held_in(&high), held_in(&medium)), (4, 2));
    assert!(
        enrolled
            .iter()
            .all(|(_, arm, code)| (arm == "treatment") == code.is_some()),
        "a code for each treated customer and none for the held out"
    );

    // A second campaign for the same customers finds none: they are inside this one's window
    // and were offered something within the frequency cap.
    let response = launch(&app, &staff, draft("Again")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "audience");

    let shopper = |arm: &str| {
        let (account, _, code) = enrolled
            .iter()
            .find(|(_, a, _)| a == arm)
            .expect("someone in the arm")
            .clone();
        let email = high
            .iter()
            .chain(&medium)
            .find(|s| s.id == account)
            .expect("shopper")
            .email
            .clone();
        (account, email, code)
    };
    let (treated, treated_email, code) = shopper("treatment");
    let code = code.expect("code");
    let (_, held_out_email, _) = shopper("holdout");

    // The treated customer's email arrives with their own code; the held-out gets none.
    let email = mail_server()
        .wait_for(&treated_email, "15 % off your next order")
        .await;
    assert!(email.text.contains(&code), "{}", email.text);
    wait_for(
        "the relay to send every offer",
        MAIL_ARRIVAL_TIMEOUT,
        async || {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM email_deliveries WHERE kind = 'offer' AND status = 'pending'",
            )
            .fetch_one(&app.db)
            .await
            .expect("count")
                == 0
        },
    )
    .await;
    assert!(mail_server().emails_to(&held_out_email).await.is_empty());

    // The banner: the treated customer sees their offer, the held-out customer nothing.
    let treated_token = login(&app, &treated_email).await;
    let held_out_token = login(&app, &held_out_email).await;
    let shown = offers(&app, &treated_token).await;
    assert_eq!(shown["meta"]["total"], 1);
    assert_eq!(shown["offers"][0]["code"], code.as_str());
    assert_eq!(shown["offers"][0]["campaign_id"], id.as_str());
    assert_eq!(offers(&app, &held_out_token).await["meta"]["total"], 0);
    let shown_path = format!("/api/v1/me/offers/{id}/shown");
    for _ in 0..2 {
        let response = app
            .request(Method::POST, &shown_path, Some(&treated_token), None)
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let response = app
        .request(Method::POST, &shown_path, Some(&held_out_token), None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The code is the customer's own: someone else cannot use it.
    let variant = app.stocked_variant(&staff, 10).await;
    app.add_to_cart(&held_out_token, variant, 1).await;
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/cart?discount_code={code}"),
            Some(&held_out_token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    let message = body["error"]["details"]["fields"][0]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("personal"), "{message}");

    // Its owner buys with it; the results count the redemption, the order and the cost.
    app.add_to_cart(&treated_token, variant, 2).await;
    let response = app
        .client
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&treated_token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({
            "shipping_address": {"full_name": "A B", "line1": "Str 1", "city": "Wien",
                                 "postal_code": "1010", "country": "AT"},
            "shipping_method": "standard",
            "discount_code": code,
            "payment": {"card_number": storefront_api::payments::test_cards::APPROVED,
                        "expiry_month": 3, "expiry_year": card_expiry_year(), "cvc": "321"}
        }))
        .send()
        .await
        .expect("checkout");
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.expect("json");
    assert_eq!(
        offers(&app, &treated_token).await["meta"]["total"],
        0,
        "used up"
    );

    let results = detail(&app, &staff, &id).await["results"].clone();
    let arm = &results["treated"];
    assert_eq!(arm["customers"], 24);
    assert_eq!(arm["emails_sent"], 24);
    assert_eq!(arm["banners_shown"], 1);
    assert_eq!(arm["codes_redeemed"], 1);
    assert_eq!(arm["buyers"], 1);
    assert_eq!(arm["orders"], 1);
    let totals = &order["order"]["totals"];
    assert_eq!(
        arm["revenue"]["amount_minor"],
        totals["total"]["amount_minor"]
    );
    assert_ne!(totals["discount"]["amount_minor"], 0);
    assert_eq!(
        arm["discount_cost"]["amount_minor"],
        totals["discount"]["amount_minor"]
    );
    assert_eq!(results["held_out"]["customers"], 6);
    assert_eq!(results["held_out"]["emails_sent"], 0);
    assert_eq!(results["purchase_rate_uplift"]["status"], "too_early");

    // Pause, resume, end; an ended campaign stays ended.
    for (status, expected) in [
        ("paused", StatusCode::OK),
        ("running", StatusCode::OK),
        ("ended", StatusCode::OK),
        ("running", StatusCode::CONFLICT),
    ] {
        let response = app
            .request(
                Method::PATCH,
                &format!("/api/v1/admin/campaigns/{id}"),
                Some(&staff),
                Some(json!({"status": status})),
            )
            .await;
        assert_eq!(response.status(), expected, "{status}");
    }
    let ended = detail(&app, &staff, &id).await;
    assert_eq!(ended["campaign"]["status"], "ended");
    let still: Vec<Uuid> = sqlx::query_scalar(
        "SELECT account_id FROM campaign_enrolments WHERE campaign_id = $1::text::uuid
            AND account_id = $2",
    )
    .bind(&id)
    .bind(treated)
    .fetch_all(&app.db)
    .await
    .expect("enrolment");
    assert_eq!(still, [treated], "an enrolment is for good");
}

/// The figures of a finished campaign from orders placed in each customer's window, after
/// refunds, equal what a hand count gives.
#[api_test_stack::test]
async fn results_count_orders_within_each_window_after_refunds() {
    let app = app().await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let customers = shoppers(&app, 20, 60).await;
    let scores: Vec<_> = customers.iter().map(|s| (s.id, 0.7, "high")).collect();
    scored(&app, &scores).await;
    let mut body = draft("Measured");
    body["holdout_percent"] = json!(50);
    body["channels"] = json!(["web"]);
    let id = launched(&app, &staff, body).await;
    // The campaign ran 30 days ago with a 14-day window: every window has closed.
    sqlx::query(
        "UPDATE campaign_enrolments SET enrolled_at = now() - interval '30 days',
                window_ends_at = now() - interval '16 days'
          WHERE campaign_id = $1::text::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .expect("back-date");
    let enrolled = enrolments(&app, &id).await;
    let arm = |name: &str| -> Vec<Uuid> {
        enrolled
            .iter()
            .filter(|(_, a, _)| a == name)
            .map(|(account, _, _)| *account)
            .collect()
    };
    let (treated, held_out) = (arm("treatment"), arm("holdout"));
    assert_eq!((treated.len(), held_out.len()), (10, 10));
    // Treated: 5 bought €60 within the window (one of them refunded €20), one bought after
    // it closed. Holdout: 2 bought €30 within it, one of them refunded whole.
    for (i, customer) in treated.iter().enumerate().take(5) {
        let order = paid_order(&app, *customer, 25, 6_000).await;
        if i == 0 {
            sqlx::query("UPDATE orders SET refunded_minor = 2000 WHERE id = $1")
                .bind(order)
                .execute(&app.db)
                .await
                .expect("refund");
        }
    }
    paid_order(&app, treated[5], 10, 9_900).await;
    let refunded = paid_order(&app, held_out[0], 20, 3_000).await;
    sqlx::query("UPDATE orders SET status = 'refunded', refunded_minor = 3000 WHERE id = $1")
        .bind(refunded)
        .execute(&app.db)
        .await
        .expect("refund");
    paid_order(&app, held_out[1], 20, 3_000).await;

    let results = detail(&app, &staff, &id).await["results"].clone();
    assert_eq!(results["treated"]["buyers"], 5);
    assert_eq!(results["treated"]["revenue"]["amount_minor"], 28_000);
    assert_eq!(
        results["held_out"]["buyers"], 1,
        "an order refunded whole is no purchase"
    );
    assert_eq!(results["held_out"]["revenue"]["amount_minor"], 3_000);
    // 50 % − 10 % = 40 points; €28.00 − €3.00 = €25.00 per customer.
    let rate = &results["purchase_rate_uplift"];
    assert_eq!(rate["status"], "measured");
    assert!((rate["estimate"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    assert!(rate["low"].as_f64().unwrap() < 40.0 && rate["high"].as_f64().unwrap() > 40.0);
    let value = &results["net_revenue_uplift"];
    assert!((value["estimate"].as_f64().unwrap() - 2_500.0).abs() < 1e-9);
}

/// A bad draft: what is wrong, how to make it so, and the field the 422 names.
type Case = (&'static str, fn(&mut Value), &'static str);

#[api_test_stack::test]
async fn bad_drafts_get_a_422_naming_the_field() {
    let app = app().await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let customers = shoppers(&app, 3, 60).await;
    let scores: Vec<_> = customers.iter().map(|s| (s.id, 0.2, "low")).collect();
    scored(&app, &scores).await;
    let cases: [Case; 5] = [
        (
            "no holdout",
            |d| d["holdout_percent"] = json!(0),
            "holdout_percent",
        ),
        (
            "all held out",
            |d| d["holdout_percent"] = json!(100),
            "holdout_percent",
        ),
        (
            "offer over the minimum spend",
            |d| {
                d["offer"] = json!({"amount_minor": 5000, "min_spend_minor": 3000,
                                    "currency": "EUR"})
            },
            "offer.amount_minor",
        ),
        ("an empty audience", |_| {}, "audience"),
        (
            "an unknown band",
            |d| d["audience"]["risk_bands"] = json!(["doomed"]),
            "audience.risk_bands",
        ),
    ];
    for (case, change, field) in cases {
        let mut body = draft(case);
        change(&mut body);
        let response = launch(&app, &staff, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], field,
            "{case}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing launched");
}

/// Two campaigns launched at the same moment for the same customers: the enrolment lock
/// lets each customer into one of them only, and the recipient cap holds.
#[api_test_stack::test]
async fn racing_launches_never_enrol_a_customer_twice_or_pass_the_cap() {
    let app = app().await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let customers = shoppers(&app, 30, 60).await;
    let scores: Vec<_> = customers.iter().map(|s| (s.id, 0.8, "high")).collect();
    scored(&app, &scores).await;
    let mut capped = draft("Capped");
    capped["max_recipients"] = json!(12);
    let (a, b) = tokio::join!(
        launch(&app, &staff, capped.clone()),
        launch(&app, &staff, capped)
    );
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT account_id FROM campaign_enrolments
                                GROUP BY account_id HAVING count(*) > 1) t",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(twice, 0);
    let over_cap: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT campaign_id FROM campaign_enrolments
                                WHERE arm = 'treatment' GROUP BY campaign_id
                               HAVING count(*) > 12) t",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(over_cap, 0);
    let treated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM campaign_enrolments WHERE arm = 'treatment'")
            .fetch_one(&app.db)
            .await
            .expect("count");
    // The first launch offers 12 (and holds 3 out); the second finds 15 left and does the
    // same — or, had it found nobody, it would have been refused whole.
    assert_eq!(treated, 24);
}

fn every_run_due(settings: &mut Settings) {
    settings.relay.poll_interval_ms = 50;
    settings.scoring.every_hours = 0;
}

/// The schedule on two instances at the same moment scores the shop once; the next due run
/// lets an automatic campaign enrol the customers who newly qualify, and nobody twice.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_the_schedule_score_once_and_automatic_campaigns_enrol_newcomers() {
    use churn_lab::models::ModelKind;
    use storefront_api::{churn, startup::build_state};

    let app = TestApp::spawn_with(Options {
        settings: Some(every_run_due),
        ..Options::default()
    })
    .await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let mut first = shoppers(&app, 5, 40).await;
    // A regular: five orders over the last 200 days, so a lifetime value can be read.
    let regular = shoppers(&app, 1, 200).await.remove(0);
    for days_ago in [160, 120, 80, 45] {
        paid_order(&app, regular.id, days_ago, 5_000).await;
    }
    first.push(regular.clone());
    let model = crate::churn::artifact(ModelKind::Logistic, false, 11);
    let response = app
        .client
        .post(app.url("/api/v1/admin/churn/models"))
        .bearer_auth(&staff)
        .header("content-type", "application/json")
        .body(model.to_json())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/churn/models/{}/activate", model.version),
            Some(&staff),
            None,
        )
        .await;
    assert!(response.status().is_success());

    // Both instances find no run yet, so a run is due for each; the claim lets one through,
    // and the other, once it has the lock, finds that run under way.
    let mut daily = app.settings.clone();
    daily.scoring.every_hours = 24;
    daily.scoring.schedule_enabled = true; // read by the runs' list; nothing spawns it here
    let one = build_state(daily.clone()).await.expect("state");
    let two = build_state(daily).await.expect("state");
    churn::sync_active(&one).await.expect("model");
    churn::sync_active(&two).await.expect("model");
    let (a, b) = tokio::join!(churn::scheduled_run(&one), churn::scheduled_run(&two));
    let started: Vec<_> = [a.expect("tick"), b.expect("tick")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(started.len(), 1, "one run between two instances");
    assert_eq!(
        churn::scheduled_run(&one).await.expect("tick"),
        None,
        "not due again for a day"
    );
    let listed = churn::scoring_runs(&one).await.expect("runs");
    assert_eq!(
        listed.schedule.next_due_at,
        Some(listed.runs[0].started_at + chrono::Duration::hours(24)),
        "staff are told the next run is due a day after this one started"
    );
    let runs: Vec<(String, String, Option<i32>)> =
        sqlx::query_as("SELECT trigger, status, customers FROM scoring_runs")
            .fetch_all(&app.db)
            .await
            .expect("runs");
    assert_eq!(
        runs,
        [("schedule".to_owned(), "finished".to_owned(), Some(6))]
    );

    // Staff read each customer's predicted value: the regular has one; a one-time buyer has
    // not enough history; the churn drivers are worded in the shop's terms.
    let churn_of = async |customer: Uuid| -> Value {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/admin/customers/{customer}/churn"),
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.expect("json")["churn"].clone()
    };
    let regular_churn = churn_of(regular.id).await;
    assert_eq!(
        regular_churn["lifetime"]["status"], "predicted",
        "{regular_churn}"
    );
    // In the currency of their orders; the year's value is the expected orders times the
    // expected spend per order (each rounded to a cent).
    let lifetime = &regular_churn["lifetime"];
    assert_eq!(lifetime["currency"], "EUR");
    let value = lifetime["predicted_value_365_minor"].as_i64().unwrap();
    let orders = lifetime["expected_orders_365"].as_f64().unwrap();
    let per_order = lifetime["expected_order_value_minor"].as_i64().unwrap();
    assert!(value > 0 && per_order > 0, "{lifetime}");
    assert!(
        (orders * per_order as f64 - value as f64).abs() <= orders + 1.0,
        "{lifetime}"
    );
    assert!(
        regular_churn["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| !d["description"].as_str().unwrap().is_empty())
    );
    let one_timer = churn_of(first[0].id).await;
    assert_eq!(one_timer["lifetime"]["status"], "not_enough_history");
    assert_eq!(one_timer["lifetime"]["reason"], "single_order_day");
    // The scoring run stored the value, so an audience can ask for it.
    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/campaigns/preview",
            Some(&staff),
            Some(json!({
                "name": "Valuable",
                "audience": {"min_predicted_value_minor": 1},
                "offer": {"percent_basis_points": 1000, "currency": "EUR"},
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let preview: Value = response.json().await.expect("json");
    assert_eq!(
        preview["preview"]["qualifying"], 1,
        "only the regular has a value"
    );

    // An automatic campaign for everyone enrols the six now…
    let mut body = draft("Always on");
    body["audience"] = json!({});
    body["mode"] = json!("automatic");
    body["holdout_percent"] = json!(50);
    body["channels"] = json!(["web"]);
    let id = launched(&app, &staff, body).await;
    assert_eq!(enrolments(&app, &id).await.len(), 6);

    // …and after the next run, the three customers who bought since, and only them.
    let newcomers = shoppers(&app, 3, 2).await;
    let eager = build_state(app.settings.clone()).await.expect("state"); // due at once
    churn::sync_active(&eager).await.expect("model");
    assert!(churn::scheduled_run(&eager).await.expect("tick").is_some());
    let enrolled = enrolments(&app, &id).await;
    assert_eq!(enrolled.len(), 9, "{enrolled:?}");
    for shopper in first.iter().chain(&newcomers) {
        assert_eq!(
            enrolled.iter().filter(|(a, _, _)| *a == shopper.id).count(),
            1,
            "enrolled once"
        );
    }
    let enrolled_by_run: Vec<Option<i32>> =
        sqlx::query_scalar("SELECT enrolled FROM scoring_runs ORDER BY started_at")
            .fetch_all(&app.db)
            .await
            .expect("runs");
    assert_eq!(enrolled_by_run, [Some(0), Some(3)]);
    // Staff see the runs, newest first, and the schedule.
    let response = app
        .request(Method::GET, "/api/v1/admin/churn/runs", Some(&staff), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let runs: Value = response.json().await.expect("json");
    assert_eq!(runs["meta"]["total"], 2);
    assert_eq!(runs["runs"][0]["enrolled"], 3);
    assert_eq!(runs["runs"][0]["status"], "finished");
    assert_eq!(runs["schedule"]["every_hours"], 0);
    assert_eq!(
        runs["schedule"]["next_due_at"],
        Value::Null,
        "this instance's schedule is off: nothing is due"
    );
}

/// A campaign whose audience names a customer group enrols only the group's members who
/// also match its rule; a segment that does not exist is a 422 on `audience.segment_id`.
#[api_test_stack::test]
async fn a_campaign_narrowed_to_a_group_enrols_only_its_qualifying_members() {
    let app = app().await;
    let staff = app
        .staff_as(storefront_api::domain::account::Role::Admin)
        .await;
    let at_risk = shoppers(&app, 8, 40).await;
    let safe = shoppers(&app, 2, 40).await;
    let mut scores: Vec<_> = at_risk.iter().map(|s| (s.id, 0.8, "high")).collect();
    scores.extend(safe.iter().map(|s| (s.id, 0.1, "low")));
    scored(&app, &scores).await;

    let response = app
        .request(
            Method::POST,
            "/api/v1/admin/segments",
            Some(&staff),
            Some(json!({"name": "Wholesale buyers", "kind": "static"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let group: Value = response.json().await.expect("json");
    let group = group["segment"]["id"].as_str().expect("id").to_owned();
    // Three at risk and one safe customer are in the group.
    let members = [at_risk[0].id, at_risk[1].id, at_risk[2].id, safe[0].id];
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/segments/{group}/members"),
            Some(&staff),
            Some(json!({"account_ids": members})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let mut body = draft("Wholesale win-back");
    body["audience"]["segment_id"] = json!(Uuid::now_v7());
    let response = launch(&app, &staff, body.clone()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = response.json().await.expect("json");
    assert_eq!(
        refused["error"]["details"]["fields"][0]["field"],
        "audience.segment_id"
    );

    body["audience"]["segment_id"] = json!(group);
    body["holdout_percent"] = json!(1);
    let id = launched(&app, &staff, body).await;
    let enrolled: std::collections::BTreeSet<Uuid> = enrolments(&app, &id)
        .await
        .into_iter()
        .map(|(account, _, _)| account)
        .collect();
    let expected: std::collections::BTreeSet<Uuid> = members[..3].iter().copied().collect();
    assert_eq!(enrolled, expected, "the group's high-risk members only");
    let campaign = detail(&app, &staff, &id).await;
    assert_eq!(campaign["campaign"]["audience"]["segment_id"], json!(group));
}
