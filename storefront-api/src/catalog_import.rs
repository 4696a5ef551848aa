//! Catalog import and export, the application service: a CSV file is read and checked cell
//! by cell, met with the catalog under the products' locks, and either reported (a dry run,
//! or a file with problems — nothing is written) or written whole in one transaction. The
//! format and the plan are `domain::catalog::import`'s; the writes `storage::catalog::import`'s.

use storefront_client::staff::catalog_import::ImportReport;
use uuid::Uuid;

use crate::{
    domain::catalog::import,
    error::{ApiError, ApiResult},
    state::AppState,
    storage::catalog::{self as store},
};

/// Imports `csv` (or, with `dry_run`, reports what importing it would do). A file with any
/// problem imports nothing: a dry run lists the problems in its report, an import answers
/// 422 `import_invalid` with them in `details.problems`.
pub async fn import(
    state: &AppState,
    csv: Vec<u8>,
    dry_run: bool,
    actor_id: Uuid,
) -> ApiResult<ImportReport> {
    // Reading a large file is CPU work; it stays off the request threads.
    let file = tokio::task::spawn_blocking(move || import::read(&csv))
        .await
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("reading the CSV file: {error}")))?;
    let mut tx = state.db.begin().await?;
    let existing = store::import::existing(&mut tx, &file.slugs(), &file.skus(), !dry_run).await?;
    let plan = import::plan(file, &existing);
    let mut report = plan.report.clone();
    report.dry_run = dry_run;
    if dry_run || !report.problems.is_empty() {
        tx.rollback().await?;
        if dry_run {
            return Ok(report);
        }
        let count = report.problems.len();
        return Err(ApiError::Unprocessable {
            code: "import_invalid",
            message: format!(
                "The file has {count} problem{}; nothing was imported. Fix them (a dry run lists them too) and import again.",
                if count == 1 { "" } else { "s" }
            ),
            details: serde_json::json!({ "problems": report.problems }),
        });
    }
    store::import::apply(&mut tx, &plan, actor_id).await?;
    tx.commit().await?;
    report.applied = true;
    state.catalog_cache.invalidate().await;
    // Only typo corrections read the lexicon: a failed refresh must not fail a committed
    // import.
    if report.products_created + report.products_updated > 0
        && let Err(error) = store::refresh_search_lexicon(&state.db).await
    {
        tracing::warn!(%error, "search lexicon not refreshed after a catalog import");
    }
    Ok(report)
}

/// The whole catalog in the import's format.
pub async fn export(state: &AppState) -> ApiResult<Vec<u8>> {
    let rows = store::import::export_rows(&state.db).await?;
    tokio::task::spawn_blocking(move || import::write(&rows))
        .await
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("writing the CSV file: {error}")))?
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("writing the CSV file: {error}")))
}
