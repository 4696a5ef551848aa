//! Whole-shop scoring runs in PostgreSQL: each run (staff asked, or the schedule) with its
//! outcome, so any instance can tell when the last one ran and how it went, and campaigns
//! know whose scores are current. The schedule claims its runs here under an advisory lock,
//! so however many instances run it, each due run happens once.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use storefront_client::staff::{campaigns::ScoringRun, dashboard::RiskBands};
use uuid::Uuid;

use super::StoreError;

/// `pg_advisory_xact_lock` key of claiming a scheduled run.
const SCHEDULE_LOCK: i64 = 0x6e78_7363_6f72; // "nxscor"

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Staff,
    Schedule,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Schedule => "schedule",
        }
    }
}

/// Claims the next scheduled run when one is due — no run started in the last
/// `every_hours`, and none still running — and records it as started. A run still marked
/// running after `stale_after_hours` is recorded as failed first (its instance stopped).
/// `false` when nothing is due, or another instance claimed it.
pub async fn claim_scheduled(
    db: &PgPool,
    id: Uuid,
    model_version: &str,
    every_hours: i32,
    stale_after_hours: i32,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SCHEDULE_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE scoring_runs SET status = 'failed', finished_at = now(),
                error = 'the instance running it stopped before it finished'
          WHERE status = 'running' AND started_at < now() - make_interval(hours => $1)",
        stale_after_hours
    )
    .execute(&mut *tx)
    .await?;
    let due = sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (
               SELECT 1 FROM scoring_runs
                WHERE status = 'running'
                   OR started_at > now() - make_interval(hours => $1)) AS "due!""#,
        every_hours
    )
    .fetch_one(&mut *tx)
    .await?;
    if due {
        sqlx::query!(
            "INSERT INTO scoring_runs (id, trigger, model_version) VALUES ($1, 'schedule', $2)",
            id,
            model_version
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(due)
}

/// When [`claim_scheduled`] will next find a run due: `every_hours` after the latest run
/// started, or now when that has passed (or no run ever started). The same rule, read without
/// claiming.
pub async fn next_due(db: &PgPool, every_hours: i32) -> Result<DateTime<Utc>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT GREATEST(now(), max(started_at) + make_interval(hours => $1)) AS "due!"
             FROM scoring_runs"#,
        every_hours
    )
    .fetch_one(db)
    .await?)
}

/// Records the start of a run staff asked for; 409 `scoring_running` while another run is
/// under way (two at once would only replace each other's scores).
pub async fn start(
    db: &PgPool,
    id: Uuid,
    trigger: Trigger,
    model_version: &str,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SCHEDULE_LOCK)
        .execute(&mut *tx)
        .await?;
    let running = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM scoring_runs WHERE status = 'running') AS "running!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    if running {
        return Err(StoreError::conflict(
            "scoring_running",
            "Every customer is being scored right now; the results follow in a few minutes.",
        ));
    }
    sqlx::query!(
        "INSERT INTO scoring_runs (id, trigger, model_version) VALUES ($1, $2, $3)",
        id,
        trigger.as_str(),
        model_version
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a finished run did: the customers it scored, how many of them fell in each risk
/// band, and how many automatic campaigns enrolled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub customers: usize,
    pub enrolled: u64,
    pub low_risk: u64,
    pub medium_risk: u64,
    pub high_risk: u64,
}

impl RunCounts {
    /// Counts `band` ("low", "medium" or "high"; any other is scored but in no band).
    pub fn count_band(&mut self, band: &str) {
        match band {
            "low" => self.low_risk += 1,
            "medium" => self.medium_risk += 1,
            "high" => self.high_risk += 1,
            _ => {}
        }
    }
}

/// Records how a run ended: its counts, or the error.
pub async fn finish(
    db: &PgPool,
    id: Uuid,
    outcome: Result<RunCounts, &str>,
) -> Result<(), StoreError> {
    let count = |n: u64| i32::try_from(n).ok();
    let (status, counts, error) = match outcome {
        Ok(counts) => ("finished", Some(counts), None),
        Err(error) => ("failed", None, Some(error)),
    };
    sqlx::query!(
        "UPDATE scoring_runs SET status = $2, customers = $3, enrolled = $4, error = $5,
                low_risk = $6, medium_risk = $7, high_risk = $8, finished_at = now()
          WHERE id = $1",
        id,
        status,
        counts.and_then(|c| i32::try_from(c.customers).ok()),
        counts.and_then(|c| count(c.enrolled)),
        error,
        counts.and_then(|c| count(c.low_risk)),
        counts.and_then(|c| count(c.medium_risk)),
        counts.and_then(|c| count(c.high_risk)),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Customers per risk band as the latest finished run left them, with its model and when it
/// finished; `None` before the first run (or when the latest ended before runs counted bands).
pub async fn latest_bands(db: &PgPool) -> Result<Option<RiskBands>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT model_version, finished_at AS "finished_at!", low_risk, medium_risk, high_risk
             FROM scoring_runs WHERE status = 'finished'
            ORDER BY finished_at DESC, id DESC LIMIT 1"#
    )
    .fetch_optional(db)
    .await?;
    let band = |n: Option<i32>| n.and_then(|n| u64::try_from(n).ok());
    Ok(row.and_then(|row| {
        Some(RiskBands {
            model_version: row.model_version,
            scored_at: row.finished_at,
            low: band(row.low_risk)?,
            medium: band(row.medium_risk)?,
            high: band(row.high_risk)?,
        })
    }))
}

/// The latest runs, newest first.
pub async fn recent(db: &PgPool, limit: i64) -> Result<Vec<ScoringRun>, StoreError> {
    Ok(sqlx::query_as!(
        ScoringRun,
        "SELECT id, trigger, model_version, status, customers, enrolled, error, started_at,
                finished_at
           FROM scoring_runs ORDER BY started_at DESC, id DESC LIMIT $1",
        limit
    )
    .fetch_all(db)
    .await?)
}

/// The latest run that finished: whose scores campaigns launch on.
pub async fn latest_finished(db: &PgPool) -> Result<Option<ScoringRun>, StoreError> {
    Ok(sqlx::query_as!(
        ScoringRun,
        "SELECT id, trigger, model_version, status, customers, enrolled, error, started_at,
                finished_at
           FROM scoring_runs WHERE status = 'finished'
          ORDER BY finished_at DESC, id DESC LIMIT 1"
    )
    .fetch_optional(db)
    .await?)
}
