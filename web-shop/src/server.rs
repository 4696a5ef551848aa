//! The shop's HTTP server: Leptos pages, the browser bundle, and `/api/v1` passed through to
//! storefront-api so the browser talks to one origin (in production the nginx gateway does
//! that pass-through and this one is never reached).

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, Form, FromRef, Path, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use http_body_util::BodyExt;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use storefront_client::Client;
use tower_http::services::ServeDir;

use crate::api::ServerApi;
use crate::app::{App, shell};

/// Bodies the pass-through accepts from browsers (carts, checkouts, event batches).
const MAX_PROXY_BODY: usize = 2 * 1024 * 1024;

#[derive(Clone)]
struct Shop {
    leptos: LeptosOptions,
    api_url: String,
    http: reqwest::Client,
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
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("web-shop: {e}");
            ExitCode::from(1)
        }
    }
}

/// The whole shop as an axum router (tests serve it on port 0).
pub fn router(settings: &Settings) -> Router {
    let leptos = LeptosOptions::builder()
        .output_name("web-shop")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .build();
    let shop = Shop {
        leptos: leptos.clone(),
        api_url: settings.api_url.clone(),
        http: reqwest::Client::new(),
    };
    let api = Client::new(settings.api_url.clone());
    let context = move || provide_context(ServerApi(api.clone()));
    let routes = generate_route_list(App);
    let static_files = |dir: &str| ServeDir::new(format!("{}/{dir}", settings.site_root));
    Router::new()
        .route("/api/v1/{*rest}", any(pass_through))
        .route("/cart/add", post(add_form))
        .route("/cart/update", post(update_form))
        .route("/cart/remove", post(remove_form))
        .route("/account/login", post(login_form))
        .route("/account/register", post(register_form))
        .route("/account/logout", post(logout_form))
        .route("/checkout", post(checkout_form))
        .route("/account/profile", post(profile_form))
        .route("/account/password", post(password_form))
        .route("/account/addresses", post(address_form))
        .route("/account/addresses/{id}/delete", post(delete_address_form))
        .route("/reviews", post(review_form))
        .route("/images/products/{file}", get(product_image))
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
        // Pages, the wasm bundle and assets go out gzipped to browsers that accept it; the
        // API's answers passed through keep the encoding the API chose.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(shop)
}

async fn add_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CartForm>,
) -> Response {
    cart_form(shop, CartChange::Add, peer, headers, form).await
}

async fn update_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CartForm>,
) -> Response {
    cart_form(shop, CartChange::Update, peer, headers, form).await
}

async fn remove_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CartForm>,
) -> Response {
    cart_form(shop, CartChange::Remove, peer, headers, form).await
}

const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::HOST,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::CONTENT_LENGTH,
];

/// `/api/v1/*` → storefront-api, unchanged but for the hop-by-hop headers and the client's
/// address appended to `X-Forwarded-For`. Staff routes are not the shop's business: they are
/// refused here so the shop's origin never carries a staff session.
async fn pass_through(
    State(shop): State<Shop>,
    Path(rest): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if rest == "admin" || rest.starts_with("admin/") {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Staff routes are not served by the shop.",
        );
    }
    let (parts, body) = request.into_parts();
    let body: Bytes = match http_body_util::Limited::new(body, MAX_PROXY_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            );
        }
    };
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    match forward(
        &shop,
        parts.method,
        &format!("{rest}{query}"),
        parts.headers,
        peer,
        body,
    )
    .await
    {
        Ok(upstream) => {
            let mut response = Response::new(Body::from(upstream.body));
            *response.status_mut() = upstream.status;
            *response.headers_mut() = upstream.headers;
            response
        }
        Err(response) => response,
    }
}

