//! The one definition of churn features and of the churn label.
//!
//! Training, batch scoring and the API's single-customer scoring all call
//! [`customer_features`]; nothing else computes a feature. Every feature is a function of one
//! customer's own rows before the cut-off, never of other customers, so scoring a customer alone
//! gives exactly what scoring the whole shop gives (see the parity test in `tests/`).
//!
//! Time is counted in whole days ([`crate::transactions::day_number`]): "before the cut-off"
//! means on an earlier calendar day.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::transactions::day_number;

/// Bump whenever a feature's meaning changes: the API refuses artifacts built on another
/// version, because their features would be computed differently at scoring time.
pub const FEATURE_DEFINITION_VERSION: u32 = 1;

/// Features every dataset has (transactions alone).
pub const BASE_FEATURES: &[&str] = &[
    "recency_days",
    "frequency",
    "purchase_days",
    "monetary_total",
    "monetary_mean",
    "monetary_max",
    "items_per_order",
    "tenure_days",
    "interval_mean_days",
    "interval_std_days",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "trend_90d",
    "recency_ratio",
    "refunds",
    "refund_share",
    "cancellations",
];

/// Features that need behaviour events (sessions, views, carts, checkouts).
pub const ENGAGEMENT_FEATURES: &[&str] = &[
    "sessions_90d",
    "product_views_90d",
    "cart_adds_90d",
    "checkouts_started_90d",
    "abandoned_checkouts_90d",
    "days_since_last_visit",
];

/// The features a model sees, in order: the base set, plus engagement when events exist.
pub fn feature_names(with_events: bool) -> Vec<String> {
    let mut names: Vec<String> = BASE_FEATURES.iter().map(|s| s.to_string()).collect();
    if with_events {
        names.extend(ENGAGEMENT_FEATURES.iter().map(|s| s.to_string()));
    }
    names
}

/// Marks a feature that has no value for this customer (e.g. the purchase interval of a
/// one-time buyer). Tree models split it off; the linear model sees it through a sign-keeping
/// log transform.
pub const MISSING: f64 = -1.0;

fn purchase() -> Expr {
    col("kind").eq(lit("purchase"))
}

