//! The HTML forms of pages viewed without JavaScript (with it, pages call the API
//! themselves): each is one API call on the shopper's behalf, then a redirect — forward on
//! success with the API's cookies, back with the API's message on a refusal.

pub(crate) mod account;
pub(crate) mod cart;
pub(crate) mod checkout;
pub(crate) mod reviews;

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::server::proxy::*;
use crate::server::*;

/// One API call on behalf of a form the browser posted: the browser's cookies go along, and
/// a refusal comes back as the message to show the shopper.
pub(crate) async fn call_api(
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
pub(crate) async fn submit(
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

pub(crate) fn json<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// `path` with `params` as its query string.
pub(crate) fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let mut map = leptos_router::params::ParamsMap::new();
    for (key, value) in params {
        if !value.is_empty() {
            map.insert(key.to_string(), (*value).to_owned());
        }
    }
    format!("{path}{}", map.to_query_string())
}

/// Only a path on this site: never another host (`//evil.example`).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_owned()
        }
        _ => "/account".to_owned(),
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

pub(crate) fn optional(s: &str) -> Option<String> {
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

/// A slug as the catalog writes them, or nothing: it goes into redirect paths.
pub(crate) fn clean_slug(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(raw)
}

/// A 303 to `location`, carrying the `Set-Cookie` headers of `upstream`.
pub(crate) fn see_other(location: &str, upstream: &HeaderMap) -> Response {
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
