//! Staff view of customers: search and detail.

use axum::extract::State;
use storefront_client::staff::customers::{
    CustomerDetail, CustomerEnvelope, CustomerList, CustomerParams,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    domain::account::Role,
    error::{ApiError, ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage::{accounts, paged},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers))
        .routes(routes!(customer))
}

/// Customers, newest first.
#[utoipa::path(get, path = "/api/v1/admin/customers", tag = "admin", params(CustomerParams),
    responses((status = 200, body = CustomerList)), security(("bearer" = ["customers"])))]
pub async fn list_customers(
    State(state): State<AppState>,
    Query(params): Query<CustomerParams>,
) -> ApiResult<Json<CustomerList>> {
    let page = Page::parse(params.page, params.limit)?;
    let text = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (customers, total) = paged(page.limit, page.offset(), |limit, offset| {
        accounts::staff_customers(&state.db, text, limit, offset)
    })
    .await?;
    Ok(Json(CustomerList {
        customers,
        meta: page.meta(total),
    }))
}

/// One customer with their addresses.
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["customers"])))]
pub async fn customer(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CustomerEnvelope>> {
    let customer = accounts::account(&state.db, id).await?;
    if customer.role != Role::Customer {
        return Err(ApiError::NotFound("customer"));
    }
    let addresses = accounts::addresses(&state.db, id).await?;
    Ok(Json(CustomerEnvelope {
        customer: CustomerDetail {
            account: customer,
            addresses,
        },
    }))
}
