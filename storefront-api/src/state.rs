//! What every request handler can reach: connections and settings, cheap to clone.

use std::sync::Arc;

use sqlx::PgPool;

use crate::{
    config::Settings,
    storage::{
        cache::CatalogCache, carts::CartStore, rate_limit::LoginLimiter, sessions::SessionStore,
    },
};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: redis::aio::ConnectionManager,
    pub mongo: mongodb::Database,
    pub sessions: SessionStore,
    pub catalog_cache: CatalogCache,
    pub carts: CartStore,
    pub login_limiter: LoginLimiter,
    pub settings: Arc<Settings>,
    /// The payment network (simulated unless a real provider is wired in).
    pub payments: Arc<dyn crate::payments::PaymentProvider>,
    /// The active churn model, swapped in place when staff activate another.
    pub churn: Arc<crate::churn::ChurnModels>,
}
