//! `/api/v1/*` passed through to storefront-api, so the browser talks to one origin.

use std::net::SocketAddr;

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Path, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use http_body_util::BodyExt;

use crate::server::*;

/// Bodies the pass-through accepts from browsers (carts, checkouts, event batches).
pub(crate) const MAX_PROXY_BODY: usize = 2 * 1024 * 1024;

pub(crate) const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::HOST,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::CONTENT_LENGTH,
];

/// `/api/v1/*` → storefront-api, unchanged but for the hop-by-hop headers and the client's
/// address appended to `X-Forwarded-For`. Staff routes are not the shop's business: they are
/// refused here so the shop's origin never carries a staff session.
pub(crate) async fn pass_through(
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
pub(crate) struct Upstream {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Sends a request on to storefront-api's `/api/v1/{path_and_query}` with the browser's
/// headers; an unreachable API becomes a 502 in the API's envelope.
pub(crate) async fn forward(
    shop: &Shop,
    method: Method,
    path_and_query: &str,
    headers: HeaderMap,
    peer: SocketAddr,
    body: Bytes,
) -> Result<Upstream, Response> {
    let url = format!("{}/api/v1/{path_and_query}", shop.api_url);
    let mut headers = strip(headers);
    if let Ok(value) = HeaderValue::from_str(&forwarded_for(&headers, peer)) {
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

/// `X-Forwarded-For` for a request passed on: the chain so far with the browser's address
/// appended (the API's rate limits count per shopper, not per shop server).
pub(crate) fn forwarded_for(headers: &HeaderMap, peer: SocketAddr) -> String {
    match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    }
}

pub(crate) fn strip(mut headers: HeaderMap) -> HeaderMap {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers
}

/// An answer in the API's own error envelope, for failures of the pass-through itself.
pub(crate) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = storefront_client::error::ErrorEnvelope {
        error: storefront_client::error::ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
            details: serde_json::Value::Null,
        },
    };
    (status, axum::Json(body)).into_response()
}
