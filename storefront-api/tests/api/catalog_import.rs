//! Catalog import and export as CSV: a file with bad rows imports nothing and names each bad
//! row by line and column; a good one creates products, variants and their stock in one go;
//! an export imported again changes nothing, and a partial file changes just what it says.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, assert_consistent};

async fn import(app: &TestApp, staff: &str, csv: &str, dry_run: bool) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/admin/catalog/import?dry_run={dry_run}")))
        .bearer_auth(staff)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

/// `(line, column)` of each problem listed.
fn problems(list: &Value) -> Vec<(u64, String)> {
    list.as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("line"),
                p["column"].as_str().expect("column").to_owned(),
            )
        })
        .collect()
}

/// 500 active products of two variants each: 1,000 rows after the header.
fn thousand_rows(bad: bool) -> String {
    let mut csv = String::from(
        "product_slug,product_name,category,currency,product_status,sku,variant_title,options,price,stock\n",
    );
    for i in 0..500 {
        for (size, price) in [("S", "12.50"), ("M", "13.00")] {
            let row = csv.lines().count() - 1;
            let mut sku = format!("P{i}-{size}");
            let (mut price, mut stock) = (price.to_owned(), "3".to_owned());
            if bad {
                match row {
                    100 => price = "\"12,345.00\"".into(),
                    500 => stock = "many".into(),
                    900 => sku = "P0-S".into(),
                    _ => {}
                }
            }
            csv.push_str(&format!(
                "p-{i},Product {i},shirts,EUR,active,{sku},Size {size},Size={size},{price},{stock}\n"
            ));
        }
    }
    csv
}

#[api_test_stack::test]
async fn a_file_with_three_bad_rows_among_a_thousand_imports_nothing_and_names_them() {
    let app = TestApp::spawn().await;
    let staff = app.staff().await;
    app.category(&staff, "Shirts", None).await;
    let bad = thousand_rows(true);
    let named = vec![
        (102, "price".to_owned()),
        (502, "stock".to_owned()),
        (902, "sku".to_owned()),
    ];

    let (status, dry) = import(&app, &staff, &bad, true).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(problems(&dry["import"]["problems"]), named, "{dry}");
    assert_eq!(dry["import"]["rows"], 1000);
    assert_eq!(dry["import"]["applied"], false);

    let (status, refused) = import(&app, &staff, &bad, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "import_invalid");
    assert_eq!(
        problems(&refused["error"]["details"]["problems"]),
        named,
        "{refused}"
    );
    let listed = app.get_json("/api/v1/admin/products", &staff).await;
    assert_eq!(listed["meta"]["total"], 0, "nothing was imported: {listed}");

    let (status, done) = import(&app, &staff, &thousand_rows(false), false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let report = &done["import"];
    assert_eq!(
        (
            &report["applied"],
            &report["products_created"],
            &report["variants_created"]
        ),
        (&Value::Bool(true), &Value::from(500), &Value::from(1000)),
        "{done}"
    );
    let shown = app.get("/api/v1/products/p-7").await;
    assert_eq!(shown.status(), StatusCode::OK);
    let product: Value = shown.json().await.expect("json");
    assert_eq!(product["product"]["price_from"]["amount_minor"], 1250);
    assert_eq!(product["product"]["price_from"]["currency"], "EUR");
    assert_eq!(product["product"]["in_stock"], true);
    assert_eq!(product["product"]["variants"][1]["options"]["Size"], "M");
    assert_consistent(&app).await;

    // The same file again is no change at all.
    let (_, again) = import(&app, &staff, &thousand_rows(false), false).await;
    assert_eq!(
        (
            &again["import"]["products_unchanged"],
            &again["import"]["variants_unchanged"],
            &again["import"]["stock_changes"]
        ),
        (&Value::from(500), &Value::from(1000), &Value::from(0)),
        "{again}"
    );
}

#[api_test_stack::test]
async fn an_exported_catalog_imports_unchanged_and_a_partial_file_changes_what_it_names() {
    let app = TestApp::spawn().await;
    let catalog = app.small_catalog().await;
    let staff = catalog.staff_token.as_str();
    // The small shirt has a dollar price too: the export gets a column pair for dollars.
    let shirt: Value = app
        .get("/api/v1/products/linen-shirt")
        .await
        .json()
        .await
        .expect("json");
    let small = shirt["product"]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["sku"] == "LS-S")
        .expect("LS-S")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let priced = app
        .request(
            Method::PUT,
            &format!("/api/v1/admin/variants/{small}/prices/USD"),
            Some(staff),
            Some(serde_json::json!({"price_minor": 5300})),
        )
        .await;
    assert_eq!(priced.status(), StatusCode::OK);

    let response = app
        .request(
            Method::GET,
            "/api/v1/admin/catalog/export",
            Some(staff),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let exported = response.text().await.expect("text");
    assert!(
        exported.starts_with("product_slug,product_name,description,category,"),
        "{exported}"
    );
    assert!(exported.contains("linen-shirt,Linen Shirt,"), "{exported}");
    assert!(
        exported.lines().next().is_some_and(
            |header| header.ends_with(",variant_status,price_usd,compare_at_price_usd")
        ),
        "{exported}"
    );
    let (status, dry) = import(&app, staff, &exported, true).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        (
            &dry["import"]["products_unchanged"],
            &dry["import"]["variants_unchanged"],
            &dry["import"]["products_updated"],
            &dry["import"]["variants_updated"],
            &dry["import"]["stock_changes"]
        ),
        (
            &Value::from(5),
            &Value::from(6),
            &Value::from(0),
            &Value::from(0),
            &Value::from(0)
        ),
        "{dry}"
    );

    // The shop has the shirt cached; the import's new price and stock show at once.
    let before: Value = app
        .get("/api/v1/products/linen-shirt")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(before["product"]["price_from"]["amount_minor"], 4900);
    let (status, done) = import(
        &app,
        staff,
        "product_slug,sku,price,stock\nlinen-shirt,ls-s,44.00,9\n",
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["import"]["variants_updated"], 1, "{done}");
    assert_eq!(done["import"]["stock_changes"], 1, "{done}");
    let after: Value = app
        .get("/api/v1/products/linen-shirt")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["product"]["price_from"]["amount_minor"], 4400);
    let variant = after["product"]["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["sku"] == "LS-S")
        .expect("LS-S")
        .clone();
    assert_eq!(variant["stock_on_hand"], 9);

    // A column of pound prices puts the shirt on the British shop; its dollar price stays.
    let (status, done) = import(
        &app,
        staff,
        "product_slug,sku,price_gbp\nlinen-shirt,LS-S,39.00\n",
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    for (currency, price) in [("GBP", 3900), ("USD", 5300)] {
        let shown: Value = app
            .get(&format!("/api/v1/products/linen-shirt?currency={currency}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            shown["product"]["price_from"],
            serde_json::json!({"amount_minor": price, "currency": currency}),
            "{shown}"
        );
    }
    let ledger = app
        .get_json(
            &format!(
                "/api/v1/admin/variants/{}/stock-adjustments",
                variant["id"].as_str().expect("id")
            ),
            staff,
        )
        .await;
    let latest = &ledger["movements"][0];
    assert_eq!(
        (&latest["reason"], &latest["delta"], &latest["note"]),
        (
            &Value::from("correction"),
            &Value::from(4),
            &Value::from("catalog import")
        ),
        "{ledger}"
    );
    assert_consistent(&app).await;
}
