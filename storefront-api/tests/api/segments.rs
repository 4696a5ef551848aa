//! Customer groups and segments: a dynamic segment over the churn engine's latest scores and
//! order history lists exactly who matches; a static group is filled by hand; both export as
//! CSV and can be the condition of a promotion.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ProductSpec, TestApp};

async fn create(app: &TestApp, staff: &str, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/admin/segments",
        Some(staff),
        Some(body),
    )
    .await
}

async fn segment(app: &TestApp, staff: &str, body: Value) -> String {
    let response = create(app, staff, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    body["segment"]["id"].as_str().expect("id").to_owned()
}

async fn member_ids(app: &TestApp, staff: &str, id: &str) -> BTreeSet<Uuid> {
    let list = app
        .get_json(
            &format!("/api/v1/admin/segments/{id}/members?limit=100"),
            staff,
        )
        .await;
    list["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["account_id"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}

/// Six customers, scored differently: the segment "high risk and predicted value of at
/// least 300.00" lists exactly the two who are both, and its CSV says the same.
#[api_test_stack::test]
async fn a_high_risk_high_value_segment_lists_exactly_the_matching_customers() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let mut customers = Vec::new();
    for _ in 0..6 {
        customers.push(app.customer().await.1);
    }
    let [
        high_valuable,
        high_cheap,
        medium_valuable,
        high_unvalued,
        unscored,
        high_rich,
    ] = customers[..]
    else {
        unreachable!()
    };
    let rule = json!({"name": "High risk, high value", "kind": "dynamic",
        "rule": {"risk_bands": ["high"], "min_predicted_value_minor": 30000}});
    // Before any scoring run, a churn rule cannot be answered.
    let id = segment(&app, &staff, rule).await;
    let early = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/segments/{id}/members"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    app.scored(&[
        (high_valuable, 0.8, "high", Some(50_000)),
        (high_cheap, 0.9, "high", Some(10_000)),
        (medium_valuable, 0.5, "medium", Some(90_000)),
        (high_unvalued, 0.85, "high", None),
        (high_rich, 0.95, "high", Some(30_000)),
    ])
    .await;
    let _ = unscored;
    assert_eq!(
        member_ids(&app, &staff, &id).await,
        BTreeSet::from([high_valuable, high_rich])
    );

    let csv = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/segments/{id}/members.csv"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("csv");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[..3], ["account_id", "email", "full_name"]);
    let exported: BTreeSet<Uuid> = rows
        .records()
        .map(|row| row.expect("row")[0].parse().expect("uuid"))
        .collect();
    assert_eq!(exported, BTreeSet::from([high_valuable, high_rich]));

    // Order history too: a segment of customers with at least one order is nobody yet.
    let buyers = segment(
        &app,
        &staff,
        json!({"name": "Buyers", "kind": "dynamic", "rule": {"min_orders": 1}}),
    )
    .await;
    assert!(member_ids(&app, &staff, &buyers).await.is_empty());

    let taken = create(
        &app,
        &staff,
        json!({"name": "high risk, HIGH value", "kind": "static"}),
    )
    .await;
    assert_eq!(
        taken.status(),
        StatusCode::CONFLICT,
        "names are unique, in any case"
    );
    let bad = create(
        &app,
        &staff,
        json!({"name": "Bad", "kind": "dynamic", "rule": {"risk_bands": ["severe"]}}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Staff fill a static group by hand; only its members get the group's promotion.
#[api_test_stack::test]
async fn a_static_group_is_filled_by_hand_and_only_its_members_get_its_promotion() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    let (vip_token, vip) = app.customer().await;
    let (other_token, other) = app.customer().await;
    let group = segment(&app, &staff, json!({"name": "VIP", "kind": "static"})).await;
    let add = |ids: Value| {
        let (app, staff, group) = (&app, &staff, &group);
        async move {
            app.request(
                Method::POST,
                &format!("/api/v1/admin/segments/{group}/members"),
                Some(staff),
                Some(json!({ "account_ids": ids })),
            )
            .await
        }
    };
    let added = add(json!([vip, other])).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(added.json::<Value>().await.expect("json")["added"], 2);
    let again = add(json!([vip])).await;
    assert_eq!(again.json::<Value>().await.expect("json")["added"], 0);
    let unknown = add(json!([Uuid::from_u128(7)])).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/segments/{group}/members/{other}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        member_ids(&app, &staff, &group).await,
        BTreeSet::from([vip])
    );

    let category = app.category(&staff, "Candles", None).await;
    let (_, candle) = app
        .product(
            &staff,
            ProductSpec {
                name: "Beeswax Candle",
                description: "Slow.",
                category,
                variants: &[("CANDLE-1", 2000, 20)],
            },
        )
        .await;
    let promotion = app
        .request(
            Method::POST,
            "/api/v1/admin/promotions",
            Some(&staff),
            Some(json!({
                "title": "VIP: 20 % off",
                "rule": {"kind": "spend_tiers", "tiers": [{"min_spend_minor": 0, "off_basis_points": 2000}]},
                "currency": "EUR",
                "segment_id": group
            })),
        )
        .await;
    assert_eq!(promotion.status(), StatusCode::CREATED);
    for token in [&vip_token, &other_token] {
        app.add_to_cart(token, candle[0], 1).await;
    }
    let vip_cart = app.get_json("/api/v1/cart", &vip_token).await;
    assert_eq!(vip_cart["cart"]["promotions"][0]["title"], "VIP: 20 % off");
    assert_eq!(vip_cart["cart"]["totals"]["discount_minor"], 400);
    let other_cart = app.get_json("/api/v1/cart", &other_token).await;
    assert_eq!(other_cart["cart"]["promotions"], json!([]));
    assert_eq!(
        other_cart["cart"]["promotion_hints"],
        json!([]),
        "not even a hint"
    );
    let paid = app.checkout_approved(&vip_token, "vip").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let order: Value = paid.json().await.expect("json");
    assert_eq!(order["order"]["totals"]["discount"]["amount_minor"], 400);

    // A member who erases their account leaves the group with everything else.
    let (leaving_token, leaving) = app.customer().await;
    assert_eq!(add(json!([leaving])).await.status(), StatusCode::CREATED);
    let erased = app
        .request(
            Method::DELETE,
            "/api/v1/me",
            Some(&leaving_token),
            Some(json!({ "password": "correct horse battery" })),
        )
        .await;
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customer_segment_members WHERE account_id = $1")
            .bind(leaving)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(left, 0);

    let dynamic = segment(
        &app,
        &staff,
        json!({"name": "Everyone", "kind": "dynamic", "rule": {}}),
    )
    .await;
    let refused = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/segments/{dynamic}/members"),
            Some(&staff),
            Some(json!({ "account_ids": [vip] })),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}
