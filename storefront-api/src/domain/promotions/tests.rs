use rand::{Rng, SeedableRng};
use storefront_client::staff::promotions::{
    PromotionDraft, PromotionRule, PromotionScope, QuantityTier, SpendTier,
};

use super::*;

fn promotion_discounts(priced: &PricedItems) -> Vec<i64> {
    priced.charges.iter().map(|c| c.promotion_minor).collect()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn promotion(id: u128, rule: PromotionRule, combines: bool) -> Promotion {
    Promotion {
        id: Uuid::from_u128(id),
        title: format!("promotion {id}"),
        rule,
        scope: PromotionScope::All,
        currency: eur(),
        combines,
        segment_id: None,
        budget_left_minor: None,
    }
}

fn item(product: u128, unit_price_minor: i64, quantity: i32) -> CartItem {
    CartItem {
        product_id: Uuid::from_u128(product),
        categories: vec![Uuid::from_u128(1000 + product % 3)],
        unit_price_minor,
        quantity,
    }
}

const THREE_FOR_TWO: PromotionRule = PromotionRule::BuyXGetY {
    buy: 2,
    get: 1,
    off_basis_points: 10_000,
};

fn germany(method: ShippingMethod) -> Delivery {
    Delivery {
        method,
        rates: CountryRates {
            tax: TaxRate {
                basis_points: 1900,
                treatment: TaxTreatment::Included,
            },
            standard_minor: 490,
            express_minor: 1290,
        },
        free_standard_from_minor: 5000,
    }
}

#[test]
fn three_for_two_gives_the_cheapest_unit_free_and_says_so() {
    let items = [item(1, 1000, 2), item(2, 600, 1)];
    let priced = price_items(&items, &[promotion(1, THREE_FOR_TWO, true)], None, None).unwrap();
    assert_eq!(promotion_discounts(&priced), [0, 600]);
    assert_eq!(priced.totals.discount_minor, 600);
    assert_eq!(priced.totals.total_minor, 2000);
    assert_eq!(priced.applied[0].reason, "3 items of the offer: 1 free");
    assert!(priced.hints.is_empty(), "{:?}", priced.hints);
}

#[test]
fn two_of_three_for_two_is_told_one_more_unit_is_free() {
    let items = [item(1, 1000, 2)];
    let priced = price_items(&items, &[promotion(1, THREE_FOR_TWO, true)], None, None).unwrap();
    assert!(priced.applied.is_empty());
    assert_eq!(
        priced.hints[0].missing,
        MissingForPromotion::Units { units: 1 }
    );
}

#[test]
fn the_highest_quantity_tier_reached_applies_to_every_unit_in_scope() {
    let tiers = PromotionRule::QuantityTiers {
        tiers: vec![
            QuantityTier {
                min_quantity: 3,
                off_basis_points: 500,
            },
            QuantityTier {
                min_quantity: 5,
                off_basis_points: 1000,
            },
        ],
    };
    let mut tiered = promotion(1, tiers, true);
    tiered.scope = PromotionScope::Products {
        product_ids: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
    };
    let items = [item(1, 1999, 3), item(2, 505, 2), item(3, 10_000, 1)];
    let priced = price_items(&items, &[tiered], None, None).unwrap();
    // 10 % of 59.97 is 5.997 → 6.00; of 10.10 is 1.01; the third product is not in scope.
    assert_eq!(promotion_discounts(&priced), [600, 101, 0]);
    assert_eq!(
        priced.applied[0].reason,
        "5 items of the offer: 10 % off each"
    );
}

#[test]
fn a_spend_tier_is_spread_over_the_lines_in_scope_to_the_cent() {
    let tiers = PromotionRule::SpendTiers {
        tiers: vec![
            SpendTier {
                min_spend_minor: 5000,
                off_basis_points: None,
                off_minor: Some(1000),
            },
            SpendTier {
                min_spend_minor: 10_000,
                off_basis_points: Some(1500),
                off_minor: None,
            },
        ],
    };
    let items = [item(1, 2999, 1), item(2, 3000, 1), item(3, 3001, 1)];
    let priced = price_items(&items, &[promotion(1, tiers.clone(), true)], None, None).unwrap();
    assert_eq!(promotion_discounts(&priced), [333, 333, 334]);
    assert_eq!(
        priced.hints[0].missing,
        MissingForPromotion::Spend { amount_minor: 1000 },
        "tiers measure the goods before the spend discount itself"
    );
    let more = [item(1, 5000, 2)];
    let priced = price_items(&more, &[promotion(1, tiers, true)], None, None).unwrap();
    assert_eq!(priced.totals.discount_minor, 1500);
    assert_eq!(priced.applied[0].reason, "15 % off from 100.00 EUR spent");
}

#[test]
fn a_promotion_that_does_not_combine_stands_alone_and_the_better_choice_wins() {
    let ten_off_all = PromotionRule::QuantityTiers {
        tiers: vec![QuantityTier {
            min_quantity: 1,
            off_basis_points: 1000,
        }],
    };
    let quarter_alone = PromotionRule::QuantityTiers {
        tiers: vec![QuantityTier {
            min_quantity: 4,
            off_basis_points: 2500,
        }],
    };
    let running = [
        promotion(1, THREE_FOR_TWO, true),
        promotion(2, ten_off_all, true),
        promotion(3, quarter_alone, false),
    ];
    // Three units: 3 for 2 and 10 % combine (10.00 + 2.00 off 30.00) and beat nothing else.
    let three = [item(1, 1000, 3)];
    let priced = price_items(&three, &running, None, None).unwrap();
    assert_eq!(priced.totals.discount_minor, 1000 + 300);
    assert_eq!(priced.applied.len(), 2);
    // Four units: 25 % off 40.00 (10.00) alone is less than 10.00 + 4.00 together.
    let four = [item(1, 1000, 4)];
    let priced = price_items(&four, &running, None, None).unwrap();
    assert_eq!(priced.totals.discount_minor, 1400);
    let lost = priced
        .hints
        .iter()
        .find(|hint| hint.promotion_id == Uuid::from_u128(3))
        .unwrap();
    assert!(matches!(
        lost.missing,
        MissingForPromotion::BetterOffer { .. }
    ));
    // With one dear unit and three cheap ones, 25 % of everything beats a cheap unit free
    // and 10 %.
    let mixed = [item(1, 10_000, 1), item(2, 100, 3)];
    let priced = price_items(&mixed, &running, None, None).unwrap();
    assert_eq!(priced.applied.len(), 1);
    assert_eq!(priced.applied[0].promotion_id, Uuid::from_u128(3));
    assert_eq!(priced.totals.discount_minor, 2575);
}

#[test]
fn free_shipping_takes_the_shipping_off_for_the_methods_it_covers() {
    let free = promotion(
        1,
        PromotionRule::FreeShipping {
            min_spend_minor: 3000,
            include_express: false,
        },
        true,
    );
    let items = [item(1, 3500, 1)];
    let standard = price_items(
        &items,
        std::slice::from_ref(&free),
        None,
        Some(germany(ShippingMethod::Standard)),
    )
    .unwrap();
    assert_eq!(standard.totals.shipping_minor, 0);
    assert_eq!(standard.applied[0].shipping_discount_minor, 490);
    assert_eq!(
        standard.totals.total_minor, 3500,
        "German prices include VAT"
    );
    assert_eq!(standard.totals.tax_minor, 559); // 35.00 − 35.00 / 1.19 = 5.588…
    let express = price_items(
        &items,
        std::slice::from_ref(&free),
        None,
        Some(germany(ShippingMethod::Express)),
    )
    .unwrap();
    assert_eq!(express.totals.shipping_minor, 1290);
    assert!(express.applied.is_empty());
    let short = price_items(
        &[item(1, 2000, 1)],
        &[free],
        None,
        Some(germany(ShippingMethod::Standard)),
    )
    .unwrap();
    assert_eq!(
        short.hints[0].missing,
        MissingForPromotion::Spend { amount_minor: 1000 }
    );
}

#[test]
fn a_line_offer_that_would_cost_a_spend_tier_is_left_out() {
    // 3 × 10.00: "buy 2 get 1 at 10 %" (1.00) would take the goods below "15.00 off from
    // 30.00"; the shopper is better off with the spend tier alone.
    let line = promotion(
        1,
        PromotionRule::BuyXGetY {
            buy: 2,
            get: 1,
            off_basis_points: 1000,
        },
        true,
    );
    let spend = promotion(
        2,
        PromotionRule::SpendTiers {
            tiers: vec![SpendTier {
                min_spend_minor: 3000,
                off_basis_points: None,
                off_minor: Some(1500),
            }],
        },
        true,
    );
    let priced = price_items(&[item(1, 1000, 3)], &[line, spend], None, None).unwrap();
    assert_eq!(priced.totals.total_minor, 1500);
    assert_eq!(priced.applied.len(), 1);
    assert_eq!(priced.applied[0].promotion_id, Uuid::from_u128(2));
}

#[test]
fn a_promotion_is_left_out_when_its_budget_cannot_cover_the_cart() {
    let mut five_off = promotion(
        1,
        PromotionRule::SpendTiers {
            tiers: vec![SpendTier {
                min_spend_minor: 0,
                off_basis_points: None,
                off_minor: Some(500),
            }],
        },
        true,
    );
    five_off.budget_left_minor = Some(300);
    let priced = price_items(&[item(1, 2000, 1)], &[five_off.clone()], None, None).unwrap();
    assert!(priced.applied.is_empty());
    five_off.budget_left_minor = Some(500);
    let priced = price_items(&[item(1, 2000, 1)], &[five_off], None, None).unwrap();
    assert_eq!(priced.totals.discount_minor, 500);
}

#[test]
fn a_combining_offer_short_of_its_threshold_is_told_what_it_lacks() {
    // 3 × 10.00 with 3 for 2: 20.00 spent after it, so "5.00 off from 30.00" wants 10.00 more
    // — not "it does not combine".
    let spend = promotion(
        2,
        PromotionRule::SpendTiers {
            tiers: vec![SpendTier {
                min_spend_minor: 3000,
                off_basis_points: None,
                off_minor: Some(500),
            }],
        },
        true,
    );
    let priced = price_items(
        &[item(1, 1000, 3)],
        &[promotion(1, THREE_FOR_TWO, true), spend],
        None,
        None,
    )
    .unwrap();
    let hint = priced
        .hints
        .iter()
        .find(|hint| hint.promotion_id == Uuid::from_u128(2))
        .expect("a hint");
    assert_eq!(
        hint.missing,
        MissingForPromotion::Spend { amount_minor: 1000 }
    );
}

#[test]
fn a_category_scope_covers_its_subcategories() {
    let mut socks = promotion(1, THREE_FOR_TWO, true);
    let parent = Uuid::from_u128(77);
    socks.scope = PromotionScope::Categories {
        category_ids: vec![parent],
    };
    let mut in_child = item(1, 500, 3);
    in_child.categories = vec![Uuid::from_u128(78), parent];
    let outside = item(2, 100, 3);
    let priced = price_items(&[in_child, outside], &[socks], None, None).unwrap();
    assert_eq!(promotion_discounts(&priced), [500, 0]);
}

#[test]
fn promotions_are_never_worse_than_none() {
    // 5 % off takes 51.00 of goods below the free-shipping threshold: 48.45 + 4.90 is more
    // than 51.00 + 0, so the shopper gets no promotion.
    let five = promotion(
        1,
        PromotionRule::QuantityTiers {
            tiers: vec![QuantityTier {
                min_quantity: 1,
                off_basis_points: 500,
            }],
        },
        true,
    );
    let priced = price_items(
        &[item(1, 5100, 1)],
        &[five],
        None,
        Some(germany(ShippingMethod::Standard)),
    )
    .unwrap();
    assert_eq!(priced.totals.discount_minor, 0);
    assert_eq!(priced.totals.shipping_minor, 0);
}

#[test]
fn a_draft_with_every_rule_broken_names_every_field() {
    let draft = PromotionDraft {
        title: " ".into(),
        rule: PromotionRule::SpendTiers {
            tiers: vec![
                SpendTier {
                    min_spend_minor: 5000,
                    off_basis_points: Some(0),
                    off_minor: None,
                },
                SpendTier {
                    min_spend_minor: 5000,
                    off_basis_points: None,
                    off_minor: None,
                },
            ],
        },
        scope: PromotionScope::Products {
            product_ids: vec![],
        },
        currency: "euro".into(),
        starts_at: None,
        ends_at: None,
        combines: false,
        budget_uses: Some(0),
        budget_minor: None,
        segment_id: None,
    };
    let fields: Vec<String> = parse_new_promotion(&draft)
        .unwrap_err()
        .into_iter()
        .map(|error| error.field)
        .collect();
    assert_eq!(
        fields,
        [
            "title",
            "currency",
            "rule.tiers[0].off_basis_points",
            "rule.tiers[1].min_spend_minor",
            "rule.tiers[1].off_basis_points",
            "scope.product_ids",
            "budget_uses"
        ]
    );
}

#[test]
fn allocation_adds_up_and_follows_the_weights() {
    assert_eq!(allocate(10, &[1, 1, 1]), [4, 3, 3]);
    assert_eq!(allocate(0, &[5, 5]), [0, 0]);
    assert_eq!(allocate(7, &[0, 3, 0]), [0, 7, 0]);
    assert_eq!(allocate(5, &[0, 0]), [0, 0]);
}

fn random_rule(rng: &mut impl Rng) -> PromotionRule {
    match rng.random_range(0..4) {
        0 => PromotionRule::BuyXGetY {
            buy: rng.random_range(1..4),
            get: rng.random_range(1..3),
            off_basis_points: rng.random_range(1..=10_000),
        },
        1 => PromotionRule::QuantityTiers {
            tiers: vec![
                QuantityTier {
                    min_quantity: rng.random_range(1..4),
                    off_basis_points: rng.random_range(1..5000),
                },
                QuantityTier {
                    min_quantity: rng.random_range(4..8),
                    off_basis_points: rng.random_range(1..=10_000),
                },
            ],
        },
        2 => PromotionRule::SpendTiers {
            tiers: vec![SpendTier {
                min_spend_minor: rng.random_range(0..20_000),
                off_basis_points: rng.random_bool(0.5).then(|| rng.random_range(1..=10_000)),
                off_minor: None,
            }]
            .into_iter()
            .map(|tier| SpendTier {
                off_minor: tier
                    .off_basis_points
                    .is_none()
                    .then(|| rng.random_range(1..30_000)),
                ..tier
            })
            .collect(),
        },
        _ => PromotionRule::FreeShipping {
            min_spend_minor: rng.random_range(0..20_000),
            include_express: rng.random_bool(0.5),
        },
    }
}

/// 10,000 random carts under random promotions, codes, deliveries and tax (included or
/// added, at rates from 0 to 25 %): the lines' discounts are what the promotions say they
/// gave, no line goes below zero, each line's tax is its own amount's, the lines' and
/// shipping's tax make the total's, the totals add up to the cent, and the shopper never
/// pays more than with no promotion at all.
#[test]
fn random_carts_add_up_to_the_cent_and_never_cost_more_than_without_promotions() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    for cart in 0..10_000 {
        let items: Vec<CartItem> = (0..rng.random_range(1..6))
            .map(|n| item(n, rng.random_range(1..20_000), rng.random_range(1..6)))
            .collect();
        let running: Vec<Promotion> = (0..rng.random_range(0..5))
            .map(|n| {
                let mut promotion = promotion(n, random_rule(&mut rng), rng.random_bool(0.6));
                if rng.random_bool(0.3) {
                    promotion.scope = PromotionScope::Categories {
                        category_ids: vec![Uuid::from_u128(1000 + rng.random_range(0..3))],
                    };
                }
                promotion
            })
            .collect();
        let code = rng.random_bool(0.3).then(|| Discount {
            value: if rng.random_bool(0.5) {
                DiscountValue::Percent {
                    basis_points: rng.random_range(1..=10_000),
                }
            } else {
                DiscountValue::Fixed {
                    amount_minor: rng.random_range(1..20_000),
                }
            },
            min_subtotal_minor: 0,
        });
        let tax = TaxRate {
            basis_points: [0, 700, 825, 1900, 2000, 2100, 2500][rng.random_range(0..7)],
            treatment: if rng.random_bool(0.5) {
                TaxTreatment::Included
            } else {
                TaxTreatment::Added
            },
        };
        let delivery = rng.random_bool(0.7).then(|| {
            let mut delivery = germany(if rng.random_bool(0.5) {
                ShippingMethod::Standard
            } else {
                ShippingMethod::Express
            });
            delivery.rates.tax = tax;
            delivery
        });
        let tax = delivery.map_or(TaxRate::NONE, |delivery| delivery.rates.tax);
        let priced = price_items(&items, &running, code, delivery).unwrap();
        let without = price_items(&items, &[], code, delivery).unwrap();
        let totals = priced.totals;
        let mut lines_tax = 0;
        for (item, charge) in items.iter().zip(&priced.charges) {
            let off = charge.promotion_minor + charge.code_minor;
            assert!(
                charge.promotion_minor >= 0 && charge.code_minor >= 0,
                "cart {cart}"
            );
            assert!(off <= item.total(), "cart {cart}: a line below zero");
            assert_eq!(
                charge.tax_minor,
                tax.tax_of(item.total() - off),
                "cart {cart}: each line is taxed on what it costs after its discounts"
            );
            lines_tax += charge.tax_minor;
        }
        assert_eq!(
            priced.charges.iter().map(|c| c.code_minor).sum::<i64>(),
            totals.discount_minor - priced.promotion_goods_minor(),
            "cart {cart}: the code's shares add up to what it took off"
        );
        assert_eq!(
            lines_tax + priced.shipping_tax_minor,
            totals.tax_minor,
            "cart {cart}: the tax is the lines' and shipping's, to the cent"
        );
        assert_eq!(
            priced.shipping_tax_minor,
            tax.tax_of(totals.shipping_minor),
            "cart {cart}"
        );
        assert_eq!(
            totals.prices_include_tax,
            tax.treatment == TaxTreatment::Included,
            "cart {cart}"
        );
        let given: i64 = priced.applied.iter().map(|a| a.discount_minor).sum();
        assert_eq!(given, priced.promotion_goods_minor(), "cart {cart}");
        assert!(
            totals.discount_minor <= totals.subtotal_minor,
            "cart {cart}"
        );
        let added = if totals.prices_include_tax {
            0
        } else {
            totals.tax_minor
        };
        assert_eq!(
            totals.total_minor,
            totals.subtotal_minor - totals.discount_minor + totals.shipping_minor + added,
            "cart {cart}"
        );
        // Rounding per line differs from rounding the whole by at most half a cent a line.
        let whole =
            tax.tax_of(totals.subtotal_minor - totals.discount_minor + totals.shipping_minor);
        assert!(
            (totals.tax_minor - whole).abs() <= items.len() as i64,
            "cart {cart}: {} by line, {whole} on the whole",
            totals.tax_minor
        );
        assert!(totals.tax_minor <= totals.total_minor, "cart {cart}");
        assert!(totals.total_minor >= 0, "cart {cart}");
        assert!(
            totals.total_minor <= without.totals.total_minor,
            "cart {cart}: {} with promotions, {} without",
            totals.total_minor,
            without.totals.total_minor
        );
    }
}

/// Amounts beyond what the shop can represent are an error, not a wrapped total.
#[test]
fn overflow_is_an_error_not_a_wrap() {
    let huge = [item(1, i64::MAX / 2, 3)];
    assert_eq!(
        price_items(&huge, &[], None, None).err(),
        Some(PricingError::Overflow),
        "the goods alone"
    );
    // Goods that fit, with a 100 % tax added on top, do not.
    let mut added = germany(ShippingMethod::Standard);
    added.rates.tax = TaxRate {
        basis_points: 10_000,
        treatment: TaxTreatment::Added,
    };
    let nearly = [item(1, i64::MAX - 10, 1)];
    assert_eq!(
        price_items(&nearly, &[], None, Some(added)).err(),
        Some(PricingError::Overflow),
        "the tax on top"
    );
}
