//! Generation is checked without a database: determinism, volume, and the invariants the
//! schema and the storage layer would otherwise only reject at load time.

use std::{
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use super::*;
use crate::{
    config::Settings,
    domain::{
        account::{Email, NewPassword, verify_password},
        catalog::{Sku, Slug, check_compare_at},
        events::{BehaviourEvent, EventKind, validate},
        money::Currency,
        order::{OrderStatus, ShippingMethod},
        tax::{TaxRate, TaxTreatment},
    },
};

fn instant(text: &str) -> DateTime<Utc> {
    parse_end(text).expect("a valid end")
}

/// The end most tests use: late in a UTC day, as a load's `now` usually is, so that days
/// counted back from it are not UTC days.
fn end() -> DateTime<Utc> {
    instant("2026-12-06T17:34:00Z")
}

fn shop() -> DemoShop {
    generate(DEFAULT_SEED, end())
}

/// The default seed's shop and full history, generated once for all the tests that read it.
fn generated() -> &'static (DemoShop, History) {
    static GENERATED: OnceLock<(DemoShop, History)> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let shop = shop();
        let history = generate_history(&shop, DEFAULT_SEED, HistoryScope::AllCustomers);
        (shop, history)
    })
}

fn variants(shop: &DemoShop) -> impl Iterator<Item = &Variant> {
    shop.products.iter().flat_map(|p| &p.variants)
}

#[test]
fn the_same_seed_gives_the_same_shop_and_another_seed_another() {
    let first = shop();
    assert_eq!(first, shop());
    let other = generate(DEFAULT_SEED + 1, end());
    assert_ne!(first.products, other.products);
    assert_ne!(first.accounts, other.accounts);
    assert_ne!(first.categories[0].id, other.categories[0].id);
}

#[test]
fn the_shop_is_big_enough_to_demo() {
    let counts = shop().counts();
    assert_eq!(counts.departments, 6);
    assert!(counts.categories >= 24, "{counts:?}");
    assert!(counts.products >= 520, "{counts:?}");
    assert_eq!(counts.staff, 2);
    assert_eq!(counts.customers, CUSTOMER_COUNT);
}

#[test]
fn every_variant_has_a_shelf_price_in_each_market() {
    assert_eq!(catalog::market_price(1999, 86), 1699);
    assert_eq!(catalog::market_price(1999, 108), 2199);
    assert_eq!(catalog::market_price(2000, 86), 1700);
    assert_eq!(catalog::market_price(1950, 108), 2150);
    assert_eq!(
        catalog::market_price(99, 86),
        99,
        "never below the smallest shelf price"
    );
    for variant in variants(&shop()) {
        let prices: Vec<_> = catalog::market_prices(variant).collect();
        assert_eq!(
            prices
                .iter()
                .map(|(currency, ..)| *currency)
                .collect::<Vec<_>>(),
            ["GBP", "USD"]
        );
        for (currency, price, compare_at) in prices {
            assert!(Currency::parse(currency).is_ok());
            assert!(price > 0, "{variant:?}");
            assert_eq!(price % 100, variant.price_minor % 100, "the same ending");
            assert_eq!(compare_at.is_some(), variant.compare_at_minor.is_some());
            assert!(check_compare_at(price, compare_at).is_ok(), "{variant:?}");
        }
    }
}

#[test]
fn categories_form_two_levels_and_products_sit_in_leaves() {
    let shop = shop();
    let ids: HashSet<_> = shop.categories.iter().map(|c| c.id).collect();
    let parents: HashSet<_> = shop.categories.iter().filter_map(|c| c.parent_id).collect();
    for category in &shop.categories {
        if let Some(parent) = category.parent_id {
            assert!(ids.contains(&parent));
            let parent = shop.categories.iter().find(|c| c.id == parent);
            assert!(
                parent.is_some_and(|p| p.parent_id.is_none()),
                "three levels deep"
            );
        }
    }
    for department in shop.categories.iter().filter(|c| c.parent_id.is_none()) {
        let children = shop
            .categories
            .iter()
            .filter(|c| c.parent_id == Some(department.id));
        assert!((3..=5).contains(&children.count()), "{}", department.name);
    }
    for product in &shop.products {
        assert!(ids.contains(&product.category_id));
        assert!(
            !parents.contains(&product.category_id),
            "{} is not in a leaf",
            product.name
        );
    }
}

