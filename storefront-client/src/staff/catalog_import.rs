//! Catalog import and export as CSV under `/api/v1/admin/catalog`: one row per variant, the
//! product's columns repeated on each of its rows (the format is described in the README's
//! walkthrough and owned by the API's `domain::catalog::csv`).

use serde::{Deserialize, Serialize};

/// `POST /admin/catalog/import?dry_run=…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ImportParams {
    /// Check the file against the catalog and report what an import would do, changing
    /// nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// One thing wrong with the file: where (the file's line, counting the header as line 1,
/// and the column's name) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    pub line: u64,
    /// The column's header; empty when the problem is the row as a whole.
    pub column: String,
    pub message: String,
}

/// What an import did (or, for a dry run, would do). A file with problems imports nothing:
/// a dry run lists them here, an import answers 422 `import_invalid` with the same list in
/// `details.problems`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Whether the import was carried out (false for a dry run and for a file with
    /// problems); the counts say what it changed.
    pub applied: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub products_created: u64,
    pub products_updated: u64,
    pub products_unchanged: u64,
    pub variants_created: u64,
    pub variants_updated: u64,
    pub variants_unchanged: u64,
    /// Existing variants whose stock on hand the file sets to a new number (each a
    /// `correction` in the stock ledger).
    pub stock_changes: u64,
    /// Every problem, in line order; empty when the file can be imported.
    pub problems: Vec<ImportProblem>,
}

/// The envelope of `ImportReport`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportEnvelope {
    pub import: ImportReport,
}
