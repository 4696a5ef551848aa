use super::*;

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn market_price(code: &str, price_minor: i64, compare_at_minor: Option<i64>) -> MarketPrice {
    MarketPrice {
        currency: Currency::parse(code).unwrap(),
        price_minor,
        compare_at_minor,
    }
}

/// A catalog of one category, `shirts`, and one active product in dollars with two variants,
/// the first also priced in euros and pounds.
fn catalog() -> (Existing, Vec<ExportRow>) {
    let category = Uuid::from_u128(1);
    let product = StoredProduct {
        id: Uuid::from_u128(2),
        slug: "linen-shirt".into(),
        name: "Linen shirt".into(),
        description: "- breathes\n- =SUM(A1)".into(),
        category_id: category,
        status: ProductStatus::Active,
        currency: usd(),
        image_urls: vec!["/img/a.jpg".into(), "https://cdn.test/b.jpg".into()],
    };
    let variant = |n: u128, sku: &str, options: Value, compare_at| StoredVariant {
        id: Uuid::from_u128(n),
        product_id: product.id,
        sku: sku.into(),
        title: format!("Shirt {sku}"),
        options,
        price_minor: 2490,
        compare_at_minor: compare_at,
        stock_on_hand: 7,
        status: VariantStatus::Active,
        position: n as i32,
        market_prices: Vec::new(),
    };
    let mut medium = variant(3, "LS-M", serde_json::json!({"Size": "M"}), Some(2990));
    medium.market_prices = vec![
        market_price("EUR", 2290, None),
        market_price("GBP", 1990, Some(2490)),
    ];
    let variants = [
        medium,
        variant(
            4,
            "LS-L",
            serde_json::json!({"Size": "L; tall", "Fit": "a=b"}),
            None,
        ),
    ];
    let existing = Existing {
        categories: HashMap::from([("shirts".to_owned(), category)]),
        products: HashMap::from([(product.slug.clone(), product.clone())]),
        variants: variants
            .iter()
            .map(|v| (v.sku.clone(), v.clone()))
            .collect(),
    };
    let rows = variants
        .into_iter()
        .map(|v| ExportRow {
            product: product.clone(),
            category_slug: "shirts".into(),
            variant: Some(v),
        })
        .collect();
    (existing, rows)
}

fn plan_of(csv: &str, existing: &Existing) -> Plan {
    plan(read(csv.as_bytes()), existing)
}

fn problems(plan: &Plan) -> Vec<(u64, &str)> {
    plan.report
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_str()))
        .collect()
}

#[test]
fn importing_an_export_changes_nothing() {
    let (existing, rows) = catalog();
    let exported = String::from_utf8(write(&rows).unwrap()).unwrap();
    assert!(exported.contains("'- breathes"), "{exported}");
    let plan = plan_of(&exported, &existing);
    assert_eq!(plan.report.problems, vec![]);
    assert_eq!(
        (
            plan.report.rows,
            plan.report.products_unchanged,
            plan.report.variants_unchanged,
            plan.report.stock_changes
        ),
        (2, 1, 2, 0)
    );
    assert!(plan.touched_products().is_empty());
}

#[test]
fn every_bad_cell_is_named_by_line_and_column() {
    let (existing, _) = catalog();
    let csv = "product_slug,product_name,category,currency,sku,variant_title,price,stock,description\n\
               new-tee,Tee,shirts,USD,TEE-S,Small,12.50,3,\n\
               new-tee,Tee,shirts,USD,TEE-M,Medium,12.505,-1,\"Soft\nand light\"\n\
               Bad Slug,Tee,shirts,USD,TEE-L,Large,12,1,\n\
               other,Other,hats,EUR,LS-M,M,1,1,\n\
               new-tee,Tea,shirts,USD,TEE-S,Small,12.50,3,\n";
    let plan = plan_of(csv, &existing);
    assert_eq!(
        problems(&plan),
        [
            // The quoted description spans lines 3-4; the row is named by the line it starts on.
            (3, "price"),
            (3, "stock"),
            (5, "product_slug"),
            (6, "category"),
            (6, "sku"),
            (7, "product_name"),
            (7, "sku"),
        ],
        "{:#?}",
        plan.report.problems
    );
    assert!(plan.report.problems[0].message.contains("2 decimal places"));
}