#[test]
fn slugs_and_skus_are_unique_and_valid() {
    let shop = shop();
    let mut slugs = HashSet::new();
    for product in &shop.products {
        assert_eq!(
            Slug::parse(&product.slug).as_ref().map(Slug::as_str),
            Ok(product.slug.as_str())
        );
        assert!(
            slugs.insert(&product.slug),
            "repeated slug {}",
            product.slug
        );
    }
    let mut category_slugs = HashSet::new();
    for category in &shop.categories {
        assert!(Slug::parse(&category.slug).is_ok(), "{}", category.slug);
        assert!(category_slugs.insert(&category.slug));
    }
    let mut skus = HashSet::new();
    for variant in variants(&shop) {
        assert_eq!(
            Sku::parse(&variant.sku).as_ref().map(Sku::as_str),
            Ok(variant.sku.as_str())
        );
        assert!(skus.insert(&variant.sku), "repeated SKU {}", variant.sku);
    }
}

#[test]
fn products_read_like_a_real_shop() {
    let shop = shop();
    assert!(Currency::parse(CURRENCY).is_ok());
    for product in &shop.products {
        assert!((1..=200).contains(&product.name.chars().count()));
        let sentences = product.description.matches(". ").count() + 1;
        assert!(
            (2..=4).contains(&sentences) && product.description.ends_with('.'),
            "{}",
            product.description
        );
        assert!((1..=3).contains(&product.image_urls.len()));
        for (n, url) in (1..).zip(&product.image_urls) {
            assert_eq!(url, &format!("/images/products/{}-{n}.jpg", product.slug));
        }
        let titles: HashSet<_> = product.variants.iter().map(|v| &v.title).collect();
        assert_eq!(titles.len(), product.variants.len(), "{}", product.name);
    }
    for product in &shop.products {
        for material in [
            "Cashmere",
            "Lambswool",
            "Linen",
            "Leather",
            "Copper",
            "Titanium",
        ] {
            if product.name.contains(material) {
                let promised = material.to_lowercase();
                assert!(
                    product.description.contains(&promised),
                    "{}",
                    product.description
                );
            }
        }
    }
    let names: HashSet<_> = shop.products.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.len() * 10 >= shop.products.len() * 9,
        "too many repeated names"
    );
    let described = |word: &str| {
        shop.products
            .iter()
            .any(|p| p.name.contains(word) || p.description.contains(word))
    };
    for word in [
        "Merino",
        "leather",
        "Waterproof",
        "linen",
        "Stoneware",
        "Noise-Cancelling",
    ] {
        assert!(described(word), "nothing mentions {word}");
    }
}

#[test]
fn prices_stock_and_roll_ups_are_consistent() {
    let shop = shop();
    for product in &shop.products {
        assert!(
            (1..=6).contains(&product.variants.len()),
            "{}",
            product.name
        );
        let lowest = product.variants.iter().map(|v| v.price_minor).min();
        assert_eq!(Some(product.price_from_minor), lowest);
        let stocked = product.variants.iter().any(|v| v.stock_on_hand > 0);
        assert_eq!(product.in_stock, stocked);
        for variant in &product.variants {
            assert!(variant.price_minor >= 100, "{}", variant.sku);
            assert!(check_compare_at(variant.price_minor, variant.compare_at_minor).is_ok());
            assert!((0..=120).contains(&variant.stock_on_hand));
            assert!(variant.options.is_object());
        }
    }
    let all: Vec<_> = variants(&shop).collect();
    let share = |n: usize| n as f64 / all.len() as f64;
    let sold_out = share(all.iter().filter(|v| v.stock_on_hand == 0).count());
    let on_sale = share(all.iter().filter(|v| v.compare_at_minor.is_some()).count());
    assert!((0.04..=0.13).contains(&sold_out), "sold out: {sold_out}");
    assert!((0.12..=0.30).contains(&on_sale), "on sale: {on_sale}");
}

#[test]
fn timestamps_lie_in_the_two_years_before_the_end() {
    let shop = shop();
    assert_eq!(shop.ends_at, end());
    let (start, end) = (shop.ends_at - HISTORY, shop.ends_at);
    let in_history = |t: DateTime<Utc>| t <= end && t >= start;
    assert!(shop.products.iter().all(|p| in_history(p.created_at)));
    assert!(shop.accounts.iter().all(|a| in_history(a.created_at)));
    assert!(shop.addresses.iter().all(|a| in_history(a.created_at)));
    // A later load finds the end again from the admin's account.
    assert_eq!(shop.accounts[0].created_at + HISTORY, end);
    // Sub-seconds are dropped: PostgreSQL keeps microseconds only.
    let precise = end + TimeDelta::nanoseconds(123_456_789);
    assert_eq!(generate(DEFAULT_SEED, precise), shop);
}

