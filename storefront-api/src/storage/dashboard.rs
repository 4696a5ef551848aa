//! The staff dashboard's figures: sales from PostgreSQL, churn risk bands from the latest
//! score-all job's scores in MongoDB.

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use sqlx::PgPool;
use storefront_client::staff::dashboard::{DailySales, LowStock, RiskBands, Sales};

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

/// Customers per risk band in the latest complete score-all job. A job's scores replace the
/// earlier job's only once it has stored them all, so while a job runs there are two jobs'
/// scores and the earlier one is the complete one.
pub async fn risk_bands(db: &mongodb::Database) -> Result<Option<RiskBands>, StoreError> {
    let groups: Vec<Document> = db
        .collection::<Document>(super::churn::SCORES)
        .aggregate([doc! { "$group": {
            "_id": { "job": "$job_id", "band": "$band" },
            "n": { "$sum": 1 },
            "scored_at": { "$max": "$scored_at" },
            "model_version": { "$first": "$model_version" },
        }}])
        .await?
        .try_collect()
        .await?;
    let mut jobs: Vec<(String, RiskBands)> = Vec::new();
    for group in &groups {
        let Ok(id) = group.get_document("_id") else {
            continue;
        };
        let (Ok(job), Ok(band)) = (id.get_str("job"), id.get_str("band")) else {
            continue;
        };
        let n = group
            .get_i32("n")
            .map(i64::from)
            .or_else(|_| group.get_i64("n"))
            .unwrap_or(0)
            .max(0) as u64;
        let scored_at = group
            .get_datetime("scored_at")
            .ok()
            .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()))
            .unwrap_or_default();
        let index = match jobs.iter().position(|(j, _)| j == job) {
            Some(index) => index,
            None => {
                jobs.push((
                    job.to_owned(),
                    RiskBands {
                        model_version: group.get_str("model_version").unwrap_or("").to_owned(),
                        scored_at,
                        low: 0,
                        medium: 0,
                        high: 0,
                    },
                ));
                jobs.len() - 1
            }
        };
        let bands = &mut jobs[index].1;
        bands.scored_at = bands.scored_at.max(scored_at);
        match band {
            "low" => bands.low += n,
            "medium" => bands.medium += n,
            "high" => bands.high += n,
            _ => {}
        }
    }
    Ok(jobs
        .into_iter()
        .map(|(_, bands)| bands)
        .min_by_key(|bands| bands.scored_at))
}
