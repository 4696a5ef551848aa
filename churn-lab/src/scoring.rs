//! Scoring customers with a trained artifact: the same feature code as training, the
//! artifact's feature order, its calibration and its risk bands.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::PolarsError;

use crate::artifact::{ModelArtifact, RiskBand};
use crate::dataset::FeatureMatrix;
use crate::transactions::{Events, Transactions};

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerScore {
    pub customer_id: String,
    pub churn_probability: f64,
    pub band: RiskBand,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(
        "model {0} was trained with behaviour events; pass the events file (--events) to score it"
    )]
    EventsRequired(String),
    #[error("computing features: {0}")]
    Polars(#[from] PolarsError),
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
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
        .map(|(customer_id, p)| CustomerScore {
            customer_id,
            churn_probability: p,
            band: artifact.band(p),
        })
        .collect())
}

/// `customer_id,churn_probability` with a header, one customer a line.
pub fn write_csv(scores: &[CustomerScore], path: &Path) -> Result<(), ScoringError> {
    let io = |source| ScoringError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "customer_id,churn_probability").map_err(io)?;
    for s in scores {
        let id = csv_field(&s.customer_id);
        writeln!(out, "{id},{:.6}", s.churn_probability).map_err(io)?;
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
    /// Features pushing the probability up, strongest first.
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
        score: CustomerScore {
            customer_id: features.customer_ids[0].clone(),
            churn_probability: probability,
            band: artifact.band(probability),
        },
        features: features
            .names
            .iter()
            .cloned()
            .zip(row.iter().copied())
            .collect(),
        drivers: artifact.explain(row),
    }))
}
