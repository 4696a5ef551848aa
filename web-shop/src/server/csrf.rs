//! The server's half of the forms' CSRF protection (see `crate::csrf`): the page's token,
//! made when the browser has none, and the check in front of every form route.

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use leptos::prelude::*;
use subtle::ConstantTimeEq;

use crate::csrf::{COOKIE, CsrfToken, FIELD, from_cookie_header};

/// The largest form the shop takes (a review is the longest, a few kB).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A new token: two random (v4) UUIDs, 244 random bits, as 64 hex digits.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The token for the page being rendered: the browser's, or a new one sent along as a
/// cookie with the page.
pub(crate) fn token_for_page() -> CsrfToken {
    let existing = use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| from_cookie_header(value).map(str::to_owned))
    });
    if let Some(token) = existing {
        return CsrfToken(token);
    }
    let token = new_token();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(cookie) =
            HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; SameSite=Lax"))
    {
        response.append_header(header::SET_COOKIE, cookie);
    }
    CsrfToken(token)
}

/// Lets a form post through only when its `csrf_token` field equals the browser's
/// `nexus_csrf` cookie; anything else gets a 403 page that says what to do.
pub(crate) async fn require_token(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let cookie = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(from_cookie_header);
    let field = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned());
    let agree = match (cookie, field.as_deref()) {
        (Some(cookie), Some(field)) => bool::from(cookie.as_bytes().ct_eq(field.as_bytes())),
        _ => false,
    };
    if !agree {
        tracing::info!(path = %parts.uri.path(), "form post without a matching CSRF token refused");
        return (
            StatusCode::FORBIDDEN,
            Html(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Form expired</title></head>\
                 <body><h1>This form has expired</h1><p>For your safety the shop only takes forms \
                 from its own pages. Go back, reload the page and send the form again.</p>\
                 <p><a href=\"/\">Back to the shop</a></p></body></html>",
            ),
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