/// One row per customer with at least one purchase before `as_of`: `customer_id` and every
/// feature of [`feature_names`] as `f64`, sorted by customer id. Only rows dated before
/// `as_of` are read.
pub fn customer_features(
    transactions: LazyFrame,
    events: Option<LazyFrame>,
    as_of: NaiveDate,
) -> LazyFrame {
    let t = day_number(as_of);
    let day = || col("day");
    let since = |days: i32| day().gt_eq(lit(t - days));
    let count_where = |cond: Expr, name: &str| cond.cast(DataType::Float64).sum().alias(name);
    let before = transactions.filter(day().lt(lit(t)));

    let history = before
        .clone()
        .group_by([col("customer_id")])
        .agg([
            count_where(purchase(), "frequency"),
            day().filter(purchase()).max().alias("last_day"),
            day().filter(purchase()).min().alias("first_day"),
            day().filter(purchase()).n_unique().alias("purchase_days"),
            col("amount")
                .filter(purchase())
                .sum()
                .alias("monetary_total"),
            col("amount")
                .filter(purchase())
                .mean()
                .alias("monetary_mean"),
            col("amount").filter(purchase()).max().alias("monetary_max"),
            col("quantity")
                .filter(purchase())
                .sum()
                .alias("quantity_total"),
            count_where(purchase().and(since(30)), "orders_30d"),
            count_where(purchase().and(since(90)), "orders_90d"),
            count_where(purchase().and(since(180)), "orders_180d"),
            count_where(
                purchase().and(since(180)).and(day().lt(lit(t - 90))),
                "orders_prev_90d",
            ),
            count_where(col("kind").eq(lit("refund")), "refunds"),
            when(col("amount").lt(lit(0.0)))
                .then(lit(0.0) - col("amount"))
                .otherwise(col("amount"))
                .filter(col("kind").eq(lit("refund")))
                .sum()
                .alias("refund_amount"),
            count_where(col("kind").eq(lit("cancellation")), "cancellations"),
        ])
        .filter(col("frequency").gt(lit(0.0)));

    // Spread of the gaps between distinct purchase days.
    let previous_day = day()
        .shift(lit(1))
        .over([col("customer_id")])
        .expect("a window over one column is valid");
    let gaps = before
        .filter(purchase())
        .select([col("customer_id"), day()])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["customer_id", "day"], SortMultipleOptions::default())
        .with_column((day() - previous_day).cast(DataType::Float64).alias("gap"))
        .group_by([col("customer_id")])
        .agg([col("gap").std(0).alias("interval_std_days")]);

    let f64c = |name: &str| col(name).cast(DataType::Float64);
    let recency = lit(t) - col("last_day");
    let repeat = col("purchase_days").gt(lit(1));
    let interval_mean = (col("last_day") - col("first_day")).cast(DataType::Float64)
        / (f64c("purchase_days") - lit(1.0));
    let mut features = history
        .left_join(gaps, col("customer_id"), col("customer_id"))
        .with_columns([
            recency
                .clone()
                .cast(DataType::Float64)
                .alias("recency_days"),
            (lit(t) - col("first_day"))
                .cast(DataType::Float64)
                .alias("tenure_days"),
            when(repeat.clone())
                .then(interval_mean.clone())
                .otherwise(lit(MISSING))
                .alias("interval_mean_days"),
            when(repeat.clone())
                .then(col("interval_std_days"))
                .otherwise(lit(MISSING))
                .alias("interval_std_days"),
            when(repeat)
                .then(recency.cast(DataType::Float64) / interval_mean)
                .otherwise(lit(MISSING))
                .alias("recency_ratio"),
            (f64c("quantity_total") / col("frequency")).alias("items_per_order"),
            when((col("orders_90d") + col("orders_prev_90d")).gt(lit(0.0)))
                .then(
                    (col("orders_90d") - col("orders_prev_90d"))
                        / (col("orders_90d") + col("orders_prev_90d")),
                )
                .otherwise(lit(0.0))
                .alias("trend_90d"),
            when(col("monetary_total").gt(lit(0.0)))
                .then(col("refund_amount").fill_null(lit(0.0)) / col("monetary_total"))
                .otherwise(lit(0.0))
                .alias("refund_share"),
        ]);

    let with_events = events.is_some();
    if let Some(events) = events {
        let event = |kind: &str| col("type").eq(lit(kind.to_owned()));
        let engagement = events
            .filter(day().lt(lit(t)))
            .group_by([col("customer_id")])
            .agg([
                count_where(event("session_start").and(since(90)), "sessions_90d"),
                count_where(event("product_view").and(since(90)), "product_views_90d"),
                count_where(event("add_to_cart").and(since(90)), "cart_adds_90d"),
                count_where(
                    event("checkout_started").and(since(90)),
                    "checkouts_started_90d",
                ),
                day().max().alias("last_event_day"),
            ]);
        let counts = [
            "sessions_90d",
            "product_views_90d",
            "cart_adds_90d",
            "checkouts_started_90d",
        ];
        features = features
            .left_join(engagement, col("customer_id"), col("customer_id"))
            .with_columns(
                counts
                    .iter()
                    .map(|c| col(*c).fill_null(lit(0.0)))
                    .collect::<Vec<_>>(),
            )
            .with_columns([
                when((col("checkouts_started_90d") - col("orders_90d")).gt(lit(0.0)))
                    .then(col("checkouts_started_90d") - col("orders_90d"))
                    .otherwise(lit(0.0))
                    .alias("abandoned_checkouts_90d"),
                when(
                    col("last_event_day")
                        .is_not_null()
                        .and(col("last_event_day").gt(col("last_day"))),
                )
                .then(lit(t) - col("last_event_day"))
                .otherwise(lit(t) - col("last_day"))
                .cast(DataType::Float64)
                .alias("days_since_last_visit"),
            ]);
    }

    let mut columns = vec![col("customer_id")];
    columns.extend(
        feature_names(with_events)
            .iter()
            .map(|name| col(name.as_str()).cast(DataType::Float64)),
    );
    features
        .select(columns)
        .sort(["customer_id"], SortMultipleOptions::default())
}

