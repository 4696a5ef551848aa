//! Staff management: the staff accounts, their roles, and who may no longer log in.

use axum::{extract::State, http::StatusCode};
use storefront_client::{
    lists::CountMeta,
    staff::team::{NewStaffMember, StaffList, StaffMember, StaffMemberEnvelope, StaffMemberPatch},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::access::{NewStaff, RolePermissions, StaffChange},
    error::{ApiError, ApiResult, Json, Path},
    state::AppState,
    storage::accounts::{self, StaffRecord},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(change_staff))
}

fn member(record: StaffRecord) -> StaffMember {
    StaffMember {
        permissions: record.account.role.permissions().to_vec(),
        account: record.account,
        disabled_at: record.disabled_at,
    }
}

/// Every staff account with its role's permissions, admins first.
#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "admin",
    responses((status = 200, body = StaffList)), security(("bearer" = ["staff_management"])))]
pub async fn list_staff(State(state): State<AppState>) -> ApiResult<Json<StaffList>> {
    let staff: Vec<StaffMember> = accounts::staff_members(&state.db)
        .await?
        .into_iter()
        .map(member)
        .collect();
    let meta = CountMeta::of(&staff);
    Ok(Json(StaffList { staff, meta }))
}

/// Creates a staff account with a role and a first password.
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "admin", request_body = NewStaffMember,
    responses((status = 201, body = StaffMemberEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["staff_management"])))]
pub async fn create_staff(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<NewStaffMember>,
) -> ApiResult<(StatusCode, Json<StaffMemberEnvelope>)> {
    let new = NewStaff::parse(&draft).map_err(ApiError::Validation)?;
    // Argon2 takes a core for a moment: off the request threads.
    let (new, hash) = tokio::task::spawn_blocking(move || {
        let hash = new.password.hash();
        (new, hash)
    })
    .await
    .map_err(|error| ApiError::Internal(error.into()))?;
    let account = accounts::create_staff(&state.db, &new, &hash, session.account_id).await?;
    let staff_member = member(StaffRecord {
        account,
        disabled_at: None,
    });
    Ok((
        StatusCode::CREATED,
        Json(StaffMemberEnvelope { staff_member }),
    ))
}

/// Changes a staff account's role or name, or disables it (or enables it again). A role
/// change or a disabling ends the account's sessions at once. The last enabled admin cannot
/// be demoted or disabled (409 `last_admin`).
#[utoipa::path(patch, path = "/api/v1/admin/staff/{id}", tag = "admin", request_body = StaffMemberPatch,
    params(("id" = Uuid, Path, description = "Staff account id")),
    responses((status = 200, body = StaffMemberEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["staff_management"])))]
pub async fn change_staff(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<StaffMemberPatch>,
) -> ApiResult<Json<StaffMemberEnvelope>> {
    let change = StaffChange::parse(&patch).map_err(ApiError::Validation)?;
    let changed = accounts::change_staff(&state.db, id, &change, session.account_id).await?;
    if changed.rights_changed {
        state.sessions.revoke_all(id, None).await?;
    }
    Ok(Json(StaffMemberEnvelope {
        staff_member: member(changed.record),
    }))
}