#[test]
fn new_products_and_variants_need_their_columns() {
    let (existing, _) = catalog();
    let plan = plan_of(
        "product_slug,sku,price\nhat,HAT-1,5\nlinen-shirt,LS-XL,\n",
        &existing,
    );
    assert_eq!(
        problems(&plan),
        [
            (2, "product_name"),
            (2, "category"),
            (2, "currency"),
            (3, "variant_title"),
            (3, "price"),
        ]
    );
}

#[test]
fn a_partial_file_changes_only_its_columns_and_sets_stock_through_the_ledger() {
    let (existing, _) = catalog();
    let plan = plan_of(
        "sku,product_slug,price,stock\nls-m,linen-shirt,19.90,10\n",
        &existing,
    );
    assert_eq!(plan.report.problems, vec![]);
    assert_eq!(plan.updated_variants.len(), 1);
    let variant = &plan.updated_variants[0];
    assert_eq!(
        (
            variant.price_minor,
            variant.compare_at_minor,
            &variant.title
        ),
        (1990, Some(2990), &"Shirt LS-M".to_owned())
    );
    assert_eq!(
        plan.stock_sets,
        [StockSet {
            variant_id: Uuid::from_u128(3),
            product_id: Uuid::from_u128(2),
            delta: 3,
            stock_after: 10
        }]
    );
    assert_eq!(plan.report.products_unchanged, 1);
    assert_eq!(plan.touched_products(), [Uuid::from_u128(2)]);
}

#[test]
fn an_active_product_keeps_an_active_variant_and_its_currency() {
    let (existing, _) = catalog();
    let plan = plan_of(
        "product_slug,sku,variant_status\nlinen-shirt,LS-M,archived\nlinen-shirt,LS-L,archived\n",
        &existing,
    );
    assert_eq!(problems(&plan), [(2, "product_status")]);
    let plan = plan_of("product_slug,currency,sku\nlinen-shirt,EUR,\n", &existing);
    assert_eq!(problems(&plan), [(2, "currency")]);
    let plan = plan_of(
        "product_slug,sku,price,compare_at_price\nlinen-shirt,LS-M,40,\nlinen-shirt,LS-L,40,30\n",
        &existing,
    );
    assert_eq!(problems(&plan), [(3, "compare_at_price")]);
}

#[test]
fn the_header_is_checked_before_any_row() {
    let (existing, _) = catalog();
    let plan = plan_of("product_slug,colour\nlinen-shirt,red\n", &existing);
    assert_eq!(problems(&plan), [(1, "sku"), (1, "colour")]);
    let plan = plan_of("", &existing);
    assert_eq!(problems(&plan), [(1, "")]);
    let plan = plan_of(
        "\u{feff}product_slug,sku\nlinen-shirt,LS-M,extra\n",
        &existing,
    );
    assert_eq!(problems(&plan), [(2, "")]);
}

#[test]
fn options_read_back_as_written() {
    for options in [
        serde_json::json!({"Size": "M", "Colour": "Blue"}),
        serde_json::json!({"Size": "L; tall", "Fit": "a=b"}),
        serde_json::json!({}),
    ] {
        let written = write_options(&options);
        let read = if written.is_empty() {
            serde_json::json!({})
        } else {
            parse_options(&written).unwrap()
        };
        assert_eq!(read, options, "{written}");
    }
    assert_eq!(write_options(&serde_json::json!({"Size": "M"})), "Size=M");
    assert!(parse_options("Size").is_err());
    assert!(parse_options("Size=M; Size=L").is_err());
}

#[test]
fn lines_are_counted_in_windows_files_and_past_blank_lines() {
    let (existing, _) = catalog();
    let csv = "product_slug,sku,price\r\nlinen-shirt,LS-M,1\r\n\r\nlinen-shirt,LS-L,x\r\n";
    assert_eq!(problems(&plan_of(csv, &existing)), [(4, "price")]);
    let csv = "product_slug,sku,price,\nlinen-shirt,LS-M,1,\n\n\nlinen-shirt,LS-L,2,oops\n";
    assert_eq!(problems(&plan_of(csv, &existing)), [(5, "")]);
}

