//! Generation is checked without a database: determinism, volume, and the invariants the
//! schema and the storage layer would otherwise only reject at load time.

use std::collections::HashSet;

use super::*;
use crate::domain::{
    account::{Email, NewPassword, verify_password},
    catalog::{check_compare_at, parse_sku, parse_slug},
    money::Currency,
};

fn shop() -> DemoShop {
    generate(DEFAULT_SEED)
}

fn variants(shop: &DemoShop) -> impl Iterator<Item = &Variant> {
    shop.products.iter().flat_map(|p| &p.variants)
}

#[test]
fn the_same_seed_gives_the_same_shop_and_another_seed_another() {
    let first = shop();
    assert_eq!(first, shop());
    let other = generate(DEFAULT_SEED + 1);
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
            parse_slug(&product.slug).as_deref(),
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
        assert!(parse_slug(&category.slug).is_ok(), "{}", category.slug);
        assert!(category_slugs.insert(&category.slug));
    }
    let mut skus = HashSet::new();
    for variant in variants(&shop) {
        assert_eq!(parse_sku(&variant.sku).as_deref(), Ok(variant.sku.as_str()));
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
fn timestamps_lie_in_the_two_years_before_the_base_date() {
    let shop = shop();
    let base = base_date();
    assert_eq!(base.to_rfc3339(), "2026-11-01T00:00:00+00:00");
    let in_history = |t: DateTime<Utc>| t <= base && t >= base - HISTORY;
    assert!(shop.products.iter().all(|p| in_history(p.created_at)));
    assert!(shop.accounts.iter().all(|a| in_history(a.created_at)));
    assert!(shop.addresses.iter().all(|a| in_history(a.created_at)));
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
        assert!(countries.contains(&address.country.as_str()));
        assert!(address.postal_code.len() >= 4 && !address.city.is_empty());
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
    let loaded = DemoOutcome::Loaded {
        seed: DEFAULT_SEED,
        counts: shop().counts(),
        elapsed: Duration::from_millis(4_200),
    }
    .to_string();
    assert!(
        loaded.contains("in 4.2 s") && !loaded.contains('\n'),
        "{loaded}"
    );
}