#[test]
fn ends_are_given_as_dates_or_instants_and_default_to_this_minute() {
    assert_eq!(
        parse_end("2026-11-01").map(|end| end.to_rfc3339()),
        Ok("2026-11-01T00:00:00+00:00".to_owned())
    );
    assert_eq!(
        parse_end("2026-11-01T19:30:00+01:00").map(|end| end.to_rfc3339()),
        Ok("2026-11-01T18:30:00+00:00".to_owned())
    );
    for wrong in ["", "yesterday", "2026-13-01", "2026-11-01 18:30"] {
        let refused = parse_end(wrong).expect_err(wrong);
        assert!(refused.contains("RFC 3339"), "{refused}");
    }
    let before = Utc::now();
    let end = end_now();
    assert!(
        end <= Utc::now() && end > before - TimeDelta::minutes(1),
        "{end}"
    );
    assert_eq!(end.timestamp() % 60, 0);
    assert_eq!(end.timestamp_subsec_nanos(), 0);
}

#[test]
fn accounts_and_addresses_are_plausible() {
    let shop = shop();
    let admin = &shop.accounts[0];
    assert_eq!(
        (admin.email.as_str(), admin.role),
        (ADMIN_EMAIL, Role::Admin)
    );
    let staff = &shop.accounts[1];
    assert_eq!(
        (staff.email.as_str(), staff.role),
        (STAFF_EMAIL, Role::Staff)
    );
    assert_eq!(shop.accounts[2].email, "customer1@nexus.test");
    let mut emails = HashSet::new();
    for account in &shop.accounts {
        let email = Email::parse(&account.email);
        assert_eq!(
            email.as_ref().map(Email::as_str),
            Ok(account.email.as_str())
        );
        assert!(emails.insert(&account.email));
        assert!(account.full_name.contains(' '));
    }
    let accounts: HashSet<_> = shop.accounts.iter().map(|a| a.id).collect();
    let mut defaults = HashSet::new();
    let countries = ["DE", "FR", "NL", "AT", "BE", "IT", "ES"];
    for address in &shop.addresses {
        assert!(accounts.contains(&address.account_id));
        assert!(countries.contains(&address.postal.country.as_str()));
        assert!(address.postal.postal_code.len() >= 4 && !address.postal.city.is_empty());
        if address.is_default {
            assert!(defaults.insert(address.account_id), "two default addresses");
        }
    }
    let share = defaults.len() as f64 / CUSTOMER_COUNT as f64;
    assert!(
        (0.65..=0.75).contains(&share),
        "customers with an address: {share}"
    );
    assert!(
        shop.addresses.len() > defaults.len(),
        "nobody has a second address"
    );
}

#[test]
fn demo_passwords_verify_against_their_hashes() {
    // Admin and staff passwords contain their email's local part, which the sign-up policy
    // refuses; they are fixed demo credentials, hashed without the policy check.
    let email = Email::parse("customer1@nexus.test").map_err(|e| e.to_string());
    let checked = email.and_then(|email| NewPassword::parse(CUSTOMER_PASSWORD, &email).map(|_| ()));
    assert_eq!(checked, Ok(()));
    let hashes = hash_demo_passwords();
    assert!(verify_password(CUSTOMER_PASSWORD, &hashes.customer));
    assert!(verify_password(ADMIN_PASSWORD, &hashes.admin));
    assert!(verify_password(STAFF_PASSWORD, &hashes.staff));
    assert!(!verify_password(ADMIN_PASSWORD, &hashes.staff));
}

#[test]
fn the_outcome_reads_as_one_paragraph() {
    assert_eq!(
        DemoOutcome::AlreadyPresent.to_string(),
        "demo data already present; nothing loaded"
    );
    let shop = shop();
    let history = generate_history(&shop, DEFAULT_SEED, HistoryScope::FirstCustomers(50));
    let second = Duration::from_secs(1);
    let loaded = DemoOutcome::Loaded {
        seed: DEFAULT_SEED,
        counts: shop.counts(),
        ends_at: shop.ends_at,
        history: history.counts(),
        churn: history.churn_summary(),
        timings: LoadTimings {
            generation: second,
            postgres: second,
            events: second * 2,
            total: Duration::from_millis(4_200),
        },
    }
    .to_string();
    assert!(
        loaded.contains("in 4.2 s (generating 1.0 s, PostgreSQL 1.0 s, MongoDB events 2.0 s)")
            && loaded.contains("`--ends-at 2026-12-06T17:34:00Z` loads the same shop")
            && loaded.contains(&format!("{} orders", history.orders.len()))
            && !loaded.contains('\n'),
        "{loaded}"
    );
}

