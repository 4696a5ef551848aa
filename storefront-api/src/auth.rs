//! Who is calling: the session from `Authorization: Bearer` (console, scripts) or the
//! `nexus_session` cookie (browsers), and the permission gate in front of `/api/v1/admin`.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::Response,
};
use serde_json::Value;
use utoipa::openapi::OpenApi;

use crate::{
    domain::access::{Permission, RolePermissions},
    error::ApiError,
    state::AppState,
    storage::sessions::Session,
};

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

/// The permission each admin operation needs, keyed by method and route template. It is
/// read from the admin routes' own OpenAPI document — each operation names its permission as
/// the scope of its security requirement — so what `/openapi.json` says is what is enforced.
#[derive(Clone)]
pub struct AdminGate {
    state: AppState,
    needs: Arc<HashMap<(Method, String), Permission>>,
}

impl AdminGate {
    /// Fails, naming the operation, if an admin operation names no permission, several, or
    /// one that does not exist: a new admin route cannot be left open by forgetting it.
    pub fn new(state: AppState, admin_routes: &OpenApi) -> Result<Self, String> {
        let document = serde_json::to_value(admin_routes).map_err(|error| error.to_string())?;
        let mut needs = HashMap::new();
        let paths = document["paths"].as_object().cloned().unwrap_or_default();
        for (path, operations) in &paths {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                let scopes: BTreeSet<&str> = operation["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .flat_map(|requirement| requirement.values())
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let permission = match scopes.iter().collect::<Vec<_>>().as_slice() {
                    [scope] => Permission::parse(scope),
                    _ => None,
                }
                .ok_or_else(|| {
                    format!(
                        "{method} {path} must name exactly one known permission as its \
                         security scope (found {scopes:?})"
                    )
                })?;
                needs.insert((method, path.clone()), permission);
            }
        }
        Ok(Self {
            state,
            needs: Arc::new(needs),
        })
    }

    /// What the operation at `method` and route template `path` needs.
    pub fn needs(&self, method: &Method, path: &str) -> Option<Permission> {
        // Axum answers HEAD with the GET route.
        let method = if method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        self.needs.get(&(method, path.to_owned())).copied()
    }
}

/// The gate in front of `/api/v1/admin`: 401 without a session, 403 `forbidden` for a customer,
/// and 403 `forbidden` naming the permission (and the roles that have it) for a staff role
/// without the one the operation needs. Applied as a layer to the whole admin router, so a
/// handler never checks roles itself.
pub async fn require_permission(
    State(gate): State<AdminGate>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let session = resolve(&mut parts, &gate.state)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !session.role.is_staff() {
        return Err(ApiError::Forbidden);
    }
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    match route.and_then(|route| gate.needs(&parts.method, route)) {
        Some(permission) if session.role.may(permission) => {}
        Some(permission) => return Err(ApiError::MissingPermission(permission)),
        None => {
            // Unreachable while AdminGate::new checks every route; closed if it ever is.
            tracing::error!(?route, method = %parts.method, "admin route without a permission");
            return Err(ApiError::Forbidden);
        }
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
