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
    /// The same database through a client for whole-shop batch work (score-all, the training
    /// dataset), patient where requests fail fast (`storage::mongo_batch_database`).
    pub batch_mongo: mongodb::Database,
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

impl AppState {
    /// How long whoever starts work for a request (a checkout, a refund) keeps it before
    /// recovery may take it over: the request deadline, after which that request has been
    /// cancelled or its process is gone, and a second more.
    pub fn request_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.settings.http.request_timeout_secs + 1)
    }
}
