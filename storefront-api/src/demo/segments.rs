//! The demo's customer segments, so the console and the API show some at once: two dynamic
//! segments (the churn engine's "high risk, high value" — members once a scoring run has
//! finished — and loyal customers by their order history) and a static "VIP" group of the
//! first ten customers.

use sqlx::PgConnection;
use storefront_client::staff::segments::SegmentRule;
use uuid::Uuid;

use super::DemoShop;
use crate::domain::account::Role;

/// Customers in the demo's VIP group.
const VIP_COUNT: usize = 10;

pub(super) async fn insert_segments(
    conn: &mut PgConnection,
    shop: &DemoShop,
) -> Result<(), sqlx::Error> {
    let id = |n: u128| Uuid::from_u128(shop.categories[0].id.as_u128() ^ (0x5e6_0000 + n));
    let dynamic = [
        (
            id(1),
            "High risk, high value",
            SegmentRule {
                risk_bands: vec!["high".into()],
                min_predicted_value_minor: Some(20_000),
                ..SegmentRule::default()
            },
        ),
        (
            id(2),
            "Loyal: 5 orders or more",
            SegmentRule {
                min_orders: Some(5),
                ..SegmentRule::default()
            },
        ),
    ];
    for (id, name, rule) in dynamic {
        sqlx::query(
            "INSERT INTO customer_segments (id, name, kind, rule) VALUES ($1, $2, 'dynamic', $3)",
        )
        .bind(id)
        .bind(name)
        .bind(serde_json::to_value(rule).expect("rules serialise"))
        .execute(&mut *conn)
        .await?;
    }
    let vip = id(3);
    sqlx::query("INSERT INTO customer_segments (id, name, kind) VALUES ($1, 'VIP', 'static')")
        .bind(vip)
        .execute(&mut *conn)
        .await?;
    let members: Vec<Uuid> = shop
        .accounts
        .iter()
        .filter(|account| account.role == Role::Customer)
        .take(VIP_COUNT)
        .map(|account| account.id)
        .collect();
    sqlx::query(
        "INSERT INTO customer_segment_members (segment_id, account_id)
         SELECT $1, id FROM unnest($2::uuid[]) AS id",
    )
    .bind(vip)
    .bind(members)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
