//! Cohort views analysts read first: churn rate by first-purchase month, and how many of each
//! month's new customers buy again k months later. Lazy Polars over the transactions frame.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::features::churn_labels;
use crate::transactions::{Transactions, day_number};

fn month_index() -> Expr {
    col("ordered_at").dt().year() * lit(12) + col("ordered_at").dt().month().cast(DataType::Int32)
        - lit(1)
}

/// `YYYY-MM` of a month index (year × 12 + month − 1).
pub fn month_label(index: i32) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

fn purchases_with_month(transactions: &Transactions) -> LazyFrame {
    transactions
        .lazy()
        .filter(col("kind").eq(lit("purchase")))
        .with_column(month_index().alias("month"))
}

fn first_months(transactions: &Transactions) -> LazyFrame {
    purchases_with_month(transactions)
        .group_by([col("customer_id")])
        .agg([col("month").min().alias("cohort")])
}

/// Per first-purchase month: `cohort` (month index), `customers`, `churn_rate` — over customers
/// known before the cut-off, labelled over the window.
pub fn churn_by_cohort(
    transactions: &Transactions,
    cutoff: NaiveDate,
    window_days: u32,
) -> PolarsResult<DataFrame> {
    churn_labels(transactions.lazy(), cutoff, window_days)
        .join(
            first_months(transactions),
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("cohort")])
        .agg([
            len().alias("customers"),
            col("churned")
                .cast(DataType::Float64)
                .mean()
                .alias("churn_rate"),
        ])
        .sort(["cohort"], SortMultipleOptions::default())
        .collect()
}

/// Share of each cohort that bought in its k-th month (k = 0 is the first month): `cohort`,
/// `offset`, `customers` (cohort size), `active`, `share`. Only purchases before `until` count.
pub fn retention(transactions: &Transactions, until: NaiveDate) -> PolarsResult<DataFrame> {
    let purchases =
        purchases_with_month(transactions).filter(col("day").lt(lit(day_number(until))));
    let first = purchases
        .clone()
        .group_by([col("customer_id")])
        .agg([col("month").min().alias("cohort")]);
    let sizes = first
        .clone()
        .group_by([col("cohort")])
        .agg([len().cast(DataType::Float64).alias("customers")]);
    purchases
        .select([col("customer_id"), col("month")])
        .unique(None, UniqueKeepStrategy::Any)
        .join(
            first,
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column((col("month") - col("cohort")).alias("offset"))
        .group_by([col("cohort"), col("offset")])
        .agg([len().cast(DataType::Float64).alias("active")])
        .join(
            sizes,
            [col("cohort")],
            [col("cohort")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column((col("active") / col("customers")).alias("share"))
        .sort(["cohort", "offset"], SortMultipleOptions::default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::{Transaction, TransactionKind};

    fn purchase(customer: &str, date: &str) -> Transaction {
        Transaction {
            customer_id: customer.into(),
            ordered_at: NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            amount: 10.0,
            quantity: 1,
            kind: TransactionKind::Purchase,
        }
    }

    #[test]
    fn retention_counts_each_cohort_member_once_a_month() {
        let tx = Transactions::from_records(&[
            purchase("a", "2024-01-03"),
            purchase("a", "2024-01-20"),
            purchase("a", "2024-03-02"),
            purchase("b", "2024-01-15"),
            purchase("c", "2024-02-01"),
            purchase("c", "2024-03-01"),
        ]);
        let table = retention(&tx, NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()).unwrap();
        let rows: Vec<(i32, i32, f64)> = (0..table.height())
            .map(|i| {
                let get = |c: &str| table.column(c).unwrap().get(i).unwrap();
                (
                    get("cohort").try_extract::<i32>().unwrap(),
                    get("offset").try_extract::<i32>().unwrap(),
                    get("share").try_extract::<f64>().unwrap(),
                )
            })
            .collect();
        let jan = 2024 * 12;
        assert_eq!(
            rows,
            [
                (jan, 0, 1.0),
                (jan, 2, 0.5),
                (jan + 1, 0, 1.0),
                (jan + 1, 1, 1.0)
            ]
        );
        assert_eq!(month_label(jan + 1), "2024-02");
    }
}