#[test]
fn history_is_deterministic_and_a_scope_is_a_prefix_of_the_whole() {
    let (shop, full) = generated();
    let scope = HistoryScope::FirstCustomers(300);
    let first = generate_history(shop, DEFAULT_SEED, scope);
    assert_eq!(first, generate_history(shop, DEFAULT_SEED, scope));
    assert_eq!(first.shoppers[..], full.shoppers[..300]);
    let theirs: HashSet<Uuid> = first.shoppers.iter().map(|s| s.account_id).collect();
    let full_orders: Vec<&Order> = full
        .orders
        .iter()
        .filter(|o| theirs.contains(&o.account_id))
        .collect();
    assert_eq!(first.orders.iter().collect::<Vec<_>>(), full_orders);
    let prefix = first.events.len();
    assert_eq!(first.events[..], full.events[..prefix]);

    let other_shop = generate(DEFAULT_SEED + 1, end());
    let other = generate_history(&other_shop, DEFAULT_SEED + 1, scope);
    assert_ne!(first.orders[0].id, other.orders[0].id);
}

#[test]
fn history_is_big_enough_to_learn_from() {
    let (_, history) = generated();
    let counts = history.counts();
    assert_eq!(history.shoppers.len(), CUSTOMER_COUNT);
    assert!(counts.orders >= 50_000, "{counts:?}");
    assert!(counts.events >= 200_000, "{counts:?}");
    assert!(counts.order_lines > counts.orders && counts.payments >= counts.orders);
    for kind in EventKind::ALL {
        assert!(
            history.events.iter().any(|e| e.kind == kind),
            "no {} events",
            kind.as_str()
        );
    }
}

#[test]
fn orders_sell_real_variants_and_their_totals_add_up() {
    let (shop, history) = generated();
    let checkout = Settings::defaults().checkout;
    let products: HashMap<Uuid, &Product> = shop.products.iter().map(|p| (p.id, p)).collect();
    let signed_up: HashMap<Uuid, DateTime<Utc>> =
        shop.accounts.iter().map(|a| (a.id, a.created_at)).collect();
    let mut shipped_free = 0;
    let mut express = 0;
    for order in &history.orders {
        assert!((1..=4).contains(&order.lines.len()), "{order:?}");
        let variants: HashSet<Uuid> = order.lines.iter().map(|l| l.variant_id).collect();
        assert_eq!(variants.len(), order.lines.len(), "a variant twice");
        for line in &order.lines {
            let product = products[&line.product_id];
            let variant = product.variants.iter().find(|v| v.id == line.variant_id);
            let variant = variant.expect("the line's variant belongs to its product");
            assert_eq!(line.unit_price_minor, variant.price_minor);
            assert_eq!(
                (line.sku.as_str(), line.product_name.as_str()),
                (variant.sku.as_str(), product.name.as_str())
            );
            assert!((1..=3).contains(&line.quantity));
            assert!(
                product.created_at <= order.placed_at,
                "sold before it existed"
            );
        }
        let rates = &checkout.countries[order.shipping_address.country.as_str()];
        assert_eq!(order.totals.tax_rate_basis_points, rates.tax_basis_points);
        assert!(
            order.totals.prices_include_tax,
            "the demo ships within the EU market, whose prices include tax"
        );
        let goods: i64 = order.lines.iter().map(OrderLine::line_total_minor).sum();
        let expected_shipping = match order.shipping_method {
            ShippingMethod::Express => rates.express_minor,
            ShippingMethod::Standard
                if goods >= checkout.markets[&rates.market].free_standard_shipping_from_minor =>
            {
                0
            }
            ShippingMethod::Standard => rates.standard_minor,
        };
        shipped_free += usize::from(expected_shipping == 0);
        express += usize::from(order.shipping_method == ShippingMethod::Express);
        let t = order.totals;
        assert_eq!(t.shipping_minor, expected_shipping);
        assert_eq!(t.subtotal_minor, goods);
        let rate = TaxRate {
            basis_points: rates.tax_basis_points,
            treatment: TaxTreatment::Included,
        };
        for line in &order.lines {
            let paid = line.line_total_minor() - line.code_discount_minor;
            assert_eq!(
                line.tax_minor,
                rate.tax_of(paid),
                "each line is taxed on its own"
            );
        }
        assert_eq!(order.shipping_tax_minor, rate.tax_of(t.shipping_minor));
        assert_eq!(
            t.tax_minor,
            order.lines.iter().map(|l| l.tax_minor).sum::<i64>() + order.shipping_tax_minor,
            "the order's tax is its lines' and shipping's"
        );
        assert_eq!(
            order
                .lines
                .iter()
                .map(|l| l.code_discount_minor)
                .sum::<i64>(),
            t.discount_minor
        );
        assert_eq!(
            t.total_minor,
            t.subtotal_minor - t.discount_minor + t.shipping_minor,
            "tax is in the prices"
        );
        assert!(order.placed_at >= signed_up[&order.account_id]);
        assert!(order.placed_at < history.ends_at && order.updated_at < history.ends_at);
        let shipped_to = &order.shipping_address;
        for (field, value) in [
            ("full_name", &shipped_to.full_name),
            ("line1", &shipped_to.line1),
            ("city", &shipped_to.city),
            ("postal_code", &shipped_to.postal_code),
        ] {
            assert!(!value.is_empty(), "{field}");
        }
    }
    let share = |n: usize| n as f64 / history.orders.len() as f64;
    assert!((0.05..=0.25).contains(&share(express)), "express {express}");
    assert!(
        (0.2..=0.9).contains(&share(shipped_free)),
        "free {shipped_free}"
    );
}

