//! Builds the application from settings. `main` and the tests both start here.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tower::ServiceExt;
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
    settings
        .check()
        .map_err(anyhow::Error::msg)
        .context("invalid configuration")?;
    let db = storage::pg_pool(&settings.database).context("invalid database URL")?;
    let redis = storage::redis_connection(&settings.redis).context("invalid Redis URL")?;
    let mongo = storage::mongo_database(&settings.mongodb)
        .await
        .context("invalid MongoDB URI")?;
    let batch_mongo = storage::mongo_batch_database(&settings.mongodb)
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
        batch_mongo,
        settings: Arc::new(settings),
        payments,
        churn: Arc::new(crate::churn::ChurnModels::default()),
    })
}

/// The complete router with every layer; `instance` names this instance on every response.
pub fn app(state: AppState, instance: HeaderValue) -> anyhow::Result<Router> {
    let http = state.settings.http.clone();
    let router = routes::router(state)?
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(middleware::from_fn_with_state(
            Duration::from_secs(http.request_timeout_secs),
            deadline,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(refuse_too_many_headers))
        .layer(middleware::from_fn_with_state(instance, name_instance));
    Ok(telemetry::instrument(router))
}

/// Which instance answered, on every response: behind the gateway, it tells requests spread
/// over the instances (and a retry landing on another) apart.
pub const INSTANCE_HEADER: &str = "x-nexus-instance";

async fn name_instance(
    State(instance): State<HeaderValue>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(HeaderName::from_static(INSTANCE_HEADER), instance);
    response
}

/// Header fields a request may carry (as Apache's and Tomcat's defaults); more is a 431.
const MAX_HEADERS: usize = 100;
/// Header fields hyper parses before it refuses by itself, with an empty 431: far above
/// `MAX_HEADERS`, so that every request a client could mean is answered with the envelope.
const MAX_PARSED_HEADERS: usize = 1_000;

/// A request with more than `MAX_HEADERS` header fields gets 431 with the error envelope.
async fn refuse_too_many_headers(request: Request, next: Next) -> Response {
    if request.headers().len() > MAX_HEADERS {
        return ApiError::TooManyHeaders { limit: MAX_HEADERS }.into_response();
    }
    next.run(request).await
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
    header_read_timeout: Duration,
    drain_timeout: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("could not listen on {address}"))?;
        let instance = settings.http.instance(listener.local_addr()?.port());
        let instance = HeaderValue::from_str(&instance)
            .with_context(|| format!("http.instance_name `{instance}` cannot be a header value"))?;
        let header_read_timeout = Duration::from_secs(settings.http.header_read_timeout_secs);
        let drain_timeout = Duration::from_secs(settings.http.drain_timeout_secs);
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
        // Scores every customer when a scheduled run is due (one instance runs each).
        if state.settings.scoring.schedule_enabled {
            crate::churn::spawn_schedule(state.clone());
        }
        // Settles checkouts interrupted past their deadline (this or another instance died).
        crate::checkout::spawn_reaper(state.clone());
        // Sends the outbox's messages to the webhook endpoints (every instance shares it).
        if state.settings.relay.enabled {
            crate::relay::spawn(state.clone());
        }
        Ok(Self {
            listener,
            router: app(state, instance)?,
            header_read_timeout,
            drain_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until SIGINT/SIGTERM, then stops taking connections and lets the requests in
    /// flight finish, for `http.drain_timeout_secs` at most.
    ///
    /// hyper is driven directly rather than through `axum::serve`, which does not expose its
    /// limits: it parses up to `MAX_PARSED_HEADERS` header fields, so that a request with too
    /// many is answered by `refuse_too_many_headers` with the error envelope (hyper's own 431
    /// has an empty body), and a client gets `http.header_read_timeout_secs` to send its
    /// headers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            header_read_timeout,
            drain_timeout,
        } = self;
        tracing::info!(address = %listener.local_addr()?, "storefront-api listening");
        let mut http = hyper::server::conn::http1::Builder::new();
        http.max_headers(MAX_PARSED_HEADERS)
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        let connections = hyper_util::server::graceful::GracefulShutdown::new();
        let mut stopping = std::pin::pin!(shutdown_signal());
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause instead of spinning.
                        tracing::warn!(%error, "could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut stopping => break,
            };
            let router = router.clone();
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                router.clone().oneshot(request)
            });
            // No upgrades: the API serves no WebSockets.
            let connection = connections
                .watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, %remote, "connection ended with an error");
                }
            });
        }
        // Closing the listener refuses new connections at once (a gateway sends them to
        // another instance); idle keep-alive connections close, busy ones after their answer.
        drop(listener);
        let open = connections.count();
        if tokio::time::timeout(drain_timeout, connections.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                drain_timeout_secs = drain_timeout.as_secs(),
                "requests still running when the drain deadline passed were cut off"
            );
        } else {
            tracing::info!(
                connections = open,
                "drained: every request in flight finished"
            );
        }
        Ok(())
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
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
