//! Staff-only routes under `/api/v1/admin`. Each operation names the permission it needs as
//! its OpenAPI security scope (`security(("bearer" = ["orders"]))`); the router as a whole
//! sits behind [`crate::auth::require_permission`], which enforces exactly that, so handlers
//! never check roles themselves.

pub mod audit;
pub mod campaigns;
pub mod catalog;
pub mod catalog_import;
pub mod churn;
pub mod customers;
pub mod dashboard;
pub mod discounts;
pub mod orders;
pub mod promotions;
pub mod returns;
pub mod segments;
pub mod team;
pub mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    catalog::router()
        .merge(catalog_import::router())
        .merge(customers::router())
        .merge(dashboard::router())
        .merge(churn::router())
        .merge(audit::router())
        .merge(campaigns::router())
        .merge(discounts::router())
        .merge(orders::router())
        .merge(promotions::router())
        .merge(returns::router())
        .merge(segments::router())
        .merge(team::router())
        .merge(webhooks::router())
        .merge(crate::routes::reviews::admin_router())
}
