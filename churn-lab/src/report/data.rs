//! What a report shows, gathered once from a training outcome; and the test predictions'
//! CSV file.

use std::fmt::Write as _;
use std::path::Path;

use crate::cohorts::{churn_by_cohort, retention};
use crate::dataset::LabelledCustomers;
use crate::training::{TestPredictions, TrainingSummary};
use crate::transactions::Transactions;

use super::*;

/// The distribution of one feature among churned and retained customers.
#[derive(Debug, Clone)]
pub struct FeatureDistribution {
    pub feature: String,
    pub churned: Vec<f64>,
    pub retained: Vec<f64>,
}

/// Everything the report shows, gathered once.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub summary: TrainingSummary,
    pub test: TestPredictions,
    /// (cohort month index, customers, churn rate)
    pub cohort_churn: Vec<(i32, u32, f64)>,
    /// (cohort month index, months since first purchase, share active)
    pub retention: Vec<(i32, i32, f64)>,
    pub distributions: Vec<FeatureDistribution>,
}

impl ReportData {
    pub fn gather(
        summary: &TrainingSummary,
        test: &TestPredictions,
        customers: &LabelledCustomers,
        transactions: &Transactions,
    ) -> Result<Self, ReportError> {
        let cohorts = churn_by_cohort(transactions, summary.data.cutoff, summary.data.window_days)?;
        let cohort_churn = (0..cohorts.height())
            .filter_map(|i| {
                let get = |c: &str| cohorts.column(c).ok()?.get(i).ok();
                Some((
                    get("cohort")?.try_extract::<i32>().ok()?,
                    get("customers")?.try_extract::<u32>().ok()?,
                    get("churn_rate")?.try_extract::<f64>().ok()?,
                ))
            })
            .collect();
        let table = retention(transactions, summary.data.cutoff)?;
        let retention = (0..table.height())
            .filter_map(|i| {
                let get = |c: &str| table.column(c).ok()?.get(i).ok();
                Some((
                    get("cohort")?.try_extract::<i32>().ok()?,
                    get("offset")?.try_extract::<i32>().ok()?,
                    get("share")?.try_extract::<f64>().ok()?,
                ))
            })
            .collect();
        let distributions = summary
            .permutation_importance
            .iter()
            .take(4)
            .filter_map(|imp| {
                let j = customers.features.column(&imp.feature)?;
                let column = customers.features.values.column(j);
                let pick = |want: bool| {
                    column
                        .iter()
                        .zip(&customers.churned)
                        .filter(|(_, c)| **c == want)
                        .map(|(v, _)| *v)
                        .collect()
                };
                Some(FeatureDistribution {
                    feature: imp.feature.clone(),
                    churned: pick(true),
                    retained: pick(false),
                })
            })
            .collect();
        Ok(Self {
            summary: summary.clone(),
            test: test.clone(),
            cohort_churn,
            retention,
            distributions,
        })
    }
}

impl TestPredictions {
    /// `customer_id,churned,<model>,<model>…`, one test customer a line.
    pub fn write_csv(&self, path: &Path) -> Result<(), ReportError> {
        let mut out = String::from("customer_id,churned");
        for (kind, _) in &self.by_model {
            out.push(',');
            out.push_str(kind.name());
        }
        out.push('\n');
        for (i, churned) in self.churned.iter().enumerate() {
            let id = self.customer_ids.get(i).map_or("", String::as_str);
            out.push_str(&crate::scoring::csv_field(id));
            out.push_str(if *churned { ",1" } else { ",0" });
            for (_, p) in &self.by_model {
                let _ = write!(out, ",{:.8}", p[i]);
            }
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|source| ReportError::Io {
            path: path.to_owned(),
            source,
        })
    }

    pub fn read_csv(path: &Path) -> Result<Self, ReportError> {
        let bad = |message: String| ReportError::Predictions {
            path: path.to_owned(),
            message,
        };
        let body = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut lines = body.lines();
        let header = lines.next().ok_or_else(|| bad("empty file".into()))?;
        // Runs written before the customer ids were added start with `churned`.
        let with_ids = header.starts_with("customer_id,");
        let kinds = header
            .split(',')
            .skip(if with_ids { 2 } else { 1 })
            .map(|name| name.parse().map_err(bad))
            .collect::<Result<Vec<crate::models::ModelKind>, _>>()?;
        let (mut customer_ids, mut churned) = (Vec::new(), Vec::new());
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
        for (n, line) in lines.enumerate() {
            let line = if with_ids {
                let (id, rest) = crate::scoring::split_first_field(line);
                customer_ids.push(id);
                rest
            } else {
                line
            };
            let mut fields = line.split(',');
            churned.push(fields.next() == Some("1"));
            for column in columns.iter_mut() {
                let value = fields
                    .next()
                    .and_then(|f| f.parse().ok())
                    .ok_or_else(|| bad(format!("line {}: expected a probability", n + 2)))?;
                column.push(value);
            }
        }
        Ok(Self {
            customer_ids,
            churned,
            by_model: kinds.into_iter().zip(columns).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelKind;

    #[test]
    fn test_predictions_round_trip_with_awkward_ids_and_read_the_old_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PREDICTIONS_FILE);
        let written = TestPredictions {
            customer_ids: vec!["c1".into(), "Smith, \"Jo\"".into()],
            churned: vec![true, false],
            by_model: vec![
                (ModelKind::Logistic, vec![0.75, 0.25]),
                (ModelKind::Recency, vec![0.5, 0.125]),
            ],
        };
        written.write_csv(&path).unwrap();
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(
            body.starts_with("customer_id,churned,logistic,recency\nc1,1,"),
            "{body}"
        );
        let read = TestPredictions::read_csv(&path).unwrap();
        assert_eq!(read.customer_ids, written.customer_ids);
        assert_eq!(read.churned, written.churned);
        assert_eq!(read.by_model, written.by_model);

        std::fs::write(&path, "churned,logistic\n1,0.75\n0,0.25\n").unwrap();
        let old = TestPredictions::read_csv(&path).unwrap();
        assert!(old.customer_ids.is_empty());
        assert_eq!(old.churned, vec![true, false]);
        assert_eq!(old.by_model, vec![(ModelKind::Logistic, vec![0.75, 0.25])]);
    }
}
