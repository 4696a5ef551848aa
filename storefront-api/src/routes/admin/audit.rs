//! The audit log, for staff: every staff change with who, when, before and after.

use axum::extract::State;
use storefront_client::lists::CountMeta;
use storefront_client::staff::{AuditLog, AuditQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, Json, Query},
    state::AppState,
    storage::audit::{self, Entity},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

/// The latest audit entries, or the whole trail of one entity, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/audit-log", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditLog), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["audit"])))]
pub async fn audit_log(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<AuditLog>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 500"));
    }
    let entity = match (query.entity.as_deref(), query.entity_id) {
        (None, None) => None,
        (Some(name), Some(id)) => {
            let entity = Entity::parse(name).ok_or_else(|| {
                ApiError::invalid("entity", format!("`{name}` is not an audited entity"))
            })?;
            Some((entity, id))
        }
        _ => {
            return Err(ApiError::invalid(
                "entity_id",
                "give entity and entity_id together",
            ));
        }
    };
    let entries = audit::trail(&state.db, entity, limit).await?;
    Ok(Json(AuditLog {
        meta: CountMeta::of(&entries),
        entries,
    }))
}
