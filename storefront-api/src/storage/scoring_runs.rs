//! Whole-shop scoring runs in PostgreSQL: each run (staff asked, or the schedule) with its
//! outcome, so any instance can tell when the last one ran and how it went, and campaigns
//! know whose scores are current. The schedule claims its runs here under an advisory lock,
//! so however many instances run it, each due run happens once.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use storefront_client::staff::campaigns::ScoringRun;
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

/// Records how a run ended: the customers scored and enrolled, or the error.
pub async fn finish(
    db: &PgPool,
    id: Uuid,
    outcome: Result<(usize, u64), &str>,
) -> Result<(), StoreError> {
    let (status, customers, enrolled, error) = match outcome {
        Ok((customers, enrolled)) => (
            "finished",
            i32::try_from(customers).ok(),
            i32::try_from(enrolled).ok(),
            None,
        ),
        Err(error) => ("failed", None, None, Some(error)),
    };
    sqlx::query!(
        "UPDATE scoring_runs SET status = $2, customers = $3, enrolled = $4, error = $5,
                finished_at = now()
          WHERE id = $1",
        id,
        status,
        customers,
        enrolled,
        error
    )
    .execute(db)
    .await?;
    Ok(())
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
