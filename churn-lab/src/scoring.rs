//! Scoring customers with a trained artifact: the same feature code as training, the
//! artifact's feature order, its calibration and its risk bands; and each customer's lifetime
//! value from the artifact's lifetime models, read from the same features.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use ndarray::ArrayView1;
use polars::prelude::PolarsError;

use crate::artifact::{ModelArtifact, RiskBand};
use crate::dataset::FeatureMatrix;
use crate::lifetime::{Lifetime, NextOrder};
use crate::transactions::{Events, Transactions};

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerScore {
    pub customer_id: String,
    pub churn_probability: f64,
    pub band: RiskBand,
    /// Expected orders and spend over the next year and when the next order is due; `None`
    /// when the artifact carries no lifetime models (see `ModelArtifact::lifetime`).
    pub lifetime: Option<Lifetime>,
}

impl CustomerScore {
    /// The one way a customer's score is made from their features, for the batch and the
    /// one-customer paths alike.
    fn of(
        artifact: &ModelArtifact,
        customer_id: String,
        churn_probability: f64,
        features: ArrayView1<f64>,
        as_of: NaiveDate,
    ) -> Self {
        Self {
            customer_id,
            churn_probability,
            band: artifact.band(churn_probability),
            lifetime: artifact.lifetime_of(features, as_of),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(
        "model {0} was trained with behaviour events; pass the events file (--events) to score it"
    )]
    EventsRequired(String),
    #[error("no transaction before --as-of {as_of}: the data runs from {first} to {last}")]
    NothingBefore {
        as_of: NaiveDate,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error("computing features: {0}")]
    Polars(#[from] PolarsError),
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Data that ends more than this many days before the as-of day is scored with a warning.
pub const STALE_AFTER_DAYS: i64 = 30;

/// Something about the input a scorer should hear, though the scores are still made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringWarning {
    #[error("{model} was trained without events; --events is not used")]
    EventsUnused { model: String },
    #[error(
        "the transactions end on {last}, {days} days before --as-of {as_of}; customers are scored \
         as if none of them bought since"
    )]
    StaleData {
        last: NaiveDate,
        days: i64,
        as_of: NaiveDate,
    },
}

/// Events given to a model that does not read them are ignored: say so.
pub fn unused_events(artifact: &ModelArtifact, events: Option<&Events>) -> Option<ScoringWarning> {
    (events.is_some() && !artifact.uses_events()).then(|| ScoringWarning::EventsUnused {
        model: artifact.version.clone(),
    })
}

/// Whether the transactions can be scored as of `as_of`: there must be data before it (else
/// no one is scorable, which is an error, not an empty answer), and data that stopped long
/// before it makes every customer look gone (a warning).
pub fn check_as_of(
    transactions: &Transactions,
    as_of: NaiveDate,
) -> Result<Option<ScoringWarning>, ScoringError> {
    let manifest = transactions.manifest();
    let (Some(first), Some(last)) = (manifest.first_at, manifest.last_at) else {
        return Ok(None);
    };
    let (first, last) = (first.date(), last.date());
    if as_of <= first {
        return Err(ScoringError::NothingBefore { as_of, first, last });
    }
    let days = (as_of - last).num_days();
    Ok((days > STALE_AFTER_DAYS).then_some(ScoringWarning::StaleData { last, days, as_of }))
}

/// How many customers fall in each risk band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BandCounts {
    pub low: usize,
    pub medium: usize,
    pub high: usize,
}

impl BandCounts {
    pub fn of(scores: &[CustomerScore]) -> Self {
        let mut counts = Self::default();
        for score in scores {
            *match score.band {
                RiskBand::Low => &mut counts.low,
                RiskBand::Medium => &mut counts.medium,
                RiskBand::High => &mut counts.high,
            } += 1;
        }
        counts
    }
}

/// The features of every customer with a purchase before `as_of`, in the artifact's order.
pub fn features_for(
    artifact: &ModelArtifact,
    transactions: &Transactions,
    events: Option<&Events>,
    as_of: NaiveDate,
) -> Result<FeatureMatrix, ScoringError> {
    let events = if artifact.uses_events() {
        Some(events.ok_or_else(|| ScoringError::EventsRequired(artifact.version.clone()))?)
    } else {
        None
    };
    Ok(FeatureMatrix::compute(
        transactions,
        events,
        as_of,
        &artifact.feature_names,
    )?)
}

