//! Staff view of customers: search and detail. Both are customers' personal data: every
//! customer a staff member sees is recorded in the audit log (`customer.listed`,
//! `customer.viewed`).

use axum::extract::State;
use storefront_client::staff::customers::{
    CustomerDetail, CustomerEmailEnvelope, CustomerEmailList, CustomerEmailParams,
    CustomerEnvelope, CustomerList, CustomerParams,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    error::{ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage::{accounts, emails, paged},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers))
        .routes(routes!(customer))
        .routes(routes!(customer_emails))
        .routes(routes!(resend_customer_email))
}

/// Customers, newest first; each one shown is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/admin/customers", tag = "admin", params(CustomerParams),
    responses((status = 200, body = CustomerList)), security(("bearer" = ["customers"])))]
pub async fn list_customers(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Query(params): Query<CustomerParams>,
) -> ApiResult<Json<CustomerList>> {
    let page = Page::parse(params.page, params.limit)?;
    let text = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (customers, total) = paged(page.limit, page.offset(), |limit, offset| {
        accounts::staff_customers(&state.db, text, limit, offset)
    })
    .await?;
    let shown: Vec<Uuid> = customers.iter().map(|customer| customer.id).collect();
    accounts::record_customers_listed(&state.db, &shown, text, session.account_id).await?;
    Ok(Json(CustomerList {
        customers,
        meta: page.meta(total),
    }))
}

/// One customer with their addresses; the read is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn customer(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CustomerEnvelope>> {
    let (customer, addresses) =
        accounts::customer_for_staff(&state.db, id, session.account_id).await?;
    Ok(Json(CustomerEnvelope {
        customer: CustomerDetail {
            account: customer,
            addresses,
        },
    }))
}

/// The emails the shop sent a customer (or is sending), newest first: what, when, and why one
/// failed — for support answering "I never got my confirmation".
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}/emails", tag = "admin",
    params(("id" = Uuid, Path, description = "Customer id"), CustomerEmailParams),
    responses((status = 200, body = CustomerEmailList)),
    security(("bearer" = ["customers"])))]
pub async fn customer_emails(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(params): Query<CustomerEmailParams>,
) -> ApiResult<Json<CustomerEmailList>> {
    let page = Page::parse(params.page, params.limit)?;
    let (emails, total) = paged(page.limit, page.offset(), |limit, offset| {
        emails::for_customer(&state.db, id, limit, offset)
    })
    .await?;
    Ok(Json(CustomerEmailList {
        emails,
        meta: page.meta(total),
    }))
}

/// Sends an email again (same message, same `Message-ID`); audited. 409 `email_pending` while
/// it is still on its way.
#[utoipa::path(post, path = "/api/v1/admin/customers/{id}/emails/{email_id}/resend", tag = "admin",
    params(("id" = Uuid, Path, description = "Customer id"), ("email_id" = i64, Path, description = "Email id")),
    responses((status = 200, body = CustomerEmailEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn resend_customer_email(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path((id, email_id)): Path<(Uuid, i64)>,
) -> ApiResult<Json<CustomerEmailEnvelope>> {
    let email = emails::resend(&state.db, id, email_id, session.account_id).await?;
    Ok(Json(CustomerEmailEnvelope { email }))
}
