//! Staff catalog import and export as CSV (`/api/v1/admin/catalog/…`).

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::header,
    response::IntoResponse,
};
use storefront_client::staff::catalog_import::{ImportEnvelope, ImportParams};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::CurrentSession,
    catalog_import,
    error::{ApiResult, Json, Query},
    state::AppState,
};

/// A catalog of 100,000 variants in this format is some 30 MB.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_catalog))
        .layer(DefaultBodyLimit::max(MAX_FILE_BYTES))
        .routes(routes!(export_catalog))
}

/// Imports products, variants, prices and stock from CSV (the format of the export; see the
/// README). With `dry_run=true` nothing changes and the report lists what the import would do
/// and every problem by line and column. An import is all or nothing: a file with any problem
/// answers 422 `import_invalid`, its problems in `details.problems`.
#[utoipa::path(post, path = "/api/v1/admin/catalog/import", tag = "admin", params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The catalog file"),
    responses((status = 200, body = ImportEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 413, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn import_catalog(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> ApiResult<Json<ImportEnvelope>> {
    let import =
        catalog_import::import(&state, body.to_vec(), params.dry_run, session.account_id).await?;
    Ok(Json(ImportEnvelope { import }))
}

/// The whole catalog as CSV — every product and variant, drafts and archived included — in
/// the format the import reads.
#[utoipa::path(get, path = "/api/v1/admin/catalog/export", tag = "admin",
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("bearer" = ["catalog"])))]
pub async fn export_catalog(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let body = catalog_import::export(&state).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"catalog.csv\"",
        ),
    ];
    Ok((headers, body))
}