pub fn score(
    artifact: &ModelArtifact,
    transactions: &Transactions,
    events: Option<&Events>,
    as_of: NaiveDate,
) -> Result<Vec<CustomerScore>, ScoringError> {
    let features = features_for(artifact, transactions, events, as_of)?;
    let probabilities = artifact.probabilities(&features.values);
    Ok(features
        .customer_ids
        .into_iter()
        .zip(probabilities)
        .zip(features.values.rows())
        .map(|((customer_id, p), row)| CustomerScore::of(artifact, customer_id, p, row, as_of))
        .collect())
}

/// The header [`write_csv`] writes.
pub const SCORES_CSV_HEADER: &str = "customer_id,churn_probability,lifetime,expected_orders_365,\
                                     expected_order_value,value_365,order_chance_365,next_order_by";

/// One customer a line under [`SCORES_CSV_HEADER`]. `lifetime` says whether the lifetime
/// columns are filled: `predicted`; `new_customer` or `single_order_day` (not enough history);
/// `not_modelled` (the artifact has no lifetime models). `next_order_by` is empty when no next
/// order is expected within 365 days.
pub fn write_csv(scores: &[CustomerScore], path: &Path) -> Result<(), ScoringError> {
    let io = |source| ScoringError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{SCORES_CSV_HEADER}").map_err(io)?;
    for s in scores {
        let id = csv_field(&s.customer_id);
        let lifetime = match &s.lifetime {
            None => "not_modelled,,,,,".to_owned(),
            Some(short @ Lifetime::NotEnoughHistory { .. }) => format!("{},,,,,", short.status()),
            Some(
                predicted @ Lifetime::Predicted {
                    expected_orders_365,
                    expected_order_value,
                    value_365,
                    order_chance_365,
                    next_order,
                },
            ) => {
                let next = match next_order {
                    NextOrder::ExpectedBy { date, .. } => date.to_string(),
                    NextOrder::NotExpected => String::new(),
                };
                format!(
                    "{},{expected_orders_365:.4},{expected_order_value:.2},{value_365:.2},\
                     {order_chance_365:.4},{next}",
                    predicted.status()
                )
            }
        };
        writeln!(out, "{id},{:.6},{lifetime}", s.churn_probability).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// A value as a CSV field: quoted (quotes doubled) when it holds a comma, quote or line break.
pub(crate) fn csv_field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\"")).into()
    } else {
        value.into()
    }
}

/// The first field of a CSV line written with [`csv_field`], and the rest after its comma.
pub(crate) fn split_first_field(line: &str) -> (String, &str) {
    if let Some(quoted) = line.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '"' {
                value.push(c);
            } else if chars.peek().is_some_and(|&(_, next)| next == '"') {
                value.push('"');
                chars.next();
            } else {
                let rest = &quoted[i + 1..];
                return (value, rest.strip_prefix(',').unwrap_or(rest));
            }
        }
        (value, "")
    } else {
        let (first, rest) = line.split_once(',').unwrap_or((line, ""));
        (first.to_owned(), rest)
    }
}

/// One customer's score with the features behind it: what the API answers for a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerChurn {
    pub score: CustomerScore,
    pub features: Vec<(String, f64)>,
    /// Features pushing the probability up, strongest first, each worded for staff
    /// (`Contribution::description`).
    pub drivers: Vec<crate::artifact::Contribution>,
}

