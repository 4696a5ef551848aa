//! Churn storage. MongoDB holds the model registry (`churn_models` metadata, the artifacts
//! themselves in the GridFS bucket `churn_artifacts`, since a forest outgrows a 16 MB document),
//! the activation history (`churn_activations`) and the scores of score-all jobs
//! (`churn_scores`). PostgreSQL orders and MongoDB events are read here and handed out as
//! churn-lab's transactions and events, the input of its feature definition.

use chrono::{DateTime, Utc};
use churn_lab::transactions::{Event, Transaction};
use futures::{AsyncReadExt, AsyncWriteExt, TryStreamExt};
use mongodb::{
    bson::{self, Bson, Document, doc, oid::ObjectId},
    options::{FindOptions, GridFsBucketOptions},
};
use sqlx::PgPool;
use uuid::Uuid;

use super::StoreError;
use crate::domain::money::Currency;

pub use storefront_client::staff::churn::RegisteredModel;

const MODELS: &str = "churn_models";
const ACTIVATIONS: &str = "churn_activations";
pub(crate) const SCORES: &str = "churn_scores";
const BUCKET: &str = "churn_artifacts";

fn models(db: &mongodb::Database) -> mongodb::Collection<Document> {
    db.collection(MODELS)
}

fn activations(db: &mongodb::Database) -> mongodb::Collection<Document> {
    db.collection(ACTIVATIONS)
}

fn bucket(db: &mongodb::Database) -> mongodb::gridfs::GridFsBucket {
    db.gridfs_bucket(
        GridFsBucketOptions::builder()
            .bucket_name(BUCKET.to_owned())
            .build(),
    )
}

fn millis(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(at.timestamp_millis())
}

fn utc(at: bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default()
}

fn to_json(value: Option<&Bson>) -> serde_json::Value {
    value
        .cloned()
        .map(Bson::into_relaxed_extjson)
        .unwrap_or_default()
}

fn from_document(document: &Document, active: Option<&str>) -> Option<RegisteredModel> {
    let version = document.get_str("_id").ok()?.to_owned();
    Some(RegisteredModel {
        id: document.get_str("id").ok()?.parse().ok()?,
        active: active == Some(version.as_str()),
        version,
        kind: document.get_str("kind").ok()?.to_owned(),
        feature_definition_version: u32::try_from(
            document.get_i64("feature_definition_version").ok()?,
        )
        .ok()?,
        created_at: utc(*document.get_datetime("created_at").ok()?),
        uploaded_at: utc(*document.get_datetime("uploaded_at").ok()?),
        size_bytes: document.get_i64("size_bytes").ok()?,
        metrics: to_json(document.get("metrics")),
        training: to_json(document.get("training")),
    })
}

pub async fn ensure_indexes(db: &mongodb::Database) -> mongodb::error::Result<()> {
    activations(db)
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "activated_at": -1 })
                .build(),
        )
        .await?;
    db.collection::<Document>(SCORES)
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "job_id": 1, "probability": -1 })
                .build(),
        )
        .await?;
    // One customer's score of a run: a segment's promotion asked at cart time.
    db.collection::<Document>(SCORES)
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "customer_id": 1, "job_id": 1 })
                .build(),
        )
        .await
        .map(drop)
}