/// Statuses follow the status machine and the timestamps its moves leave behind.
#[test]
fn order_statuses_payments_and_timestamps_are_consistent() {
    let (_, history) = generated();
    let mut by_status: HashMap<OrderStatus, usize> = HashMap::new();
    for order in &history.orders {
        *by_status.entry(order.status).or_default() += 1;
        let total = order.totals.total_minor;
        let steps = [
            Some(order.placed_at),
            order.paid_at,
            order.fulfilled_at,
            order.shipped_at,
            order.delivered_at,
        ];
        let reached: Vec<DateTime<Utc>> = steps.iter().map_while(|s| *s).collect();
        assert!(reached.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert_eq!(
            steps.iter().flatten().count(),
            reached.len(),
            "a later step without an earlier one: {order:?}"
        );
        let charges: Vec<&Payment> = order
            .payments
            .iter()
            .filter(|p| p.kind == "charge")
            .collect();
        let refunds: Vec<&Payment> = order
            .payments
            .iter()
            .filter(|p| p.kind == "refund")
            .collect();
        assert_eq!(charges.len(), 1);
        assert_eq!(charges[0].amount_minor, total);
        assert_eq!(
            charges[0].created_at,
            order.paid_at.or(order.cancelled_at).unwrap_or_default()
        );
        let paid = charges[0].outcome == "succeeded";
        assert_eq!(paid, order.paid_at.is_some());
        if paid {
            assert_eq!(charges[0].card_last4, Some("4242"));
            assert_eq!(
                charges[0].provider_reference,
                Some(format!("sim_{}", order.id.simple()))
            );
        }
        assert_eq!(order.tracking_number.is_some(), order.shipped_at.is_some());
        assert_eq!(
            order.refunded_minor,
            refunds.iter().map(|r| r.amount_minor).sum::<i64>()
        );
        assert!(
            refunds
                .iter()
                .all(|r| r.outcome == "succeeded" && Some(r.created_at) >= order.paid_at)
        );
        let last_step = reached.last().copied().unwrap_or(order.placed_at);
        match order.status {
            OrderStatus::Cancelled => {
                let cancelled = order.cancelled_at.expect("cancelled_at");
                assert!(cancelled >= last_step && order.fulfilled_at.is_none());
                assert!(matches!(
                    order.cancel_reason,
                    Some("payment_declined" | "customer_request")
                ));
                // Money taken is given back.
                assert_eq!(order.refunded_minor, if paid { total } else { 0 });
            }
            OrderStatus::Refunded => {
                assert!(order.delivered_at.is_some() && order.cancelled_at.is_none());
                assert_eq!(order.refunded_minor, total);
                assert_eq!(refunds.len(), 1);
                assert!(refunds[0].created_at > last_step);
            }
            status => {
                let expected = [
                    OrderStatus::PendingPayment,
                    OrderStatus::Paid,
                    OrderStatus::Fulfilled,
                    OrderStatus::Shipped,
                    OrderStatus::Delivered,
                ][reached.len() - 1];
                assert_eq!(status, expected, "{order:?}");
                assert!(order.cancelled_at.is_none() && order.refunded_minor == 0);
                assert_ne!(status, OrderStatus::PendingPayment);
            }
        }
        assert_eq!(
            order.updated_at,
            order
                .payments
                .iter()
                .map(|p| p.created_at)
                .chain(reached.iter().copied())
                .chain(order.cancelled_at)
                .max()
                .unwrap_or_default()
        );
    }
    let share =
        |status| by_status.get(&status).copied().unwrap_or(0) as f64 / history.orders.len() as f64;
    assert!(share(OrderStatus::Delivered) > 0.85, "{by_status:?}");
    assert!(
        (0.02..=0.04).contains(&share(OrderStatus::Cancelled)),
        "{by_status:?}"
    );
    assert!(
        (0.01..=0.03).contains(&share(OrderStatus::Refunded)),
        "{by_status:?}"
    );
    for recent in [
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Shipped,
    ] {
        assert!(share(recent) > 0.0, "no {recent:?} orders: {by_status:?}");
    }
    // Only the last days' orders are still on their way, as of the end.
    let week_ago = history.ends_at - TimeDelta::days(7);
    assert!(history.orders.iter().all(|o| {
        !matches!(o.status, OrderStatus::Paid | OrderStatus::Fulfilled) || o.placed_at > week_ago
    }));
    let fortnight_ago = history.ends_at - TimeDelta::days(14);
    assert!(
        history
            .orders
            .iter()
            .all(|o| { o.status != OrderStatus::Shipped || o.placed_at > fortnight_ago })
    );
    let yesterday = history.ends_at - TimeDelta::days(1);
    let paid_lately = history
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid && o.placed_at > yesterday)
        .count();
    assert!(
        paid_lately > 0,
        "no order of the last day waits to be fulfilled"
    );
}