/// Scores one customer from their own records only — the same feature code as the batch path,
/// run on a frame holding just this customer. `None` when they have no purchase before `as_of`
/// (not scorable).
pub fn score_customer(
    artifact: &ModelArtifact,
    transactions: &[crate::transactions::Transaction],
    events: &[crate::transactions::Event],
    as_of: NaiveDate,
) -> Result<Option<CustomerChurn>, ScoringError> {
    let transactions = Transactions::from_records(transactions);
    let events = Events::from_records(events);
    let features = features_for(artifact, &transactions, Some(&events), as_of)?;
    if features.is_empty() {
        return Ok(None);
    }
    let probability = artifact.probabilities(&features.values)[0];
    let row = features.values.row(0);
    Ok(Some(CustomerChurn {
        score: CustomerScore::of(
            artifact,
            features.customer_ids[0].clone(),
            probability,
            row,
            as_of,
        ),
        features: features
            .names
            .iter()
            .cloned()
            .zip(row.iter().copied())
            .collect(),
        drivers: artifact.explain(row),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::{Transaction, TransactionKind};

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    fn bought_on(days: &[&str]) -> Transactions {
        let records: Vec<Transaction> = days
            .iter()
            .map(|d| Transaction {
                customer_id: "c1".into(),
                ordered_at: day(d).and_hms_opt(12, 0, 0).unwrap(),
                amount: 10.0,
                quantity: 1,
                kind: TransactionKind::Purchase,
            })
            .collect();
        Transactions::from_records(&records)
    }

    #[test]
    fn as_of_needs_data_before_it_and_warns_when_the_data_stopped_long_before() {
        let tx = bought_on(&["2024-01-10", "2024-03-01"]);
        let refused = check_as_of(&tx, day("2024-01-10")).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "no transaction before --as-of 2024-01-10: the data runs from 2024-01-10 to 2024-03-01"
        );
        assert_eq!(check_as_of(&tx, day("2024-01-11")).unwrap(), None);
        assert_eq!(
            check_as_of(&tx, day("2024-03-31")).unwrap(),
            None,
            "30 days is fine"
        );
        let stale = check_as_of(&tx, day("2024-04-01")).unwrap().unwrap();
        assert_eq!(
            stale.to_string(),
            "the transactions end on 2024-03-01, 31 days before --as-of 2024-04-01; customers \
             are scored as if none of them bought since"
        );
        assert_eq!(
            check_as_of(&bought_on(&[]), day("2024-01-01")).unwrap(),
            None
        );
    }

    #[test]
    fn the_scores_csv_says_why_a_customer_has_no_lifetime_prediction() {
        use crate::lifetime::ShortHistory;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.csv");
        let score = |id: &str, lifetime| CustomerScore {
            customer_id: id.into(),
            churn_probability: 0.25,
            band: RiskBand::Low,
            lifetime,
        };
        let predicted = |order_chance_365, next_order| Lifetime::Predicted {
            expected_orders_365: 2.5,
            expected_order_value: 40.0,
            value_365: 100.0,
            order_chance_365,
            next_order,
        };
        let due = NextOrder::ExpectedBy {
            date: day("2024-07-01"),
            days: 30,
        };
        let scores = [
            score("a", Some(predicted(0.8, due))),
            score("b", Some(predicted(0.3, NextOrder::NotExpected))),
            score(
                "c,d",
                Some(Lifetime::NotEnoughHistory {
                    reason: ShortHistory::SingleOrderDay,
                }),
            ),
            score(
                "e",
                Some(Lifetime::NotEnoughHistory {
                    reason: ShortHistory::NewCustomer,
                }),
            ),
            score("f", None),
        ];
        write_csv(&scores, &path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "customer_id,churn_probability,lifetime,expected_orders_365,expected_order_value,\
             value_365,order_chance_365,next_order_by\n\
             a,0.250000,predicted,2.5000,40.00,100.00,0.8000,2024-07-01\n\
             b,0.250000,predicted,2.5000,40.00,100.00,0.3000,\n\
             \"c,d\",0.250000,single_order_day,,,,,\n\
             e,0.250000,new_customer,,,,,\n\
             f,0.250000,not_modelled,,,,,\n"
        );
    }

    #[test]
    fn band_counts_count_every_score_once() {
        let score = |band| CustomerScore {
            customer_id: "c".into(),
            churn_probability: 0.5,
            band,
            lifetime: None,
        };
        let scores = [
            score(RiskBand::High),
            score(RiskBand::Low),
            score(RiskBand::High),
        ];
        assert_eq!(
            BandCounts::of(&scores),
            BandCounts {
                low: 1,
                medium: 0,
                high: 2
            }
        );
    }
}
