//! The demo's running promotions, so a new user sees offers applied and within reach on the
//! shop's cart at once: 3 for 2 on T-shirts and tops, quantity tiers in Beauty, free express
//! shipping from 150 €, and a "spend 100, save 10" with a budget that stands alone. They
//! started a week before the history ends and run for a month after it.

use chrono::Duration;
use sqlx::PgConnection;
use storefront_client::staff::promotions::{
    PromotionRule, PromotionScope, QuantityTier, SpendTier,
};
use uuid::Uuid;

use super::{CURRENCY, DemoShop};

/// One demo promotion.
pub(super) struct DemoPromotion {
    pub id: Uuid,
    pub title: &'static str,
    pub rule: PromotionRule,
    pub scope: PromotionScope,
    pub combines: bool,
    pub budget_uses: Option<i32>,
}

/// The promotions, with ids drawn from their categories' (the same shop, the same ids).
pub(super) fn promotions_of(shop: &DemoShop) -> Vec<DemoPromotion> {
    let category = |name: &str| {
        shop.categories
            .iter()
            .find(|category| category.name == name)
            .map(|category| category.id)
    };
    let id = |n: u128| Uuid::from_u128(shop.categories[0].id.as_u128() ^ (0x9e37_79b9 + n));
    let mut promotions = Vec::new();
    if let Some(tops) = category("T-Shirts & Tops") {
        promotions.push(DemoPromotion {
            id: id(1),
            title: "3 for 2 on T-shirts & tops",
            rule: PromotionRule::BuyXGetY {
                buy: 2,
                get: 1,
                off_basis_points: 10_000,
            },
            scope: PromotionScope::Categories {
                category_ids: vec![tops],
            },
            combines: true,
            budget_uses: None,
        });
    }
    if let Some(beauty) = category("Beauty") {
        promotions.push(DemoPromotion {
            id: id(2),
            title: "Beauty: 10 % off 3 or more, 15 % off 5 or more",
            rule: PromotionRule::QuantityTiers {
                tiers: vec![
                    QuantityTier {
                        min_quantity: 3,
                        off_basis_points: 1000,
                    },
                    QuantityTier {
                        min_quantity: 5,
                        off_basis_points: 1500,
                    },
                ],
            },
            scope: PromotionScope::Categories {
                category_ids: vec![beauty],
            },
            combines: true,
            budget_uses: None,
        });
    }
    promotions.push(DemoPromotion {
        id: id(3),
        title: "Free express shipping from 150 €",
        rule: PromotionRule::FreeShipping {
            min_spend_minor: 15_000,
            include_express: true,
        },
        scope: PromotionScope::All,
        combines: true,
        budget_uses: None,
    });
    promotions.push(DemoPromotion {
        id: id(4),
        title: "Spend 100 €, save 10 € (first 500 orders)",
        rule: PromotionRule::SpendTiers {
            tiers: vec![SpendTier {
                min_spend_minor: 10_000,
                off_basis_points: None,
                off_minor: Some(1000),
            }],
        },
        scope: PromotionScope::All,
        combines: false,
        budget_uses: Some(500),
    });
    promotions
}

pub(super) async fn insert_promotions(
    conn: &mut PgConnection,
    shop: &DemoShop,
) -> Result<(), sqlx::Error> {
    for promotion in promotions_of(shop) {
        sqlx::query(
            "INSERT INTO promotions (id, title, rule, scope, currency, starts_at, ends_at,
                                     combines, budget_uses)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(promotion.id)
        .bind(promotion.title)
        .bind(serde_json::to_value(&promotion.rule).expect("rules serialise"))
        .bind(serde_json::to_value(&promotion.scope).expect("scopes serialise"))
        .bind(CURRENCY)
        .bind(shop.ends_at - Duration::days(7))
        .bind(shop.ends_at + Duration::days(30))
        .bind(promotion.combines)
        .bind(promotion.budget_uses)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