/// What storefront-api answered.
struct Upstream {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Sends a request on to storefront-api's `/api/v1/{path_and_query}` with the browser's
/// headers; an unreachable API becomes a 502 in the API's envelope.
async fn forward(
    shop: &Shop,
    method: Method,
    path_and_query: &str,
    headers: HeaderMap,
    peer: SocketAddr,
    body: Bytes,
) -> Result<Upstream, Response> {
    let url = format!("{}/api/v1/{path_and_query}", shop.api_url);
    let mut headers = strip(headers);
    let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        headers.insert("x-forwarded-for", value);
    }
    let unavailable =
        |message: &str| api_error(StatusCode::BAD_GATEWAY, "api_unavailable", message);
    let upstream = shop
        .http
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "storefront-api unreachable");
            unavailable("The shop's API cannot be reached; please try again shortly.")
        })?;
    let status = upstream.status();
    let headers = strip(upstream.headers().clone());
    let body = upstream
        .bytes()
        .await
        .map_err(|_| unavailable("The shop's API broke off its answer; please try again."))?;
    Ok(Upstream {
        status,
        headers,
        body,
    })
}

/// One API call on behalf of a form the browser posted: the browser's cookies go along, and
/// a refusal comes back as the message to show the shopper.
async fn call_api(
    shop: &Shop,
    peer: SocketAddr,
    mut headers: HeaderMap,
    method: Method,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<Upstream, String> {
    headers.remove(header::CONTENT_TYPE);
    // The answer is read here, not passed on: it must not come compressed.
    headers.remove(header::ACCEPT_ENCODING);
    if body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Some(key) = idempotency_key.and_then(|k| HeaderValue::from_str(k).ok()) {
        headers.insert(storefront_client::orders::IDEMPOTENCY_KEY, key);
    }
    let body = Bytes::from(body.unwrap_or_default());
    let unreachable =
        || "The shop cannot be reached right now; please try again in a moment.".to_owned();
    let upstream = forward(shop, method, path, headers, peer, body)
        .await
        .map_err(|_| unreachable())?;
    if upstream.status.is_success() {
        return Ok(upstream);
    }
    let status = upstream.status.as_u16();
    let error =
        match serde_json::from_slice::<storefront_client::error::ErrorEnvelope>(&upstream.body) {
            Ok(envelope) => storefront_client::ClientError::Api {
                status,
                body: envelope.error,
            },
            Err(_) => storefront_client::ClientError::Unexpected {
                status,
                message: String::new(),
            },
        };
    Err(crate::api::shopper_message(&error))
}

/// A form's whole round trip: the API call, then a redirect — on success to `success(answer)`
/// with the API's cookies, on refusal to `back(message)`.
#[allow(clippy::too_many_arguments)]
async fn submit(
    shop: &Shop,
    peer: SocketAddr,
    headers: HeaderMap,
    method: Method,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
    success: impl FnOnce(&Upstream) -> String,
    back: impl FnOnce(&str) -> String,
) -> Response {
    match call_api(shop, peer, headers, method, path, body, idempotency_key).await {
        Ok(upstream) => see_other(&success(&upstream), &upstream.headers),
        Err(message) => see_other(&back(&message), &HeaderMap::new()),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// `path` with `params` as its query string.
fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let mut map = leptos_router::params::ParamsMap::new();
    for (key, value) in params {
        if !value.is_empty() {
            map.insert(key.to_string(), (*value).to_owned());
        }
    }
    format!("{path}{}", map.to_query_string())
}

/// The cart forms of pages viewed without JavaScript (with it, the page calls the API
/// itself): each is one API call, then a redirect — to the cart on success, back with the
/// API's message on failure. Cookies the API sets (a guest's new cart) go along.
#[derive(Debug, serde::Deserialize)]
struct CartForm {
    slug: Option<String>,
    variant_id: Option<String>,
    quantity: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum CartChange {
    Add,
    Update,
    Remove,
}

async fn cart_form(
    shop: Shop,
    change: CartChange,
    peer: SocketAddr,
    headers: HeaderMap,
    form: CartForm,
) -> Response {
    let slug = form.slug.as_deref().and_then(clean_slug).map(str::to_owned);
    let back = |message: &str| match (change, &slug) {
        (CartChange::Add, Some(slug)) => {
            with_query(&format!("/products/{slug}"), &[("error", message)])
        }
        _ => with_query("/cart", &[("notice", message)]),
    };
    let Some(variant_id) = form.variant_id.filter(|v| !v.trim().is_empty()) else {
        return see_other(&back("Choose an option first."), &HeaderMap::new());
    };
    let quantity = form.quantity.as_deref().map(str::trim);
    let quantity = match (change, quantity) {
        (CartChange::Remove, _) => 0,
        (_, None | Some("")) => 1,
        (_, Some(raw)) => match raw.parse::<i32>() {
            Ok(n) => n,
            Err(_) => {
                return see_other(&back("Quantity must be a whole number."), &HeaderMap::new());
            }
        },
    };
    let item_path = format!(
        "cart/items/{}",
        storefront_client::path_segment(&variant_id)
    );
    let (method, path, body) = match change {
        CartChange::Add => (
            Method::POST,
            "cart/items".to_owned(),
            json(&serde_json::json!({ "variant_id": variant_id, "quantity": quantity })),
        ),
        CartChange::Update | CartChange::Remove if quantity == 0 => {
            (Method::DELETE, item_path, None)
        }
        CartChange::Update | CartChange::Remove => (
            Method::PUT,
            item_path,
            json(&storefront_client::cart::QuantityChange { quantity }),
        ),
    };
    submit(
        &shop,
        peer,
        headers,
        method,
        &path,
        body,
        None,
        |_| "/cart".to_owned(),
        back,
    )
    .await
}

/// Only a path on this site: never another host (`//evil.example`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_owned()
        }
        _ => "/account".to_owned(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let request = storefront_client::account::LoginRequest {
        email: form.email.trim().to_owned(),
        password: form.password,
    };
    let back = |message: &str| {
        with_query(
            "/account/login",
            &[
                ("error", message),
                ("email", &request.email),
                ("next", &next),
            ],
        )
    };
    let body = json(&request);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/login",
        body,
        None,
        |_| next.clone(),
        back,
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
struct RegisterForm {
    full_name: String,
    email: String,
    password: String,
    next: Option<String>,
}

async fn register_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let request = storefront_client::account::Registration {
        email: form.email.trim().to_owned(),
        password: form.password,
        full_name: form.full_name.trim().to_owned(),
    };
    let back = |message: &str| {
        with_query(
            "/account/register",
            &[
                ("error", message),
                ("email", &request.email),
                ("full_name", &request.full_name),
                ("next", &next),
            ],
        )
    };
    let body = json(&request);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/register",
        body,
        None,
        |_| next.clone(),
        back,
    )
    .await
}

async fn logout_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match call_api(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/logout",
        None,
        None,
    )
    .await
    {
        Ok(upstream) => see_other("/", &upstream.headers),
        // Already logged out (an expired session): nothing to end.
        Err(_) => see_other("/", &HeaderMap::new()),
    }
}

