//! The staff dashboard's sales, orders and stock figures, from PostgreSQL. Its churn risk
//! bands are counted by each scoring run as it ends (`scoring_runs::latest_bands`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use storefront_client::staff::dashboard::{DailySales, LowStock, Sales};

use super::{StoreError, money};

/// Paid orders (not cancelled) with `paid_at` in `[from, to)`, per currency; revenue net of
/// refunds.
pub async fn sales(
    db: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Sales>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT currency AS "currency!", COUNT(*) AS "orders!",
                  COALESCE(SUM(total_minor - refunded_minor), 0)::bigint AS "revenue!"
             FROM orders
            WHERE paid_at >= $1 AND paid_at < $2 AND status <> 'cancelled'
            GROUP BY currency ORDER BY currency"#,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Sales {
            orders: r.orders,
            revenue: money(r.revenue, &r.currency),
        })
        .collect())
}

/// The same figures per UTC day, oldest first.
pub async fn daily_sales(
    db: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DailySales>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT (paid_at AT TIME ZONE 'UTC')::date AS "day!: NaiveDate",
                  currency AS "currency!", COUNT(*) AS "orders!",
                  COALESCE(SUM(total_minor - refunded_minor), 0)::bigint AS "revenue!"
             FROM orders
            WHERE paid_at >= $1 AND paid_at < $2 AND status <> 'cancelled'
            GROUP BY 1, 2 ORDER BY 1, 2"#,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DailySales {
            day: r.day,
            orders: r.orders,
            revenue: money(r.revenue, &r.currency),
        })
        .collect())
}

/// Paid orders waiting to be fulfilled.
pub async fn awaiting_fulfilment(db: &PgPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!" FROM orders WHERE status = 'paid'"#)
            .fetch_one(db)
            .await?,
    )
}

/// Variants on sale with at most `threshold` units, fewest first.
pub async fn low_stock(
    db: &PgPool,
    threshold: i32,
    limit: i64,
) -> Result<Vec<LowStock>, StoreError> {
    Ok(sqlx::query_as!(
        LowStock,
        r#"SELECT v.id AS variant_id, p.id AS product_id, p.name AS product_name,
                  v.title AS variant_title, v.sku, v.stock_on_hand
             FROM variants v JOIN products p ON p.id = v.product_id
            WHERE v.status = 'active' AND p.status = 'active' AND v.stock_on_hand <= $1
            ORDER BY v.stock_on_hand, p.name, v.position
            LIMIT $2"#,
        threshold,
        limit
    )
    .fetch_all(db)
    .await?)
}