/// The churn label of every customer with a purchase before `cutoff`: `churned` is true when
/// they made no purchase in the `window_days` days from the cut-off on.
pub fn churn_labels(transactions: LazyFrame, cutoff: NaiveDate, window_days: u32) -> LazyFrame {
    let t = day_number(cutoff);
    let end = t + window_days as i32;
    let day = || col("day");
    transactions
        .filter(purchase())
        .group_by([col("customer_id")])
        .agg([
            day()
                .lt(lit(t))
                .cast(DataType::Float64)
                .sum()
                .alias("before"),
            day()
                .gt_eq(lit(t))
                .and(day().lt(lit(end)))
                .cast(DataType::Float64)
                .sum()
                .alias("in_window"),
        ])
        .filter(col("before").gt(lit(0.0)))
        .select([
            col("customer_id"),
            col("in_window").eq(lit(0.0)).alias("churned"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::{Transaction, TransactionKind, Transactions};
    use chrono::NaiveTime;

    fn tx(customer: &str, date: &str, amount: f64, kind: TransactionKind) -> Transaction {
        Transaction {
            customer_id: customer.into(),
            ordered_at: NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .unwrap()
                .and_time(NaiveTime::MIN),
            amount,
            quantity: 1,
            kind,
        }
    }

    fn value(frame: &DataFrame, name: &str, row: usize) -> f64 {
        frame.column(name).unwrap().f64().unwrap().get(row).unwrap()
    }

    #[test]
    fn rfm_and_cadence_of_a_small_history() {
        use TransactionKind::*;
        let records = vec![
            tx("a", "2024-01-01", 10.0, Purchase),
            tx("a", "2024-01-11", 30.0, Purchase),
            tx("a", "2024-01-31", 20.0, Purchase),
            tx("a", "2024-02-05", -5.0, Refund),
            tx("b", "2024-01-20", 50.0, Purchase),
            tx("b", "2024-01-25", 9.0, Cancellation),
            tx("c", "2024-01-05", 8.0, Cancellation),
            tx("a", "2024-03-01", 99.0, Purchase), // after the cut-off
        ];
        let cutoff = NaiveDate::from_ymd_opt(2024, 2, 10).unwrap();
        let frame = customer_features(Transactions::from_records(&records).lazy(), None, cutoff)
            .collect()
            .unwrap();
        // c only cancelled: not a customer yet.
        assert_eq!(frame.height(), 2);
        assert_eq!(value(&frame, "frequency", 0), 3.0);
        assert_eq!(value(&frame, "recency_days", 0), 10.0);
        assert_eq!(value(&frame, "tenure_days", 0), 40.0);
        assert_eq!(value(&frame, "monetary_total", 0), 60.0);
        assert_eq!(value(&frame, "monetary_max", 0), 30.0);
        assert_eq!(value(&frame, "interval_mean_days", 0), 15.0);
        assert_eq!(value(&frame, "interval_std_days", 0), 5.0);
        assert!((value(&frame, "recency_ratio", 0) - 10.0 / 15.0).abs() < 1e-12);
        assert_eq!(value(&frame, "refunds", 0), 1.0);
        assert!((value(&frame, "refund_share", 0) - 5.0 / 60.0).abs() < 1e-12);
        // 2024-01-11 is exactly 30 days before the cut-off: inside "the last 30 days".
        assert_eq!(value(&frame, "orders_30d", 0), 2.0);
        assert_eq!(value(&frame, "interval_mean_days", 1), MISSING);
        assert_eq!(value(&frame, "cancellations", 1), 1.0);

        let labels = churn_labels(Transactions::from_records(&records).lazy(), cutoff, 30)
            .collect()
            .unwrap();
        let churned: Vec<bool> = labels
            .column("churned")
            .unwrap()
            .bool()
            .unwrap()
            .no_null_iter()
            .collect();
        assert_eq!(churned, [false, true]);
    }
}