/// Every event would pass the events API's validation at the moment it occurred, names a
/// real product or variant, and belongs to its shopper's time in the shop.
#[test]
fn events_are_valid_and_point_at_the_catalog() {
    let (shop, history) = generated();
    let products: HashSet<String> = shop.products.iter().map(|p| p.id.to_string()).collect();
    let variants: HashSet<String> = shop
        .products
        .iter()
        .flat_map(|p| &p.variants)
        .map(|v| v.id.to_string())
        .collect();
    let shoppers: HashMap<Uuid, &Shopper> =
        history.shoppers.iter().map(|s| (s.account_id, s)).collect();
    let mut anonymous_ids: HashMap<&str, Uuid> = HashMap::new();
    let mut logged_out = 0;
    let mut checked = None;
    for (index, event) in history.events.iter().enumerate() {
        assert!(event.occurred_at < history.ends_at);
        match event.customer_id {
            Some(customer) => {
                let shopper = shoppers[&customer];
                assert!(event.occurred_at >= shopper.signed_up_at);
                let owner = anonymous_ids.entry(&event.anonymous_id).or_insert(customer);
                assert_eq!(*owner, customer, "one anonymous id per customer");
            }
            None => logged_out += 1,
        }
        let property = |name: &str| {
            event.properties[name]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default()
        };
        match event.kind {
            EventKind::ProductView => assert!(products.contains(&property("product_id"))),
            EventKind::AddToCart | EventKind::RemoveFromCart => {
                assert!(variants.contains(&property("variant_id")));
            }
            _ => {}
        }
        // The API's own validation, on a sample (serialising them all is slow in debug).
        if index % 25 == 0 {
            let raw = serde_json::json!({
                "type": event.kind.as_str(),
                "anonymous_id": event.anonymous_id,
                "occurred_at": event.occurred_at.to_rfc3339(),
                "properties": event.properties,
            });
            let valid = validate(&raw, event.customer_id, event.occurred_at);
            assert_eq!(valid.as_ref(), Ok(event), "{raw}");
            checked = Some(index);
        }
    }
    assert!(checked.is_some());
    let share = logged_out as f64 / history.events.len() as f64;
    assert!((0.02..=0.2).contains(&share), "logged out: {share}");
}