/// A postal address as the shop's forms post it (checkout, the address book).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AddressForm {
    pub full_name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
    #[serde(default)]
    pub phone: String,
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl AddressForm {
    fn shipping_address(&self) -> storefront_client::orders::ShippingAddress {
        storefront_client::orders::ShippingAddress {
            full_name: self.full_name.trim().to_owned(),
            line1: self.line1.trim().to_owned(),
            line2: optional(&self.line2),
            city: self.city.trim().to_owned(),
            region: optional(&self.region),
            postal_code: self.postal_code.trim().to_owned(),
            country: self.country.trim().to_owned(),
            phone: optional(&self.phone),
        }
    }

    /// The fields as query pairs, to put a refused form back as it was typed.
    fn pairs(&self) -> [(&'static str, &str); 8] {
        [
            ("full_name", &self.full_name),
            ("line1", &self.line1),
            ("line2", &self.line2),
            ("city", &self.city),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("phone", &self.phone),
        ]
    }
}

/// The checkout form. Everything but the card goes back into the address on a refusal, so
/// the shopper only retypes the card.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CheckoutForm {
    pub idempotency_key: String,
    #[serde(flatten)]
    pub address: AddressForm,
    pub shipping_method: String,
    #[serde(default)]
    pub discount_code: String,
    pub card_number: String,
    pub expiry: String,
    pub cvc: String,
}