#[test]
fn a_row_without_a_sku_may_not_speak_of_a_variant() {
    let (existing, _) = catalog();
    let plan = plan_of("product_slug,sku,price\nlinen-shirt,,24.90\n", &existing);
    assert_eq!(problems(&plan), [(2, "sku")]);
    let plan = plan_of(
        "product_slug,product_name,sku\nlinen-shirt,Linen top,\n",
        &existing,
    );
    assert_eq!(plan.report.problems, vec![]);
    assert_eq!(plan.report.products_updated, 1);
}

#[test]
fn text_that_looks_guarded_and_stock_past_the_new_variant_limit_read_back_as_exported() {
    let (mut existing, mut rows) = catalog();
    rows[0].product.name = "'-Sale".into();
    rows[0].variant.as_mut().unwrap().stock_on_hand = 2_000_000;
    rows[1].product.name = "'-Sale".into();
    for (slug, product) in &mut existing.products {
        assert_eq!(slug, "linen-shirt");
        product.name = "'-Sale".into();
    }
    existing.variants.get_mut("LS-M").unwrap().stock_on_hand = 2_000_000;
    let exported = String::from_utf8(write(&rows).unwrap()).unwrap();
    let plan = plan_of(&exported, &existing);
    assert_eq!(plan.report.problems, vec![], "{exported}");
    assert_eq!(plan.report.products_unchanged, 1);
    // Setting it there from a file is still refused.
    let plan = plan_of(
        "product_slug,sku,stock\nlinen-shirt,LS-L,2000000\n",
        &existing,
    );
    assert_eq!(problems(&plan), [(2, "stock")]);
}

#[test]
fn market_price_columns_set_keep_and_remove_prices_in_other_currencies() {
    let (existing, rows) = catalog();
    let exported = String::from_utf8(write(&rows).unwrap()).unwrap();
    let header = exported.lines().next().unwrap();
    assert!(
        header.ends_with(
            ",variant_status,price_eur,compare_at_price_eur,price_gbp,compare_at_price_gbp"
        ),
        "{header}"
    );
    let medium = exported.lines().find(|l| l.contains("LS-M")).unwrap();
    assert!(medium.ends_with(",22.90,,19.90,24.90"), "{medium}");
    let large = exported.lines().find(|l| l.contains("LS-L")).unwrap();
    assert!(large.ends_with(",active,,,,"), "{large}");

    // LS-M's pound price changes (its compare-at price, whose column is absent, stays) and
    // its euro price goes (an empty cell); LS-L gets both.
    let plan = plan_of(
        "product_slug,sku,price_GBP,price_eur\nlinen-shirt,LS-M,18.00,\nlinen-shirt,LS-L,21.50,22\n",
        &existing,
    );
    assert_eq!(plan.report.problems, vec![]);
    let prices = |sku: &str| {
        plan.updated_variants
            .iter()
            .find(|v| v.sku == sku)
            .unwrap()
            .market_prices
            .iter()
            .map(|p| (p.currency.code(), p.price_minor, p.compare_at_minor))
            .collect::<Vec<_>>()
    };
    assert_eq!(prices("LS-M"), [("GBP", 1800, Some(2490))]);
    assert_eq!(prices("LS-L"), [("EUR", 2200, None), ("GBP", 2150, None)]);

    // Each mistake is named by its line and column.
    for (csv, expected) in [
        // The product's own currency has its own columns.
        (
            "product_slug,sku,price_usd\nlinen-shirt,LS-M,1\n",
            vec![(2, "price_usd")],
        ),
        // A compare-at price without a price in that currency.
        (
            "product_slug,sku,compare_at_price_gbp\nlinen-shirt,LS-L,5\n",
            vec![(2, "compare_at_price_gbp")],
        ),
        (
            "product_slug,sku,price_gbp,compare_at_price_gbp\nlinen-shirt,LS-M,20,19\nlinen-shirt,LS-L,1.234,\n",
            vec![(2, "compare_at_price_gbp"), (3, "price_gbp")],
        ),
        (
            "product_slug,sku,price_gbp\nlinen-shirt,,20\n",
            vec![(2, "sku")],
        ),
        (
            "product_slug,sku,price_xyz\nlinen-shirt,LS-M,20\n",
            vec![(1, "price_xyz")],
        ),
    ] {
        assert_eq!(problems(&plan_of(csv, &existing)), expected, "{csv}");
    }
}
