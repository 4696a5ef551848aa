//! The shop's HTTP server: Leptos pages, the browser bundle, and `/api/v1` passed through to
//! storefront-api so the browser talks to one origin (in production the nginx gateway does
//! that pass-through and this one is never reached).

pub(crate) mod csrf;
mod forms;
mod images;
mod proxy;

use forms::account;

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::{
    Router,
    extract::FromRef,
    routing::{any, get, post},
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use storefront_client::Client;
use tower_http::services::ServeDir;

use crate::api::ServerApi;
use crate::app::{App, shell};

#[derive(Clone)]
pub(crate) struct Shop {
    pub(crate) leptos: LeptosOptions,
    /// For `/api/v1` passed through as it is.
    pub(crate) api_url: String,
    pub(crate) http: reqwest::Client,
    /// For the HTML forms, which call the API on a shopper's behalf.
    pub(crate) api: Client,
    /// The markets the shop offers, to forget a shopper's choice it no longer does.
    pub(crate) markets: forms::market::OfferedMarkets,
}

impl FromRef<Shop> for LeptosOptions {
    fn from_ref(shop: &Shop) -> Self {
        shop.leptos.clone()
    }
}

/// Where the shop listens and what it talks to, from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub addr: SocketAddr,
    pub api_url: String,
    /// The built site: `pkg/` (the wasm bundle) and `assets/`.
    pub site_root: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        let raw_addr = var("NEXUS_SHOP_ADDR", "127.0.0.1:3000");
        let addr = raw_addr.parse().map_err(|_| {
            format!("NEXUS_SHOP_ADDR `{raw_addr}` is not an address like 127.0.0.1:3000")
        })?;
        let api_url = var("NEXUS_SHOP_API_URL", "http://127.0.0.1:8080");
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(format!(
                "NEXUS_SHOP_API_URL `{api_url}` must start with http:// or https://"
            ));
        }
        Ok(Self {
            addr,
            api_url: api_url.trim_end_matches('/').to_owned(),
            site_root: var("LEPTOS_SITE_ROOT", "target/site"),
        })
    }
}

pub async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("web-shop: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("web-shop: cannot listen on {}: {e}", settings.addr);
            return ExitCode::from(1);
        }
    };
    tracing::info!(addr = %settings.addr, api = %settings.api_url, "web shop listening");
    let app = router(&settings);
    match axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("web-shop: {e}");
            ExitCode::from(1)
        }
    }
}

/// The HTML forms' posts, each checked for its CSRF token first.
/// Ctrl-C or SIGTERM (what a container runtime or Kubernetes sends): stop taking connections
/// and finish the requests in flight.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => drop(signal.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

fn form_routes() -> Router<Shop> {
    Router::new()
        // add, update or remove
        .route("/cart/{change}", post(forms::cart::cart_form_route))
        .route("/account/login", post(account::login_form))
        .route("/account/register", post(account::register_form))
        .route("/account/logout", post(account::logout_form))
        .route("/checkout", post(forms::checkout::checkout_form))
        .route("/account/profile", post(account::profile_form))
        .route("/account/password", post(account::password_form))
        .route(
            "/account/forgot-password",
            post(account::forgot_password_form),
        )
        .route(
            "/account/reset-password",
            post(account::reset_password_form),
        )
        .route("/account/marketing", post(account::marketing_form))
        .route("/unsubscribe", post(account::unsubscribe_form))
        .route("/account/delete", post(account::delete_account_form))
        .route("/account/addresses", post(account::address_form))
        .route(
            "/account/addresses/{id}/delete",
            post(account::delete_address_form),
        )
        .route("/reviews", post(forms::reviews::review_form))
        .route("/returns", post(forms::returns::return_form))
        .route("/market", post(forms::market::market_form))
        .route_layer(axum::middleware::from_fn(csrf::require_token))
}

/// The whole shop as an axum router (tests serve it on port 0).
pub fn router(settings: &Settings) -> Router {
    let leptos = LeptosOptions::builder()
        .output_name("web-shop")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .build();
    let api = Client::new(settings.api_url.clone());
    let shop = Shop {
        leptos: leptos.clone(),
        api_url: settings.api_url.clone(),
        http: reqwest::Client::new(),
        api: api.clone(),
        markets: forms::market::OfferedMarkets::default(),
    };
    let context = move || provide_context(ServerApi(api.clone()));
    let routes = generate_route_list(App);
    let static_files = |dir: &str| ServeDir::new(format!("{}/{dir}", settings.site_root));
    Router::new()
        .route("/api/v1/{*rest}", any(proxy::pass_through))
        .merge(form_routes())
        .route("/images/products/{file}", get(images::product_image))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/pkg", static_files("pkg"))
        .nest_service("/assets", static_files("assets"))
        .leptos_routes_with_context(&shop, routes, context.clone(), {
            let leptos = leptos.clone();
            move || shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<Shop, _>(
            context, shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shop.clone(),
            forms::market::forget_stale_market,
        ))
        // Pages, the wasm bundle and assets go out gzipped to browsers that accept it; the
        // API's answers passed through keep the encoding the API chose.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(shop)
}
