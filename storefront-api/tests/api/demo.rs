//! The demo shop loads once, keeps the catalog invariants, carries its order history and
//! behaviour events, and is browsable through the API with the demo logins the README gives.
//!
//! The test loads the history of the first few hundred customers (`load_with`): the whole of
//! it (over 50,000 orders and 400,000 events) is what `demo-data` loads, and takes a minute or
//! more on the MongoDB-wire server. Generation is the same code either way, and the unit tests
//! in `demo::tests` check the full history.

use mongodb::bson::{Document, doc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_api::{
    demo::{self, DemoOutcome, HistoryScope},
    storage::{self, stock::ledger_mismatches},
};
use uuid::Uuid;

use crate::helpers::TestApp;

const CUSTOMERS_WITH_HISTORY: usize = 300;

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
    let app = TestApp::spawn().await;
    let mongo = storage::mongo_database(&app.settings.mongodb)
        .await
        .expect("mongo");
    let scope = HistoryScope::FirstCustomers(CUSTOMERS_WITH_HISTORY);
    let outcome = demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, scope)
        .await
        .expect("load");
    let DemoOutcome::Loaded {
        counts, history, ..
    } = outcome
    else {
        panic!("a fresh database gets the demo shop: {outcome:?}");
    };
    assert!(
        counts.products >= 500 && counts.customers >= 5_000,
        "{counts:?}"
    );
    // About ten orders and ninety events a customer, as in the full history.
    assert!(history.orders >= CUSTOMERS_WITH_HISTORY * 8, "{history:?}");
    assert!(history.events >= CUSTOMERS_WITH_HISTORY * 40, "{history:?}");
    assert!(matches!(
        demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, scope)
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

    let events = mongo.collection::<Document>(storage::events::COLLECTION);
    let stored = events
        .count_documents(doc! { "demo": true })
        .await
        .expect("count events");
    assert_eq!(stored, u64::try_from(history.events).expect("count"));

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
    let base = demo::base_date();
    let activity =
        storage::events::count_for_customer(&mongo, account_id, base - demo::HISTORY, base)
            .await
            .expect("customer events");
    let kinds: Vec<&str> = activity.iter().map(|(kind, _)| kind.as_str()).collect();
    assert!(
        kinds.contains(&"checkout_started") && kinds.contains(&"add_to_cart"),
        "{activity:?}"
    );

    // A load whose events never arrived (MongoDB was down) adds them when run again.
    events
        .delete_many(doc! { "demo": true })
        .await
        .expect("delete events");
    let again = demo::load_with(&app.db, &mongo, demo::DEFAULT_SEED, scope)
        .await
        .expect("load after lost events");
    assert!(
        matches!(again, DemoOutcome::EventsAdded { events, .. } if events == history.events),
        "{again:?}"
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

    let customer = demo::customer_email(1);
    for (email, password, role) in [
        (demo::ADMIN_EMAIL, demo::ADMIN_PASSWORD, "admin"),
        (demo::STAFF_EMAIL, demo::STAFF_PASSWORD, "staff"),
        (customer.as_str(), demo::CUSTOMER_PASSWORD, "customer"),
    ] {
        let body = login(&app, email, password).await;
        assert_eq!(body["session"]["account"]["role"], role);
    }

    mongo
        .drop()
        .await
        .expect("drop the test's MongoDB database");
}