impl CheckoutForm {
    fn request(&self) -> Result<storefront_client::orders::CheckoutRequest, String> {
        use storefront_client::orders::{CheckoutRequest, PaymentDetails};
        let (month, year) = parse_expiry(&self.expiry)
            .ok_or_else(|| "Expiry date: write it as MM/YY, e.g. 08/29.".to_owned())?;
        Ok(CheckoutRequest {
            shipping_address: Some(self.address.shipping_address()),
            address_id: None,
            shipping_method: storefront_client::cart::ShippingMethod::parse(&self.shipping_method)
                .unwrap_or_default(),
            discount_code: optional(&self.discount_code),
            payment: PaymentDetails {
                card_number: self
                    .card_number
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect(),
                expiry_month: month,
                expiry_year: year,
                cvc: self.cvc.trim().to_owned(),
            },
        })
    }

    /// Where to go back to after a refusal: the form with `error` and all but the card.
    fn back(&self, error: &str) -> String {
        let mut pairs = vec![("error", error)];
        pairs.extend(self.address.pairs());
        pairs.push(("shipping_method", &self.shipping_method));
        pairs.push(("discount_code", &self.discount_code));
        with_query("/checkout", &pairs)
    }
}

/// `"08/29"`, `"8/2029"` → (8, 2029).
pub fn parse_expiry(raw: &str) -> Option<(u32, i32)> {
    let (month, year) = raw.trim().split_once('/')?;
    let month: u32 = month.trim().parse().ok()?;
    let year: i32 = year.trim().parse().ok()?;
    let year = if (0..100).contains(&year) {
        2000 + year
    } else {
        year
    };
    (1..=12).contains(&month).then_some((month, year))
}

async fn checkout_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CheckoutForm>,
) -> Response {
    let request = match form.request() {
        Ok(request) => request,
        Err(message) => return see_other(&form.back(&message), &HeaderMap::new()),
    };
    let key = Some(form.idempotency_key.as_str()).filter(|k| !k.is_empty());
    let placed = |upstream: &Upstream| {
        serde_json::from_slice::<storefront_client::orders::OrderEnvelope>(&upstream.body)
            .map_or_else(
                |_| "/account".to_owned(),
                |envelope| format!("/account/orders/{}?placed=1", envelope.order.id),
            )
    };
    let body = json(&request);
    let back = |message: &str| form.back(message);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "checkout",
        body,
        key,
        placed,
        back,
    )
    .await
}

/// A slug as the catalog writes them, or nothing: it goes into redirect paths.
fn clean_slug(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(raw)
}

#[derive(Debug, serde::Deserialize)]
struct ProfileForm {
    full_name: String,
    email: String,
    /// The email the form was rendered with: a different `email` is a change of login.
    current_email: String,
    #[serde(default)]
    current_password: String,
}