/// Each order comes after a session in which its lines were put in the cart and a checkout
/// was started.
#[test]
fn orders_follow_their_checkout_sessions() {
    let (_, history) = generated();
    let mut by_customer: HashMap<Uuid, Vec<&BehaviourEvent>> = HashMap::new();
    for event in &history.events {
        if let Some(customer) = event.customer_id {
            by_customer.entry(customer).or_default().push(event);
        }
    }
    for order in history.orders.iter().step_by(10) {
        let events = &by_customer[&order.account_id];
        let hour_before = order.placed_at - TimeDelta::hours(1);
        let before: Vec<&&BehaviourEvent> = events
            .iter()
            .filter(|e| e.occurred_at >= hour_before && e.occurred_at < order.placed_at)
            .collect();
        assert!(
            before.iter().any(|e| e.kind == EventKind::CheckoutStarted),
            "no checkout before order {}",
            order.id
        );
        for line in &order.lines {
            assert!(before.iter().any(|e| {
                e.kind == EventKind::AddToCart
                    && e.properties["variant_id"] == line.variant_id.to_string()
                    && e.properties["quantity"] == line.quantity
            }));
        }
    }
}

/// Logged-in events a week, per shopper, in the 8 weeks before their last order (its own
/// session excluded) and before that, over all shoppers who lapsed after at least 16 weeks
/// of orders.
#[test]
fn engagement_falls_before_a_shopper_lapses() {
    let (_, history) = generated();
    let mut last_order: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for order in &history.orders {
        last_order.insert(order.account_id, order.placed_at);
    }
    let mut events_of: HashMap<Uuid, Vec<DateTime<Utc>>> = HashMap::new();
    for event in &history.events {
        if let Some(customer) = event.customer_id {
            events_of
                .entry(customer)
                .or_default()
                .push(event.occurred_at);
        }
    }
    let eight_weeks = TimeDelta::weeks(8);
    let weeks = |span: TimeDelta| span.num_seconds() as f64 / (7.0 * 86_400.0);
    let (mut active_events, mut active_weeks) = (0usize, 0.0);
    let (mut closing_events, mut closing_weeks) = (0usize, 0.0);
    let (mut after_events, mut after_weeks) = (0usize, 0.0);
    let mut lapsed = 0;
    for shopper in &history.shoppers {
        let (Some(_), Some(&last)) = (shopper.lapses_at, last_order.get(&shopper.account_id))
        else {
            continue;
        };
        if last - shopper.signed_up_at < eight_weeks * 2 {
            continue;
        }
        lapsed += 1;
        let closing_from = last - eight_weeks;
        let last_session = last - TimeDelta::hours(1);
        let times = events_of
            .get(&shopper.account_id)
            .map_or(&[][..], Vec::as_slice);
        active_events += times.iter().filter(|t| **t < closing_from).count();
        active_weeks += weeks(closing_from - shopper.signed_up_at);
        closing_events += times
            .iter()
            .filter(|t| **t >= closing_from && **t < last_session)
            .count();
        closing_weeks += weeks(last_session - closing_from);
        after_events += times.iter().filter(|t| **t > last).count();
        after_weeks += weeks(history.ends_at - last);
    }
    assert!(lapsed > 500, "{lapsed} lapsed shoppers");
    let active = active_events as f64 / active_weeks;
    let closing = closing_events as f64 / closing_weeks;
    let after = after_events as f64 / after_weeks;
    println!("events a week: active {active:.2}, last 8 weeks {closing:.2}, after {after:.2}");
    assert!(
        closing < active * 0.8,
        "events a week: active {active:.2}, last 8 weeks {closing:.2}"
    );
    assert!(closing > active * 0.2, "the signal must not be trivial");
    assert!(
        after < closing * 0.2,
        "events a week after the last order: {after:.2}"
    );
}

#[test]
fn churn_is_sizeable_but_not_total() {
    let (_, history) = generated();
    let churn = history.churn_summary();
    assert!((0.4..=0.6).contains(&churn.lapsed_share), "{churn:?}");
    assert!(
        (0.3..=0.7).contains(&churn.quiet_90_days_share),
        "{churn:?}"
    );
    assert!(
        churn.quiet_180_days_share < churn.quiet_90_days_share,
        "{churn:?}"
    );
    assert!(
        (14.0..=60.0).contains(&churn.median_repeat_gap_days),
        "{churn:?}"
    );
    // Some lapse in the last months, so a recent cut-off has churners to label.
    let half_year_ago = history.ends_at - TimeDelta::days(182);
    let recent = history
        .shoppers
        .iter()
        .filter(|s| s.lapses_at.is_some_and(|at| at > half_year_ago))
        .count();
    assert!(
        recent * 20 >= history.shoppers.len(),
        "{recent} lapsed recently"
    );
    // Buyers differ: the usual gaps spread over months.
    let mut gaps: Vec<f64> = history
        .shoppers
        .iter()
        .filter_map(|s| s.usual_gap_days)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let (tenth, ninetieth) = (gaps[gaps.len() / 10], gaps[gaps.len() * 9 / 10]);
    assert!(
        ninetieth > tenth * 2.5,
        "gaps {tenth:.0}..{ninetieth:.0} days"
    );
}

