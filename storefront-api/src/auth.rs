//! Who is calling: the session from `Authorization: Bearer` (console, scripts) or the
//! `nexus_session` cookie (browsers), and the staff gate in front of `/api/v1/admin`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::Response,
};

use crate::{error::ApiError, state::AppState, storage::sessions::Session};

pub const SESSION_COOKIE: &str = "nexus_session";

/// The token a request carries, if any; a bearer token wins over the cookie.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION)
        && let Ok(value) = value.to_str()
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        return Some(token.trim().to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
}

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<Session>, ApiError> {
    if let Some(session) = parts.extensions.get::<Session>() {
        return Ok(Some(session.clone()));
    }
    let Some(token) = session_token(&parts.headers) else {
        return Ok(None);
    };
    let session = state.sessions.find(&token).await?;
    if let Some(session) = &session {
        parts.extensions.insert(session.clone());
    }
    Ok(session)
}

/// A logged-in caller; rejects with 401 otherwise.
pub struct CurrentSession(pub Session);

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        resolve(parts, state)
            .await?
            .map(Self)
            .ok_or(ApiError::Unauthenticated)
    }
}

/// Lets only staff and admins through: 401 without a session, 403 for a customer. Applied
/// as a layer to the whole admin router, so a new admin route cannot forget it.
pub async fn require_staff(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let session = resolve(&mut parts, &state)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !session.role.is_staff() {
        return Err(ApiError::Forbidden);
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// The caller's address: the socket peer, or, when the gateway in front of us is trusted,
/// the last `X-Forwarded-For` hop — the address the gateway itself saw. Earlier hops come
/// from the client and can be forged.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings.http.trust_forwarded_for
            && let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .and_then(|last| last.trim().parse::<IpAddr>().ok())
        {
            return Ok(Self(forwarded.to_string()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Self(peer))
    }
}