/// Stores an artifact's bytes and its listing entry; `Ok(None)` if the version exists.
pub async fn register(
    db: &mongodb::Database,
    artifact: &churn_lab::ModelArtifact,
    bytes: &[u8],
    uploaded_by: Uuid,
) -> mongodb::error::Result<Option<RegisteredModel>> {
    if models(db)
        .find_one(doc! { "_id": &artifact.version })
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let mut upload = bucket(db)
        .open_upload_stream(format!("{}.json", artifact.version))
        .await?;
    upload.write_all(bytes).await?;
    upload.close().await?;
    let file_id = upload.id().clone();
    let training = &artifact.training;
    let document = doc! {
        "_id": &artifact.version,
        "id": Uuid::now_v7().to_string(),
        "kind": artifact.kind.name(),
        "feature_definition_version": i64::from(artifact.feature_definition_version),
        "created_at": millis(artifact.created_at),
        "uploaded_at": bson::DateTime::now(),
        "uploaded_by": uploaded_by.to_string(),
        "size_bytes": i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        "file_id": file_id.clone(),
        "metrics": bson::to_bson(&artifact.metrics).unwrap_or_default(),
        "training": {
            "source": &training.transactions.source,
            "cutoff": training.cutoff.to_string(),
            "window_days": i64::from(training.window_days),
            "customers": i64::try_from(training.customers).unwrap_or(i64::MAX),
            "churn_rate": training.churn_rate,
        },
    };
    match models(db).insert_one(document.clone()).await {
        Ok(_) => Ok(from_document(&document, None)),
        // Two uploads of one version raced: the loser's file is left for no one.
        Err(error) if is_duplicate(&error) => {
            bucket(db).delete(file_id).await.ok();
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn is_duplicate(error: &mongodb::error::Error) -> bool {
    matches!(
        *error.kind,
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(ref w)) if w.code == 11000
    )
}

pub async fn list(db: &mongodb::Database) -> mongodb::error::Result<Vec<RegisteredModel>> {
    let active = active_version(db).await?;
    let documents: Vec<Document> = models(db)
        .find(doc! {})
        .sort(doc! { "uploaded_at": -1 })
        .await?
        .try_collect()
        .await?;
    Ok(documents
        .iter()
        .filter_map(|d| from_document(d, active.as_deref()))
        .collect())
}

pub async fn find(
    db: &mongodb::Database,
    version: &str,
) -> mongodb::error::Result<Option<RegisteredModel>> {
    let active = active_version(db).await?;
    Ok(models(db)
        .find_one(doc! { "_id": version })
        .await?
        .and_then(|d| from_document(&d, active.as_deref())))
}

/// The artifact's JSON as uploaded.
pub async fn artifact_bytes(
    db: &mongodb::Database,
    version: &str,
) -> mongodb::error::Result<Option<Vec<u8>>> {
    let Some(document) = models(db).find_one(doc! { "_id": version }).await? else {
        return Ok(None);
    };
    let Some(file_id) = document.get("file_id").cloned() else {
        return Ok(None);
    };
    let mut download = bucket(db).open_download_stream(file_id).await?;
    let mut bytes = Vec::new();
    download.read_to_end(&mut bytes).await?;
    Ok(Some(bytes))
}

/// The activations still in force, newest first (rolled-back ones are skipped).
async fn standing_activations(db: &mongodb::Database) -> mongodb::error::Result<Vec<Document>> {
    activations(db)
        .find(doc! { "rolled_back": false })
        .with_options(
            FindOptions::builder()
                .sort(doc! { "activated_at": -1, "_id": -1 })
                .limit(2)
                .build(),
        )
        .await?
        .try_collect()
        .await
}

pub async fn active_version(db: &mongodb::Database) -> mongodb::error::Result<Option<String>> {
    Ok(standing_activations(db)
        .await?
        .first()
        .and_then(|d| d.get_str("version").ok().map(str::to_owned)))
}

pub async fn activate(
    db: &mongodb::Database,
    version: &str,
    actor: Uuid,
) -> mongodb::error::Result<()> {
    activations(db)
        .insert_one(doc! {
            "_id": ObjectId::new(),
            "version": version,
            "actor": actor.to_string(),
            "activated_at": bson::DateTime::now(),
            "rolled_back": false,
        })
        .await
        .map(drop)
}

/// Withdraws the latest activation; returns the version now active, or `None` when there is
/// no earlier activation to return to (nothing changes then).
pub async fn roll_back(db: &mongodb::Database) -> mongodb::error::Result<Option<String>> {
    let standing = standing_activations(db).await?;
    let [latest, previous] = &standing[..] else {
        return Ok(None);
    };
    let Ok(latest_id) = latest.get_object_id("_id") else {
        return Ok(None);
    };
    activations(db)
        .update_one(
            doc! { "_id": latest_id },
            doc! { "$set": { "rolled_back": true, "rolled_back_at": bson::DateTime::now() } },
        )
        .await?;
    Ok(previous.get_str("version").ok().map(str::to_owned))
}

/// One customer's score as a score-all job stored it.
#[derive(Debug, Clone)]
pub struct StoredScore {
    pub customer_id: String,
    pub probability: f64,
    pub band: &'static str,
    /// Predicted spend over the next 365 days in minor units, when the model predicts it.
    pub predicted_value_minor: Option<i64>,
}

impl StoredScore {
    /// The score as campaigns read it; `None` for a customer id that is not an account's
    /// (scores come from churn-lab's mapping, which names customers by account id).
    pub fn scored(&self) -> Option<super::campaigns::ScoredCustomer> {
        Some(super::campaigns::ScoredCustomer {
            account_id: self.customer_id.parse().ok()?,
            band: self.band.to_owned(),
            probability: self.probability,
            predicted_value_minor: self.predicted_value_minor,
        })
    }
}

/// Every score a finished job stored.
pub async fn scores_of_job(
    db: &mongodb::Database,
    job_id: Uuid,
) -> mongodb::error::Result<Vec<super::campaigns::ScoredCustomer>> {
    let documents: Vec<Document> = db
        .collection::<Document>(SCORES)
        .find(doc! { "job_id": job_id.to_string() })
        .await?
        .try_collect()
        .await?;
    Ok(documents
        .iter()
        .filter_map(|d| {
            Some(super::campaigns::ScoredCustomer {
                account_id: d.get_str("customer_id").ok()?.parse().ok()?,
                band: d.get_str("band").ok()?.to_owned(),
                probability: d.get_f64("probability").ok()?,
                predicted_value_minor: d.get_i64("predicted_value_minor").ok(),
            })
        })
        .collect())
}

/// One customer's score in a finished job, if it scored them.
pub async fn score_of(
    db: &mongodb::Database,
    job_id: Uuid,
    account_id: Uuid,
) -> mongodb::error::Result<Option<super::campaigns::ScoredCustomer>> {
    let document = db
        .collection::<Document>(SCORES)
        .find_one(doc! { "job_id": job_id.to_string(), "customer_id": account_id.to_string() })
        .await?;
    Ok(document.and_then(|d| {
        Some(super::campaigns::ScoredCustomer {
            account_id,
            band: d.get_str("band").ok()?.to_owned(),
            probability: d.get_f64("probability").ok()?,
            predicted_value_minor: d.get_i64("predicted_value_minor").ok(),
        })
    }))
}

/// Adds a batch of a job's scores.
pub async fn insert_scores(
    db: &mongodb::Database,
    job_id: Uuid,
    model_version: &str,
    scores: &[StoredScore],
) -> mongodb::error::Result<()> {
    let scored_at = bson::DateTime::now();
    let documents = scores.iter().map(|s| {
        let mut document = doc! {
            "job_id": job_id.to_string(),
            "customer_id": &s.customer_id,
            "probability": s.probability,
            "band": s.band,
            "model_version": model_version,
            "scored_at": scored_at,
        };
        if let Some(value) = s.predicted_value_minor {
            document.insert("predicted_value_minor", value);
        }
        document
    });
    db.collection::<Document>(SCORES)
        .insert_many(documents)
        .await
        .map(drop)
}

/// Deletes a customer's churn scores (their account is being erased).
pub async fn erase_customer_scores(
    db: &mongodb::Database,
    customer_id: Uuid,
) -> mongodb::error::Result<()> {
    db.collection::<Document>(SCORES)
        .delete_many(doc! { "customer_id": customer_id.to_string() })
        .await
        .map(drop)
}

/// Once a job has stored all its scores, earlier jobs' scores go.
pub async fn drop_scores_of_other_jobs(
    db: &mongodb::Database,
    job_id: Uuid,
) -> mongodb::error::Result<()> {
    db.collection::<Document>(SCORES)
        .delete_many(doc! { "job_id": { "$ne": job_id.to_string() } })
        .await
        .map(drop)
}

/// The highest-risk customers of a finished job.
pub async fn top_scores(
    db: &mongodb::Database,
    job_id: Uuid,
    limit: i64,
) -> mongodb::error::Result<Vec<(String, f64, String)>> {
    let documents: Vec<Document> = db
        .collection::<Document>(SCORES)
        .find(doc! { "job_id": job_id.to_string() })
        .sort(doc! { "probability": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok(documents
        .iter()
        .filter_map(|d| {
            Some((
                d.get_str("customer_id").ok()?.to_owned(),
                d.get_f64("probability").ok()?,
                d.get_str("band").ok()?.to_owned(),
            ))
        })
        .collect())
}

/// The shop's orders as churn-lab transactions: churn-lab's own mapping, shared with its
/// `snapshot`, so the API scores exactly the data an analyst would snapshot.
pub async fn transactions(
    db: &PgPool,
    customer: Option<Uuid>,
) -> Result<Vec<Transaction>, sqlx::Error> {
    churn_lab::shop::orders(db, customer).await
}

/// The one currency of a customer's orders as churn-lab reads them (every order but those
/// waiting for payment), which its amounts for the customer are in; `None` when there are
/// none or several.
pub async fn spending_currency(
    db: &PgPool,
    customer: Uuid,
) -> Result<Option<Currency>, StoreError> {
    let currencies = sqlx::query_scalar!(
        r#"SELECT DISTINCT currency AS "currency!" FROM orders
            WHERE account_id = $1 AND status <> 'pending_payment'"#,
        customer
    )
    .fetch_all(db)
    .await?;
    match currencies.as_slice() {
        [one] => Currency::parse(one)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("orders of {customer}: unknown currency"))),
        _ => Ok(None),
    }
}

/// Behaviour events of known customers as the server sends them (exports stream them on).
pub async fn event_stream(
    db: &mongodb::Database,
    customer: Option<Uuid>,
) -> mongodb::error::Result<impl futures::Stream<Item = mongodb::error::Result<Event>> + use<>> {
    churn_lab::shop::event_stream(db, customer).await
}

/// Behaviour events of known customers (one customer, or all).
pub async fn events(
    db: &mongodb::Database,
    customer: Option<Uuid>,
) -> mongodb::error::Result<Vec<Event>> {
    churn_lab::shop::events(db, customer).await
}
