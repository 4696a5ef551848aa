//! Staff's customer groups and segments: list, create, members (a page, or CSV), a static
//! group's members added and removed. Members are customers' personal data: each one shown
//! or exported is recorded in the audit log, as the customer list does.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use storefront_client::lists::CountMeta;
use storefront_client::staff::segments::{
    MembersAdded, NewMembers, SegmentDraft, SegmentEnvelope, SegmentList, SegmentMemberList,
    SegmentMemberParams,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::segments::parse_new_segment,
    error::{ApiError, ApiResult, Json, Path, Query},
    routes::paging::Page,
    segments,
    state::AppState,
    storage::{self, accounts},
};

/// Customers one request may add to a group.
const MAX_NEW_MEMBERS: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(segment_members, add_members))
        .routes(routes!(segment_members_csv))
        .routes(routes!(remove_member))
}

/// Every segment and group, by name.
#[utoipa::path(get, path = "/api/v1/admin/segments", tag = "admin",
    responses((status = 200, body = SegmentList)), security(("bearer" = ["customers"])))]
pub async fn list_segments(State(state): State<AppState>) -> ApiResult<Json<SegmentList>> {
    let segments = storage::segments::list(&state.db).await?;
    Ok(Json(SegmentList {
        meta: CountMeta::of(&segments),
        segments,
    }))
}

/// Creates a static group (`kind: static`, no rule) or a dynamic segment (with its rule).
#[utoipa::path(post, path = "/api/v1/admin/segments", tag = "admin", request_body = SegmentDraft,
    responses((status = 201, body = SegmentEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn create_segment(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<SegmentDraft>,
) -> ApiResult<(StatusCode, Json<SegmentEnvelope>)> {
    let new = parse_new_segment(&draft).map_err(ApiError::Validation)?;
    let segment = storage::segments::create(&state.db, &new, session.account_id).await?;
    Ok((StatusCode::CREATED, Json(SegmentEnvelope { segment })))
}

/// The members now, by email, with their orders and latest churn score. A rule with churn
/// conditions answers 409 `no_scores` before any scoring run finished.
#[utoipa::path(get, path = "/api/v1/admin/segments/{id}/members", tag = "admin",
    params(("id" = Uuid, Path, description = "Segment id"), SegmentMemberParams),
    responses((status = 200, body = SegmentMemberList), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn segment_members(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Query(params): Query<SegmentMemberParams>,
) -> ApiResult<Json<SegmentMemberList>> {
    let page = Page::parse(params.page, params.limit)?;
    let segment = segments::segment(&state, id).await?;
    let everyone = segments::members(&state, &segment).await?;
    let total = i64::try_from(everyone.len()).unwrap_or(i64::MAX);
    let members: Vec<_> = everyone
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(0))
        .collect();
    let shown: Vec<Uuid> = members.iter().map(|m| m.account_id).collect();
    accounts::record_customers_listed(&state.db, &shown, None, session.account_id).await?;
    Ok(Json(SegmentMemberList {
        members,
        meta: page.meta(total),
    }))
}

/// Every member as CSV (a header row; amounts in minor units), to download.
#[utoipa::path(get, path = "/api/v1/admin/segments/{id}/members.csv", tag = "admin",
    params(("id" = Uuid, Path, description = "Segment id")),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 404, body = crate::error::ErrorEnvelope), (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn segment_members_csv(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<impl IntoResponse> {
    let segment = segments::segment(&state, id).await?;
    let members = segments::members(&state, &segment).await?;
    let exported: Vec<Uuid> = members.iter().map(|m| m.account_id).collect();
    accounts::record_customers_listed(&state.db, &exported, None, session.account_id).await?;
    let body = segments::members_csv(&members)?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"segment-{id}.csv\""),
        ),
    ];
    Ok((headers, body))
}

/// Adds customers to a static group (409 `segment_is_dynamic` for a segment with a rule).
#[utoipa::path(post, path = "/api/v1/admin/segments/{id}/members", tag = "admin", request_body = NewMembers,
    params(("id" = Uuid, Path, description = "Segment id")),
    responses((status = 201, body = MembersAdded), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn add_members(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(new): Json<NewMembers>,
) -> ApiResult<(StatusCode, Json<MembersAdded>)> {
    if new.account_ids.is_empty() || new.account_ids.len() > MAX_NEW_MEMBERS {
        return Err(ApiError::invalid(
            "account_ids",
            format!("name 1-{MAX_NEW_MEMBERS} customers"),
        ));
    }
    let segment = segments::segment(&state, id).await?;
    let added =
        storage::segments::add_members(&state.db, &segment, &new.account_ids, session.account_id)
            .await?;
    Ok((StatusCode::CREATED, Json(MembersAdded { added })))
}

/// Takes a customer out of a static group.
#[utoipa::path(delete, path = "/api/v1/admin/segments/{id}/members/{account_id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Segment id"), ("account_id" = Uuid, Path, description = "Customer")),
    responses((status = 204), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path((id, account_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    segments::segment(&state, id).await?;
    storage::segments::remove_member(&state.db, id, account_id, session.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
