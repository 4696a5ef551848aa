//! Builds the application from settings. `main` and the tests both start here.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::{
    config::Settings,
    error::ApiError,
    routes,
    state::AppState,
    storage::{
        self, cache::CatalogCache, carts::CartStore, rate_limit::LoginLimiter,
        sessions::SessionStore,
    },
    telemetry,
};

/// Connects (lazily) to PostgreSQL, Redis and MongoDB.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = storage::pg_pool(&settings.database).context("invalid database URL")?;
    let redis = storage::redis_connection(&settings.redis).context("invalid Redis URL")?;
    let mongo = storage::mongo_database(&settings.mongodb)
        .await
        .context("invalid MongoDB URI")?;
    let prefix = settings.redis.key_prefix.clone();
    let payments = Arc::new(crate::payments::SimulatedProvider::new(db.clone()));
    Ok(AppState {
        sessions: SessionStore::new(
            redis.clone(),
            &prefix,
            settings.auth.session_ttl_hours * 3600,
            storage::sessions::IdleTimeouts::from_settings(&settings.auth),
        ),
        catalog_cache: CatalogCache::new(redis.clone(), &prefix, settings.cache.ttl_secs),
        carts: CartStore::new(redis.clone(), &prefix, &settings.cart),
        login_limiter: LoginLimiter::new(redis.clone(), &prefix, &settings.auth),
        db,
        redis,
        mongo,
        settings: Arc::new(settings),
        payments,
        churn: Arc::new(crate::churn::ChurnModels::default()),
    })
}

/// The complete router with every layer.
pub fn app(state: AppState) -> Router {
    let http = state.settings.http.clone();
    let router = routes::router(state)
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(middleware::from_fn_with_state(
            Duration::from_secs(http.request_timeout_secs),
            deadline,
        ))
        .layer(CompressionLayer::new());
    telemetry::instrument(router)
}

/// Abandons a request that takes longer than the configured limit, answering 503 with the
/// error envelope (a slow client body or a stuck dependency).
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ApiError::unavailable(format!("request exceeded {} s", limit.as_secs())).into_response()
        }
    }
}

/// A bound, not yet serving application; `port()` is known before `run()` (tests bind 0).
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("could not listen on {address}"))?;
        let state = build_state(settings).await?;
        // Index creation must not hold up the start (MongoDB may be down; /readyz says so).
        let mongo = state.mongo.clone();
        tokio::spawn(async move {
            if let Err(error) = storage::events::ensure_indexes(&mongo).await {
                tracing::warn!(%error, "event indexes not created yet");
            }
            if let Err(error) = storage::reviews::ensure_indexes(&mongo).await {
                tracing::warn!(%error, "review indexes not created yet");
            }
            if let Err(error) = storage::churn::ensure_indexes(&mongo).await {
                tracing::warn!(%error, "churn indexes not created yet");
            }
        });
        // Loads the active churn model and follows activations made on any instance.
        crate::churn::spawn_listener(state.clone());
        // Settles checkouts interrupted past their deadline (this or another instance died).
        crate::checkout::spawn_reaper(state.clone());
        Ok(Self {
            listener,
            router: app(state),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(address = %self.listener.local_addr()?, "storefront-api listening");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        drop(tokio::signal::ctrl_c().await);
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
