//! The demo shop loads once, keeps the catalog invariants, carries its order history and
//! behaviour events up to the moment of loading (none later), shows on the dashboard, and is
//! browsable through the API with the demo logins the README gives.
//!
//! The test loads the history of the first few hundred customers (`load_with`): the whole of
//! it (over 50,000 orders and 400,000 events) is what `demo-data` loads, and takes a minute or
//! more on the MongoDB-wire server. Generation is the same code either way, and the unit tests
//! in `demo::tests` check the full history.

use chrono::{TimeDelta, Utc};
use mongodb::bson::{self, Document, doc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{
    demo::{self, DemoOutcome, HistoryScope},
    storage::{self, stock::ledger_mismatches},
};
use uuid::Uuid;

use crate::helpers::{Options, TestApp};

const CUSTOMERS_WITH_HISTORY: usize = 300;

/// The app of a demo test, on a MongoDB-wire server of its own: loading and indexing this
/// many events holds a server's one storage lock for longer than the other tests' requests
/// may wait (a review request met its 30 s timeout while the demo's events were indexed).
async fn demo_app() -> TestApp {
    TestApp::spawn_with(Options {
        mongodb_uri: Some(api_test_stack::own_mongo_uri()),
        ..Options::default()
    })
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{email}");
    response.json().await.expect("json")
}

#[api_test_stack::test]
async fn demo_shop_loads_once_with_its_history_and_is_browsable() {
    let app = demo_app().await;
    let mongo = storage::mongo_database(&app.settings.mongodb)
        .await
        .expect("mongo");
    let scope = HistoryScope::FirstCustomers(CUSTOMERS_WITH_HISTORY);
    let future = Utc::now() + TimeDelta::hours(1);
    let refused = demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, future, scope).await;
    assert!(
        refused.is_err_and(|e| e.to_string().contains("future")),
        "a history ending after now"
    );
    // As `demo-data` loads by default, read once: every check below is relative to it.
    let ends_at = demo::end_now();
    let outcome = demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, ends_at, scope)
        .await
        .expect("load");
    let DemoOutcome::Loaded {
        ends_at: loaded_end,
        counts,
        history,
        ..
    } = outcome
    else {
        panic!("a fresh database gets the demo shop: {outcome:?}");
    };
    assert_eq!(loaded_end, ends_at);
    assert!(
        counts.products >= 500 && counts.customers >= 5_000,
        "{counts:?}"
    );
    // About ten orders and ninety events a customer, as in the full history.
    assert!(history.orders >= CUSTOMERS_WITH_HISTORY * 8, "{history:?}");
    assert!(history.events >= CUSTOMERS_WITH_HISTORY * 40, "{history:?}");
    assert!(matches!(
        demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, ends_at, scope)
            .await
            .expect("second load"),
        DemoOutcome::AlreadyPresent
    ));
    // History took no stock: every ledger still sums to its stock on hand.
    assert_eq!(ledger_mismatches(&app.db).await.expect("ledger"), 0);

    let (orders, lines, payments, next_number, max_number): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines),
                    (SELECT count(*) FROM payments), nextval('order_number_seq'),
                    (SELECT max(number) FROM orders)",
        )
        .fetch_one(&app.db)
        .await
        .expect("order counts");
    assert_eq!(
        (orders, lines, payments),
        (
            i64::try_from(history.orders).expect("count"),
            i64::try_from(history.order_lines).expect("count"),
            i64::try_from(history.payments).expect("count"),
        )
    );
    assert!(
        next_number > max_number,
        "the next checkout reuses a number"
    );
    // Nothing is dated after the load, and the last day has orders, as a trading shop has.
    type Latest = Option<chrono::DateTime<Utc>>;
    let (last_change, last_payment, last_arrival, last_day): (Latest, Latest, Latest, i64) =
        sqlx::query_as(
            "SELECT (SELECT max(updated_at) FROM orders), (SELECT max(created_at) FROM payments),
                (SELECT max(created_at) FROM products),
                (SELECT count(*) FROM orders WHERE placed_at >= $1)",
        )
        .bind(ends_at - TimeDelta::days(1))
        .fetch_one(&app.db)
        .await
        .expect("latest timestamps");
    for latest in [last_change, last_payment, last_arrival] {
        assert!(
            latest.is_some_and(|at| at < ends_at),
            "{latest:?} after {ends_at}"
        );
    }
    assert!(last_day > 0, "no order in the day before the load");

    let events = mongo.collection::<Document>(storage::events::COLLECTION);
    let stored = events
        .count_documents(doc! { "demo": true })
        .await
        .expect("count events");
    assert_eq!(stored, u64::try_from(history.events).expect("count"));
    let end_millis = bson::DateTime::from_millis(ends_at.timestamp_millis());
    let late = events
        .count_documents(doc! { "demo": true, "occurred_at": { "$gte": end_millis } })
        .await
        .expect("count late events");
    assert_eq!(late, 0, "events dated after the load");

    // The customer with the most orders sees them all, newest first, and has events.
    let (email, account_id, their_orders): (String, Uuid, i64) = sqlx::query_as(
        "SELECT a.email::text, a.id, count(*) FROM orders o JOIN accounts a ON a.id = o.account_id
          GROUP BY a.id ORDER BY count(*) DESC, a.email LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .expect("best customer");
    let session = login(&app, &email, demo::CUSTOMER_PASSWORD).await;
    let token = session["session"]["token"].as_str().expect("token");
    let listed: Value = app
        .request(Method::GET, "/api/v1/orders?limit=5", Some(token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["meta"]["total"], their_orders, "{listed}");
    let newest = &listed["orders"][0];
    let detail: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/orders/{}", newest["id"].as_str().expect("id")),
            Some(token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let order = &detail["order"];
    assert!(!order["lines"].as_array().expect("lines").is_empty());
    assert_eq!(order["payments"][0]["kind"], "charge");
    let activity =
        storage::events::count_for_customer(&mongo, account_id, ends_at - demo::HISTORY, ends_at)
            .await
            .expect("customer events");
    let kinds: Vec<&str> = activity.iter().map(|(kind, _)| kind.as_str()).collect();
    assert!(
        kinds.contains(&"checkout_started") && kinds.contains(&"add_to_cart"),
        "{activity:?}"
    );

    // A load whose events never arrived (MongoDB was down) adds them when run again, dated
    // by the shop that is there, whatever end the new run asks for.
    events
        .delete_many(doc! { "demo": true })
        .await
        .expect("delete events");
    let other_end = ends_at - TimeDelta::days(3);
    let again = demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, other_end, scope)
        .await
        .expect("load after lost events");
    assert!(
        matches!(again, DemoOutcome::EventsAdded { events, ends_at: end, .. }
            if events == history.events && end == ends_at),
        "{again:?}"
    );
    let activity_again =
        storage::events::count_for_customer(&mongo, account_id, ends_at - demo::HISTORY, ends_at)
            .await
            .expect("customer events");
    assert_eq!(
        activity_again, activity,
        "the same events, at the same moments"
    );

    let tree: Value = app
        .get("/api/v1/categories")
        .await
        .json()
        .await
        .expect("json");
    let leaves: usize = tree["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|department| department["children"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(leaves >= 20, "{leaves} sub-categories");

    let found: Value = app
        .get("/api/v1/search?q=merino")
        .await
        .json()
        .await
        .expect("json");
    assert!(found["meta"]["total"].as_i64().expect("total") > 0);
    // Every demo product is sold in each market, at its prices there.
    let merino_everywhere = found["meta"]["total"].clone();
    for currency in ["EUR", "GBP", "USD"] {
        let found: Value = app
            .get(&format!("/api/v1/search?q=merino&currency={currency}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(found["meta"]["total"], merino_everywhere, "{currency}");
        assert_eq!(found["products"][0]["price_from"]["currency"], currency);
    }

    // The staff dashboard's month is the history's last month: orders and revenue in it.
    let admin = login(&app, demo::ADMIN_EMAIL, demo::ADMIN_PASSWORD).await;
    let admin_token = admin["session"]["token"].as_str().expect("token");
    let dashboard: Value = app
        .request(
            Method::GET,
            "/api/v1/admin/dashboard",
            Some(admin_token),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let month = &dashboard["last_30_days"][0];
    assert!(
        month["orders"].as_i64().is_some_and(|n| n > 0),
        "{dashboard}"
    );
    assert!(
        month["revenue"]["amount_minor"]
            .as_i64()
            .is_some_and(|minor| minor > 0),
        "{dashboard}"
    );
    assert!(
        dashboard["daily"]
            .as_array()
            .is_some_and(|days| days.len() >= 20),
        "{dashboard}"
    );

    // Returns: every order refunded after delivery came back as a refunded return; some
    // recent deliveries have one waiting in the staff's queue; the books agree.
    let returns = app
        .get_json("/api/v1/admin/returns?status=refunded&limit=1", admin_token)
        .await;
    let refunded_after_delivery = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM orders WHERE status = 'refunded' AND delivered_at IS NOT NULL"#
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert!(refunded_after_delivery > 0);
    assert_eq!(returns["meta"]["total"], refunded_after_delivery);
    let waiting = app
        .get_json("/api/v1/admin/returns?status=requested", admin_token)
        .await;
    let first = &waiting["returns"][0];
    assert!(first["id"].is_string(), "a return waits: {waiting}");
    let order_path = format!(
        "/api/v1/admin/orders/{}",
        first["order_id"].as_str().unwrap()
    );
    let order = app.get_json(&order_path, admin_token).await;
    assert_eq!(order["order"]["status"], "delivered");
    assert!(
        order["order"]["returnable_until"]
            .as_str()
            .and_then(|until| until.parse::<chrono::DateTime<Utc>>().ok())
            .is_some_and(|until| until > ends_at),
        "a waiting return's order is within its window: {order}"
    );
    crate::helpers::assert_consistent(&app).await;

    // Reviews: customers reviewed what they received; a product's page shows as many as its
    // rating counts, newest first, and the rating is their mean.
    let (slug, count, sum) = sqlx::query!(
        r#"SELECT slug, rating_count, rating_sum FROM products
            ORDER BY rating_count DESC, slug LIMIT 1"#
    )
    .fetch_one(&app.db)
    .await
    .map(|row| (row.slug, row.rating_count, row.rating_sum))
    .expect("the most reviewed product");
    assert!(count >= 10, "{slug} has {count} reviews");
    let product = app
        .get_json(&format!("/api/v1/products/{slug}"), admin_token)
        .await;
    assert_eq!(product["product"]["rating"]["count"], count);
    let mean = product["product"]["rating"]["average"]
        .as_f64()
        .expect("a mean");
    assert!(
        (mean - sum as f64 / f64::from(count)).abs() < 0.01,
        "{mean}"
    );
    let reviews = app
        .get_json(&format!("/api/v1/products/{slug}/reviews"), admin_token)
        .await;
    assert_eq!(reviews["meta"]["total"], count);
    let first = &reviews["reviews"][0];
    assert!(
        first["reviewer"]
            .as_str()
            .is_some_and(|name| name.ends_with('.')),
        "signed with a short name: {first}"
    );
    assert!((1..=5).contains(&first["rating"].as_i64().expect("stars")));

    // Segments: the loyal customers are those with five paid orders or more; the VIP group
    // has ten.
    let segments = app.get_json("/api/v1/admin/segments", admin_token).await;
    let named = |name: &str| {
        segments["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {segments}"))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let vip = app
        .get_json(
            &format!("/api/v1/admin/segments/{}/members", named("VIP")),
            admin_token,
        )
        .await;
    assert_eq!(vip["meta"]["total"], 10);
    let loyal = app
        .get_json(
            &format!(
                "/api/v1/admin/segments/{}/members?limit=100",
                named("Loyal: 5 orders or more")
            ),
            admin_token,
        )
        .await;
    let loyal_total = loyal["meta"]["total"].as_i64().expect("total");
    let expected = sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "count!" FROM (
               SELECT o.account_id FROM orders o JOIN accounts a ON a.id = o.account_id
                WHERE o.paid_at IS NOT NULL AND o.status <> 'cancelled' AND a.role = 'customer'
                GROUP BY o.account_id HAVING COUNT(*) >= 5) loyal"#
    )
    .fetch_one(&app.db)
    .await
    .expect("loyal customers");
    assert!(loyal_total > 0);
    assert_eq!(loyal_total, expected);

    // Promotions run: three T-shirts in a customer's cart get the third free.
    let running = app.get_json("/api/v1/admin/promotions", admin_token).await;
    assert_eq!(running["meta"]["total"], 4, "{running}");
    let tee = sqlx::query_scalar!(
        r#"SELECT v.id FROM variants v JOIN products p ON p.id = v.product_id
             JOIN categories c ON c.id = p.category_id
            WHERE c.name = 'T-Shirts & Tops' AND v.stock_on_hand >= 3 AND v.status = 'active'
              AND p.status = 'active'
            ORDER BY v.sku LIMIT 1"#
    )
    .fetch_one(&app.db)
    .await
    .expect("a T-shirt in stock");
    let shopper = login(&app, &demo::customer_email(2), demo::CUSTOMER_PASSWORD).await;
    let shopper = shopper["session"]["token"].as_str().expect("token");
    let added = app
        .request(
            reqwest::Method::POST,
            "/api/v1/cart/items",
            Some(shopper),
            Some(serde_json::json!({"variant_id": tee, "quantity": 3})),
        )
        .await;
    assert_eq!(added.status(), reqwest::StatusCode::OK);
    let cart = app.get_json("/api/v1/cart", shopper).await;
    assert_eq!(
        cart["cart"]["promotions"][0]["title"], "3 for 2 on T-shirts & tops",
        "{cart}"
    );

    let customer = demo::customer_email(1);
    for (email, password, role) in [
        (demo::ADMIN_EMAIL, demo::ADMIN_PASSWORD, "admin"),
        (demo::STAFF_EMAIL, demo::STAFF_PASSWORD, "staff"),
        (customer.as_str(), demo::CUSTOMER_PASSWORD, "customer"),
    ] {
        let body = login(&app, email, password).await;
        assert_eq!(body["session"]["account"]["role"], role);
    }

    // Best effort: the test server's data goes with it at the end of the run, and dropping
    // tens of thousands of events can outlast the watchdog's probe on a loaded machine.
    if let Err(error) = mongo.drop().await {
        eprintln!("the test's MongoDB database was not dropped: {error}");
    }
}

/// `demo-retention` gives the demo shop its intelligence: a model trained on the shop's own
/// history and active everywhere, every customer scored, a finished campaign whose measured
/// results count exactly the answers the demo gave its treated customers (and nothing for
/// the holdout, and no email sent for an offer whose moment has passed), and a running
/// campaign whose offers go out through the outbox. The books stay consistent.
#[api_test_stack::test]
async fn demo_retention_trains_scores_and_leaves_a_measured_and_a_running_campaign() {
    use churn_lab::models::ModelKind;
    use storefront_api::demo::retention::{
        self, LIVE_CAMPAIGN_NAME, PAST_CAMPAIGN_NAME, RetentionOutcome,
    };

    let app = demo_app().await;
    let mongo = storage::mongo_database(&app.settings.mongodb)
        .await
        .expect("mongo");
    let scope = HistoryScope::FirstCustomers(CUSTOMERS_WITH_HISTORY);
    demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, demo::end_now(), scope)
        .await
        .expect("load");
    let state = storefront_api::startup::build_state(app.settings.clone())
        .await
        .expect("state");
    // One quick model: the test is about what the shop does with it.
    let quick = |mut config: churn_lab::training::TrainingConfig| {
        config.models = vec![ModelKind::Logistic];
        config.search = false;
        config
    };
    let outcome = retention::prepare(&state, demo::DEFAULT_SEED, quick)
        .await
        .expect("prepare");
    let RetentionOutcome::Prepared(prepared) = outcome else {
        panic!("a shop without a model gets one: {outcome:?}");
    };
    assert!(
        prepared.scored >= CUSTOMERS_WITH_HISTORY / 2,
        "{prepared:?}"
    );
    assert!(prepared.responses > 0, "{prepared:?}");

    let staff = app.staff().await;
    let get = |path: &'static str| {
        let (app, staff) = (&app, staff.clone());
        async move {
            let response = app.request(Method::GET, path, Some(&staff), None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.json::<Value>().await.expect("json")
        }
    };
    let models = get("/api/v1/admin/churn/models").await;
    assert_eq!(models["meta"]["active"], json!(prepared.model_version));
    let runs = get("/api/v1/admin/churn/runs").await;
    assert_eq!(runs["runs"][0]["status"], "finished");
    assert_eq!(runs["runs"][0]["customers"], json!(prepared.scored));

    let campaigns = get("/api/v1/admin/campaigns").await;
    let id_of = |name: &str| {
        campaigns["campaigns"]
            .as_array()
            .expect("campaigns")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {campaigns}"))["id"]
            .as_str()
            .expect("id")
            .parse::<Uuid>()
            .expect("uuid")
    };
    let (past, live) = (id_of(PAST_CAMPAIGN_NAME), id_of(LIVE_CAMPAIGN_NAME));
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/campaigns/{past}"),
            Some(&staff),
            None,
        )
        .await;
    let detail: Value = response.json().await.expect("json");
    assert_eq!(detail["campaign"]["status"], "ended", "{detail}");
    let results = &detail["results"];
    assert_eq!(
        results["purchase_rate_uplift"]["status"], "measured",
        "{results}"
    );
    // Every answer whose order stands (not cancelled, not refunded whole) is a redemption.
    let standing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM discount_redemptions r JOIN orders o ON o.id = r.order_id
           JOIN campaign_enrolments e ON e.discount_code_id = r.discount_code_id
          WHERE e.campaign_id = $1 AND o.status <> 'cancelled' AND o.refunded_minor < o.total_minor",
    )
    .bind(past)
    .fetch_one(&app.db)
    .await
    .expect("redemptions");
    assert!(standing > 0 && standing <= prepared.responses as i64);
    assert_eq!(results["treated"]["codes_redeemed"], json!(standing));
    let consenting_treated: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_enrolments e JOIN accounts a ON a.id = e.account_id
          WHERE e.campaign_id = $1 AND e.arm = 'treatment' AND a.marketing_consent",
    )
    .bind(past)
    .fetch_one(&app.db)
    .await
    .expect("consenting");
    assert_eq!(results["treated"]["emails_sent"], json!(consenting_treated));
    for figure in ["codes_redeemed", "emails_sent", "banners_shown"] {
        assert_eq!(results["held_out"][figure], 0, "{figure}: {results}");
    }
    assert!(
        results["held_out"]["customers"].as_i64() > Some(0),
        "{results}"
    );

    let offers = |campaign: Uuid| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM outbox WHERE topic = 'customer.offer_made'
               AND payload->>'campaign_id' = $1::uuid::text",
        )
        .bind(campaign)
        .fetch_one(&app.db)
    };
    assert_eq!(
        offers(past).await.expect("outbox"),
        0,
        "no email for a past offer"
    );
    let live_treated: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_enrolments WHERE campaign_id = $1 AND arm = 'treatment'",
    )
    .bind(live)
    .fetch_one(&app.db)
    .await
    .expect("live");
    assert!(live_treated > 0);
    assert_eq!(offers(live).await.expect("outbox"), live_treated);

    let findings = storage::consistency::check(&app.db).await.expect("check");
    let broken: Vec<_> = findings
        .iter()
        .filter(|f| f.count > 0)
        .map(|f| (f.rule, f.examples.clone()))
        .collect();
    assert!(broken.is_empty(), "{broken:?}");

    let again = retention::prepare(&state, demo::DEFAULT_SEED, quick)
        .await
        .expect("again");
    assert_eq!(again, RetentionOutcome::AlreadyPresent);
}