/// The shop and history ending at midnight and those ending 36 days, 17 h 34 min later are
/// one and the same, moved: ids, customers, orders and events alike, each order on the same
/// day counted back from its end and at the same UTC hour. Only orders near the end may have
/// got less or further by it.
#[test]
fn another_end_moves_the_same_shop_in_time() {
    let midnight = instant("2026-11-01");
    let (early, late) = (generate(DEFAULT_SEED, midnight), shop());
    let moved = late.ends_at - midnight;
    assert_eq!(moved.num_minutes() % (24 * 60), 17 * 60 + 34);
    let mut shifted = early.clone();
    shifted.ends_at += moved;
    shifted
        .products
        .iter_mut()
        .for_each(|p| p.created_at += moved);
    shifted
        .accounts
        .iter_mut()
        .for_each(|a| a.created_at += moved);
    shifted
        .addresses
        .iter_mut()
        .for_each(|a| a.created_at += moved);
    assert_eq!(shifted, late);

    let scope = HistoryScope::FirstCustomers(800);
    let (before, after) = (
        generate_history(&early, DEFAULT_SEED, scope),
        generate_history(&late, DEFAULT_SEED, scope),
    );
    assert_eq!(before.shoppers.len(), after.shoppers.len());
    for (was, is) in before.shoppers.iter().zip(&after.shoppers) {
        assert_eq!(
            (was.account_id, was.usual_gap_days),
            (is.account_id, is.usual_gap_days)
        );
        assert_eq!(was.signed_up_at + moved, is.signed_up_at);
        assert_eq!(was.lapses_at.map(|at| at + moved), is.lapses_at);
    }
    assert_eq!(
        before.churn_summary().lapsed_share,
        after.churn_summary().lapsed_share
    );

    assert_eq!(before.counts().orders, after.counts().orders);
    assert_eq!(before.counts().order_lines, after.counts().order_lines);
    let later: HashMap<Uuid, &Order> = after.orders.iter().map(|o| (o.id, o)).collect();
    let (mut same_hour, mut settled) = (0, 0);
    for was in &before.orders {
        let is = later[&was.id];
        assert_eq!(
            (
                &was.lines,
                was.totals,
                was.shipping_method,
                &was.shipping_address
            ),
            (
                &is.lines,
                is.totals,
                is.shipping_method,
                &is.shipping_address
            )
        );
        assert_eq!(was.account_id, is.account_id);
        // The same day counted back from the end, give or take the hour's place in it.
        let drift = is.placed_at - (was.placed_at + moved);
        assert!(drift.abs() < TimeDelta::days(1), "{drift} for {}", was.id);
        let signed_up = early.accounts.iter().find(|a| a.id == was.account_id);
        let clamped = signed_up.is_some_and(|a| was.placed_at < a.created_at + TimeDelta::days(1))
            || was.placed_at > midnight - TimeDelta::days(1);
        if !clamped {
            assert_eq!(was.placed_at.time(), is.placed_at.time(), "{}", was.id);
            same_hour += 1;
        }
        // Long done by either end: the same life, moved with the order.
        if was.placed_at < midnight - TimeDelta::days(60) {
            assert_eq!(was.status, is.status);
            let payments = |o: &Order| -> Vec<(Uuid, &str, i64)> {
                o.payments
                    .iter()
                    .map(|p| (p.id, p.kind, p.amount_minor))
                    .collect()
            };
            assert_eq!(payments(was), payments(is));
            assert_eq!(is.updated_at - is.placed_at, was.updated_at - was.placed_at);
            settled += 1;
        }
    }
    assert!(
        same_hour * 10 > before.orders.len() * 9,
        "{same_hour} at the same hour"
    );
    assert!(settled * 10 > before.orders.len() * 8, "{settled} settled");

    assert_eq!(before.events.len(), after.events.len());
    let tally = |history: &History| {
        let mut tally: HashMap<(Option<Uuid>, EventKind), usize> = HashMap::new();
        for event in &history.events {
            *tally.entry((event.customer_id, event.kind)).or_default() += 1;
        }
        tally
    };
    assert_eq!(tally(&before), tally(&after));
    assert!(after.events.iter().all(|e| e.occurred_at < late.ends_at));
}