/// The account page's "Your details" form: a new name, or a new email with the password.
async fn profile_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    let email = form.email.trim();
    let changes_email = !email.eq_ignore_ascii_case(form.current_email.trim());
    let changes = storefront_client::account::ProfileChanges {
        full_name: Some(form.full_name.trim().to_owned()),
        email: changes_email.then(|| email.to_owned()),
        current_password: (changes_email && !form.current_password.is_empty())
            .then(|| form.current_password.clone()),
    };
    let back = |message: &str| {
        with_query(
            "/account",
            &[
                ("error", message),
                ("full_name", &form.full_name),
                ("email", email),
            ],
        ) + "#details"
    };
    submit(
        &shop,
        peer,
        headers,
        Method::PATCH,
        "me",
        json(&changes),
        None,
        |_| "/account?saved=details#details".to_owned(),
        back,
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn password_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let change = storefront_client::account::PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "me/password",
        json(&change),
        None,
        |_| "/account?saved=password#password".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#password",
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
struct SavedAddressForm {
    /// Empty for a new address.
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
    #[serde(flatten)]
    address: AddressForm,
    /// A checkbox: present ("on") when ticked.
    is_default: Option<String>,
}

/// The address book's form: adds an address, or replaces the one with `id`.
async fn address_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SavedAddressForm>,
) -> Response {
    let id = form.id.trim().parse::<uuid::Uuid>().ok();
    let address = form.address.shipping_address();
    let request = storefront_client::account::AddressRequest {
        label: optional(&form.label),
        full_name: address.full_name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postal_code,
        country: address.country,
        phone: address.phone,
        is_default: form.is_default.is_some(),
    };
    let (method, path, page) = match id {
        Some(id) => (
            Method::PUT,
            format!("me/addresses/{id}"),
            format!("/account/addresses/{id}"),
        ),
        None => (
            Method::POST,
            "me/addresses".to_owned(),
            "/account/addresses/new".to_owned(),
        ),
    };
    let back = |message: &str| {
        let mut pairs = vec![("error", message), ("label", form.label.as_str())];
        pairs.extend(form.address.pairs());
        if form.is_default.is_some() {
            pairs.push(("is_default", "on"));
        }
        with_query(&page, &pairs)
    };
    submit(
        &shop,
        peer,
        headers,
        method,
        &path,
        json(&request),
        None,
        |_| "/account?saved=address#addresses".to_owned(),
        back,
    )
    .await
}

async fn delete_address_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return see_other("/account#addresses", &HeaderMap::new());
    };
    submit(
        &shop,
        peer,
        headers,
        Method::DELETE,
        &format!("me/addresses/{id}"),
        None,
        None,
        |_| "/account?saved=address-deleted#addresses".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#addresses",
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
struct ReviewForm {
    slug: String,
    #[serde(default)]
    rating: String,
    title: String,
    body: String,
}

/// The review form: the review goes to the API; back to the product's reviews, or to the
/// form with the API's reason and the text as typed.
async fn review_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    let Some(slug) = clean_slug(&form.slug) else {
        return see_other("/", &HeaderMap::new());
    };
    let back = |message: &str| {
        with_query(
            &format!("/products/{slug}/review"),
            &[
                ("error", message),
                ("rating", &form.rating),
                ("title", &form.title),
                ("body", &form.body),
            ],
        )
    };
    let Ok(rating) = form.rating.trim().parse::<i64>() else {
        return see_other(&back("Rating: choose 1 to 5 stars."), &HeaderMap::new());
    };
    let draft = storefront_client::reviews::ReviewDraft {
        rating,
        title: form.title.clone(),
        body: form.body.clone(),
    };
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        &format!("products/{slug}/reviews"),
        json(&draft),
        None,
        |_| format!("/products/{slug}?reviewed=1#reviews"),
        back,
    )
    .await
}

/// A 303 to `location`, carrying the `Set-Cookie` headers of `upstream`.
fn see_other(location: &str, upstream: &HeaderMap) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    for cookie in upstream.get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

fn strip(mut headers: HeaderMap) -> HeaderMap {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers
}

/// An answer in the API's own error envelope, for failures of the pass-through itself.
fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = storefront_client::error::ErrorEnvelope {
        error: storefront_client::error::ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
            details: serde_json::Value::Null,
        },
    };
    (status, axum::Json(body)).into_response()
}

/// The demo catalog names images (`/images/products/<slug>-<n>.jpg`) but ships none; until a
/// shop uploads real ones, each name gets a stable drawn placeholder.
async fn product_image(Path(file): Path<String>) -> Response {
    let stem = file
        .rsplit_once('.')
        .map_or(file.as_str(), |(stem, _)| stem);
    let hash = stem.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let hue = hash % 360;
    let initial = stem
        .chars()
        .find(char::is_ascii_alphabetic)
        .unwrap_or('N')
        .to_ascii_uppercase();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320" width="320" height="320"><rect width="320" height="320" fill="hsl({hue} 45% 86%)"/><circle cx="160" cy="150" r="86" fill="hsl({hue} 40% 70%)"/><text x="160" y="182" font-family="DejaVu Sans, sans-serif" font-size="92" text-anchor="middle" fill="hsl({hue} 45% 25%)">{initial}</text></svg>"##
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}
