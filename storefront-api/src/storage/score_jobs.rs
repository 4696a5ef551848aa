//! Score-all jobs' progress, in a Redis hash per job so that any instance can answer for a
//! job another one runs. Kept a week: a job is looked at soon after it ran, or not at all.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redis::{AsyncCommands, aio::ConnectionManager};
use storefront_client::staff::churn::ScoreJob;
use uuid::Uuid;

use super::StoreError;

const JOB_TTL_SECS: i64 = 7 * 24 * 3600;

/// Where a job's hash lives.
pub struct Jobs<'a> {
    pub redis: &'a ConnectionManager,
    pub key_prefix: &'a str,
}

/// A change to a job's record.
pub enum JobUpdate<'a> {
    Started {
        model_version: &'a str,
        at: DateTime<Utc>,
    },
    Total(usize),
    Finished {
        at: DateTime<Utc>,
        error: Option<String>,
    },
}

impl Jobs<'_> {
    fn key(&self, id: Uuid) -> String {
        format!("{}churn:job:{id}", self.key_prefix)
    }

    pub async fn update(&self, id: Uuid, update: JobUpdate<'_>) -> Result<(), StoreError> {
        let fields: Vec<(&str, String)> = match update {
            JobUpdate::Started { model_version, at } => vec![
                ("status", "running".into()),
                ("model_version", model_version.into()),
                ("total", "0".into()),
                ("done", "0".into()),
                ("started_at", at.to_rfc3339()),
            ],
            JobUpdate::Total(total) => vec![("total", total.to_string())],
            JobUpdate::Finished { at, error } => {
                let mut fields = vec![("finished_at", at.to_rfc3339())];
                match error {
                    None => fields.push(("status", "finished".into())),
                    Some(error) => {
                        fields.push(("status", "failed".into()));
                        fields.push(("error", error));
                    }
                }
                fields
            }
        };
        let mut redis = self.redis.clone();
        let key = self.key(id);
        redis::pipe()
            .hset_multiple(&key, &fields)
            .ignore()
            .expire(&key, JOB_TTL_SECS)
            .ignore()
            .query_async::<()>(&mut redis)
            .await?;
        Ok(())
    }

    /// Counts `scored` more customers done.
    pub async fn add_done(&self, id: Uuid, scored: usize) -> Result<(), StoreError> {
        let mut redis = self.redis.clone();
        let _done: i64 = redis.hincr(self.key(id), "done", scored).await?;
        Ok(())
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<ScoreJob>, StoreError> {
        let mut redis = self.redis.clone();
        let fields: HashMap<String, String> = redis.hgetall(self.key(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let corrupt = |field: &str| StoreError::Corrupt(format!("score job {id}: {field}"));
        let text = |name: &str| fields.get(name).cloned().ok_or_else(|| corrupt(name));
        let count = |name: &str| -> Result<u64, StoreError> {
            text(name)?.parse().map_err(|_| corrupt(name))
        };
        let time = |name: &str| -> Result<DateTime<Utc>, StoreError> {
            DateTime::parse_from_rfc3339(&text(name)?)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| corrupt(name))
        };
        Ok(Some(ScoreJob {
            id,
            status: text("status")?,
            model_version: text("model_version")?,
            total: count("total")?,
            done: count("done")?,
            started_at: time("started_at")?,
            finished_at: fields
                .contains_key("finished_at")
                .then(|| time("finished_at"))
                .transpose()?,
            error: fields.get("error").cloned(),
        }))
    }
}
