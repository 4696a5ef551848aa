//! The HTML forms of pages viewed without JavaScript (with it, pages call the API
//! themselves): each is one API call on the shopper's behalf, then a redirect — forward on
//! success with the API's cookies, back with the API's message on a refusal.

pub(crate) mod account;
pub(crate) mod cart;
pub(crate) mod checkout;
pub(crate) mod market;
pub(crate) mod returns;
pub(crate) mod reviews;

use std::net::SocketAddr;

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use storefront_client::{Client, ClientError, SetCookies};

use crate::server::Shop;
use crate::server::proxy::forwarded_for;

/// The API as one browser's forms reach it: that browser's cookies and address go along, the
/// cookies the API sets come back to it with the redirect.
pub(crate) struct Shopper {
    pub(crate) api: Client,
    set_cookies: SetCookies,
}

impl Shopper {
    pub(crate) fn new(shop: &Shop, peer: SocketAddr, headers: &HeaderMap) -> Self {
        let cookies = headers
            .get(header::COOKIE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let (api, set_cookies) = shop.api.for_browser(cookies, forwarded_for(headers, peer));
        Self { api, set_cookies }
    }

    /// A 303 to `location` with the cookies the API set meanwhile.
    pub(crate) fn redirect(&self, location: &str) -> Response {
        see_other(location, &self.set_cookies.take())
    }

    /// The form's round trip: on success to `forward(answer)`, on a refusal back with the
    /// API's reason in words the shopper reads.
    pub(crate) fn finish<T>(
        &self,
        answer: Result<T, ClientError>,
        forward: impl FnOnce(T) -> String,
        back: impl FnOnce(&str) -> String,
    ) -> Response {
        match answer {
            Ok(value) => self.redirect(&forward(value)),
            Err(error) => {
                if matches!(
                    error,
                    ClientError::Unexpected { .. } | ClientError::Unreachable(_)
                ) {
                    tracing::warn!(%error, "a shop form's API call failed");
                }
                self.redirect(&back(&crate::api::shopper_message(&error)))
            }
        }
    }
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

/// Only a path on this site: never another host (`//evil.example`, `/\evil.example`, nor
/// either with a tab or a line break inside, which browsers drop before they follow it).
pub(crate) fn local_path<'a>(next: Option<&'a str>, fallback: &'a str) -> &'a str {
    next.filter(|next| {
        next.starts_with('/')
            && !next.starts_with("//")
            && !next.chars().any(|c| c == '\\' || c.is_control())
    })
    .unwrap_or(fallback)
}

/// Where a login or registration form goes on to: a path on this site, else the account.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    local_path(next, "/account").to_owned()
}

pub(crate) fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A slug as the catalog writes them, or nothing: it goes into redirect paths.
pub(crate) fn clean_slug(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(raw)
}

/// A 303 to `location` with these `Set-Cookie` headers.
pub(crate) fn see_other(location: &str, set_cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    for cookie in set_cookies {
        match HeaderValue::from_str(cookie) {
            Ok(value) => {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            // It came from the API as a header value; failing here would be a bug there.
            Err(_) => tracing::error!("the API set a cookie that is not a header value"),
        }
    }
    response
}
