//! From frames to matrices: the labelled customers a model is trained on, and the seeded,
//! stratified splits and folds that keep every comparison fair.

use chrono::NaiveDate;
use ndarray::{Array2, Axis};
use polars::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::features::{churn_labels, customer_features, feature_names};
use crate::transactions::{Events, Transactions};

/// Customers as rows and features as columns, in the order of `names`.
#[derive(Debug, Clone)]
pub struct FeatureMatrix {
    pub customer_ids: Vec<String>,
    pub names: Vec<String>,
    pub values: Array2<f64>,
}

impl FeatureMatrix {
    /// Reads the named feature columns of a [`customer_features`] frame.
    pub fn from_frame(frame: &DataFrame, names: &[String]) -> PolarsResult<Self> {
        let customer_ids = frame
            .column("customer_id")?
            .str()?
            .iter()
            .map(|id| id.unwrap_or_default().to_owned())
            .collect();
        let mut values = Array2::zeros((frame.height(), names.len()));
        for (j, name) in names.iter().enumerate() {
            let column = frame.column(name)?.cast(&DataType::Float64)?;
            for (i, v) in column.f64()?.iter().enumerate() {
                values[[i, j]] = v.unwrap_or(crate::features::MISSING);
            }
        }
        Ok(Self {
            customer_ids,
            names: names.to_vec(),
            values,
        })
    }

    /// Features of every customer with a purchase before `as_of`.
    pub fn compute(
        transactions: &Transactions,
        events: Option<&Events>,
        as_of: NaiveDate,
        names: &[String],
    ) -> PolarsResult<Self> {
        let frame =
            customer_features(transactions.lazy(), events.map(Events::lazy), as_of).collect()?;
        Self::from_frame(&frame, names)
    }

    pub fn len(&self) -> usize {
        self.values.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.values.nrows() == 0
    }

    pub fn rows(&self, rows: &[usize]) -> Self {
        Self {
            customer_ids: rows.iter().map(|&i| self.customer_ids[i].clone()).collect(),
            names: self.names.clone(),
            values: self.values.select(Axis(0), rows),
        }
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Each class needs this many customers so that every part of the 60/20/20 split holds both
/// (otherwise calibration and ROC-AUC are undefined).
pub const MIN_PER_CLASS: usize = 10;

/// Customers known before the cut-off with their features and whether they churned.
#[derive(Debug, Clone)]
pub struct LabelledCustomers {
    pub features: FeatureMatrix,
    pub churned: Vec<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error(
        "the label window ends on {window_end} but the data ends on {data_end}: pick an earlier \
         --cutoff or a shorter --window-days"
    )]
    WindowPastData {
        window_end: NaiveDate,
        data_end: NaiveDate,
    },
    #[error("no customer has a purchase before the cut-off {0}")]
    NoCustomers(NaiveDate),
    #[error(
        "every customer {0} in the label window: a churn model needs both churned and retained \
         customers"
    )]
    OneClass(&'static str),
    #[error(
        "only {count} customers {class} in the label window: training, validation and test each \
         need some (at least {MIN_PER_CLASS}); pick another --cutoff or --window-days"
    )]
    TooFewOfClass { class: &'static str, count: usize },
    #[error("computing features: {0}")]
    Polars(#[from] PolarsError),
}

impl LabelledCustomers {
    pub fn build(
        transactions: &Transactions,
        events: Option<&Events>,
        cutoff: NaiveDate,
        window_days: u32,
    ) -> Result<Self, DatasetError> {
        let window_end = cutoff + chrono::Days::new(u64::from(window_days));
        if let Some(data_end) = transactions.last_date() {
            // The window's last day is window_end - 1; data must reach it.
            if data_end + chrono::Days::new(1) < window_end {
                return Err(DatasetError::WindowPastData {
                    window_end: window_end - chrono::Days::new(1),
                    data_end,
                });
            }
        }
        let names = feature_names(events.is_some());
        let features = customer_features(transactions.lazy(), events.map(Events::lazy), cutoff);
        let frame = features
            .join(
                churn_labels(transactions.lazy(), cutoff, window_days),
                [col("customer_id")],
                [col("customer_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()?;
        if frame.height() == 0 {
            return Err(DatasetError::NoCustomers(cutoff));
        }
        let churned: Vec<bool> = frame
            .column("churned")?
            .bool()?
            .iter()
            .map(|c| c.unwrap_or(false))
            .collect();
        if churned.iter().all(|&c| c) {
            return Err(DatasetError::OneClass("churned"));
        }
        if churned.iter().all(|&c| !c) {
            return Err(DatasetError::OneClass("bought again"));
        }
        let churners = churned.iter().filter(|&&c| c).count();
        for (class, count) in [
            ("churned", churners),
            ("bought again", churned.len() - churners),
        ] {
            if count < MIN_PER_CLASS {
                return Err(DatasetError::TooFewOfClass { class, count });
            }
        }
        Ok(Self {
            features: FeatureMatrix::from_frame(&frame, &names)?,
            churned,
        })
    }

    pub fn churn_rate(&self) -> f64 {
        self.churned.iter().filter(|&&c| c).count() as f64 / self.churned.len() as f64
    }

    pub fn rows(&self, rows: &[usize]) -> Self {
        Self {
            features: self.features.rows(rows),
            churned: rows.iter().map(|&i| self.churned[i]).collect(),
        }
    }
}

/// Row indices of the train, validation and test customers.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// Shuffles each class with `seed` and deals it 60/20/20, so every part has the same churn rate.
pub fn stratified_split(labels: &[bool], seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
    };
    for class in [true, false] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n = rows.len();
        let (train_end, validation_end) = (n * 3 / 5, n * 4 / 5);
        split.train.extend_from_slice(&rows[..train_end]);
        split
            .validation
            .extend_from_slice(&rows[train_end..validation_end]);
        split.test.extend_from_slice(&rows[validation_end..]);
    }
    for part in [&mut split.train, &mut split.validation, &mut split.test] {
        part.sort_unstable();
    }
    split
}

/// `k` stratified folds of `rows` (indices into `labels`): each fold's rows are its held-out part.
pub fn stratified_folds(labels: &[bool], rows: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut folds = vec![Vec::new(); k];
    for class in [true, false] {
        let mut members: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| labels[i] == class)
            .collect();
        members.shuffle(&mut rng);
        for (n, row) in members.into_iter().enumerate() {
            folds[n % k].push(row);
        }
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let labels: Vec<bool> = (0..1000).map(|i| i % 4 == 0).collect();
        let split = stratified_split(&labels, 7);
        assert_eq!(
            split.train.len() + split.validation.len() + split.test.len(),
            1000
        );
        let rate =
            |rows: &[usize]| rows.iter().filter(|&&i| labels[i]).count() as f64 / rows.len() as f64;
        assert!((rate(&split.train) - 0.25).abs() < 0.01);
        assert!((rate(&split.test) - 0.25).abs() < 0.01);
        let mut all: Vec<usize> = [
            split.train.clone(),
            split.validation.clone(),
            split.test.clone(),
        ]
        .concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 1000);
        assert_eq!(stratified_split(&labels, 7).test, split.test);
        assert_ne!(stratified_split(&labels, 8).test, split.test);
    }
}
