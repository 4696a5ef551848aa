//! What an analyst looks at first: an overview of the data, activity by month, and (given a
//! cut-off and window) churn by first-purchase cohort — plus ad-hoc Polars SQL over the same
//! tables. Each answer is a DataFrame; the CLI prints it, the console can show it.

use chrono::NaiveDate;
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::cohorts::{churn_by_cohort, month_label};
use crate::transactions::{Events, Transactions};

fn purchases(tx: &Transactions) -> LazyFrame {
    tx.lazy().filter(col("kind").eq(lit("purchase")))
}

/// One row of headline numbers.
pub fn overview(tx: &Transactions) -> PolarsResult<DataFrame> {
    let is = |kind: &str| {
        col("kind")
            .eq(lit(kind.to_owned()))
            .cast(DataType::Int64)
            .sum()
    };
    let per_customer = purchases(tx)
        .group_by([col("customer_id")])
        .agg([len().alias("orders")])
        .select([col("orders").median().alias("median orders per customer")]);
    tx.lazy()
        .select([
            len().alias("rows"),
            col("customer_id").n_unique().alias("customers"),
            is("purchase").alias("purchases"),
            is("refund").alias("refunds"),
            is("cancellation").alias("cancellations"),
            col("ordered_at").min().alias("first"),
            col("ordered_at").max().alias("last"),
            col("amount")
                .filter(col("kind").eq(lit("purchase")))
                .sum()
                .alias("revenue"),
            col("amount")
                .filter(col("kind").eq(lit("purchase")))
                .mean()
                .alias("mean order value"),
        ])
        .cross_join(per_customer, None)
        .collect()
}

/// Orders, buying customers and revenue per calendar month (the latest `months`).
pub fn monthly(tx: &Transactions, months: u32) -> PolarsResult<DataFrame> {
    let frame = purchases(tx)
        .with_column(
            (col("ordered_at").dt().year() * lit(12)
                + col("ordered_at").dt().month().cast(DataType::Int32)
                - lit(1))
            .alias("month_index"),
        )
        .group_by([col("month_index")])
        .agg([
            len().alias("orders"),
            col("customer_id").n_unique().alias("customers"),
            col("amount").sum().alias("revenue"),
        ])
        .sort(
            ["month_index"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(months)
        .sort(["month_index"], SortMultipleOptions::default())
        .collect()?;
    with_month_labels(frame, "month_index", "month")
}

/// Churn rate by first-purchase month, as labelled at `cutoff` over `window_days`.
pub fn cohort_churn(
    tx: &Transactions,
    cutoff: NaiveDate,
    window_days: u32,
) -> PolarsResult<DataFrame> {
    with_month_labels(
        churn_by_cohort(tx, cutoff, window_days)?,
        "cohort",
        "first purchase",
    )
}

fn with_month_labels(mut frame: DataFrame, index: &str, label: &str) -> PolarsResult<DataFrame> {
    let labels: Vec<String> = frame
        .column(index)?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .map(|m| m.map(month_label).unwrap_or_default())
        .collect();
    frame.drop_in_place(index)?;
    frame.insert_column(0, Column::new(label.into(), labels))?;
    Ok(frame)
}

/// Runs Polars SQL over `transactions` (and `events` when given): the columns of
/// [`Transactions`] and [`Events`].
pub fn sql(tx: &Transactions, events: Option<&Events>, query: &str) -> PolarsResult<DataFrame> {
    let mut context = SQLContext::new();
    context.register("transactions", tx.lazy());
    if let Some(events) = events {
        context.register("events", events.lazy());
    }
    context.execute(query)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::{Transaction, TransactionKind};

    fn tx() -> Transactions {
        let at = |d: &str| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap()
        };
        let row = |c: &str, d: &str, amount: f64, kind| Transaction {
            customer_id: c.into(),
            ordered_at: at(d),
            amount,
            quantity: 1,
            kind,
        };
        use TransactionKind::*;
        Transactions::from_records(&[
            row("a", "2024-01-05", 10.0, Purchase),
            row("a", "2024-02-05", 30.0, Purchase),
            row("b", "2024-02-07", 20.0, Purchase),
            row("b", "2024-02-09", -20.0, Refund),
        ])
    }

    #[test]
    fn overview_monthly_and_sql_answer_in_frames() {
        let o = overview(&tx()).unwrap();
        assert_eq!(
            o.column("customers")
                .unwrap()
                .get(0)
                .unwrap()
                .try_extract::<u32>()
                .unwrap(),
            2
        );
        assert_eq!(
            o.column("refunds")
                .unwrap()
                .get(0)
                .unwrap()
                .try_extract::<i64>()
                .unwrap(),
            1
        );
        assert_eq!(
            o.column("revenue")
                .unwrap()
                .get(0)
                .unwrap()
                .try_extract::<f64>()
                .unwrap(),
            60.0
        );

        let m = monthly(&tx(), 12).unwrap();
        let months: Vec<&str> = m
            .column("month")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(months, ["2024-01", "2024-02"]);

        let answer = sql(
            &tx(),
            None,
            "SELECT customer_id, SUM(amount) AS spent FROM transactions WHERE kind = 'purchase' GROUP BY customer_id ORDER BY spent DESC",
        )
        .unwrap();
        assert_eq!(answer.height(), 2);
        assert!(sql(&tx(), None, "SELECT nope FROM transactions").is_err());
    }
}
