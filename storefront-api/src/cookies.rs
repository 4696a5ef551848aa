//! The API's cookies — the session (`nexus_session`) and the guest cart (`nexus_cart`) — built
//! in one place, so they share their attributes: `Path=/`, `HttpOnly`, `SameSite=Lax`, and
//! `Secure` when the deployment serves HTTPS (`auth.cookie_secure`).

use axum::http::HeaderValue;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A `Set-Cookie` value. Values are tokens the API made itself, so a value that is not a
/// valid header is a bug: it is reported (500, logged) rather than sent as an empty header
/// that would silently log the shopper out.
pub fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: u64,
) -> ApiResult<HeaderValue> {
    let secure = if state.settings.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&cookie).map_err(|error| {
        ApiError::Internal(anyhow::anyhow!(
            "the {name} cookie is not a valid header value: {error}"
        ))
    })
}

/// A `Set-Cookie` value that makes the browser forget the cookie.
pub fn cleared_cookie(state: &AppState, name: &str) -> ApiResult<HeaderValue> {
    set_cookie(state, name, "", 0)
}
