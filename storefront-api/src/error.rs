//! The one error type of the HTTP layer and its stable JSON envelope:
//! `{"error": {"code": "...", "message": "...", "details": ...}}`.
//!
//! Client mistakes map to 4xx with a precise message; internal failures are logged with their
//! cause and answered with a generic 500 that leaks nothing.

use axum::{
    extract::{
        FromRequest, FromRequestParts,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

pub use storefront_client::error::{ErrorBody, ErrorEnvelope};

pub use crate::domain::FieldError;

const CONCURRENT_UPDATE: &str = "concurrent_update";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("forbidden")]
    Forbidden,
    /// A staff role without the permission the operation needs.
    #[error("Your role may not do this: it needs the {} permission.", .0.as_str())]
    MissingPermission(storefront_client::account::Permission),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Value,
    },
    /// A request understood but refused whole for what it holds, with a structured list of
    /// why (a catalog file's problems by line and column).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("This route does not accept that method.")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("The request carries more than {limit} header fields.")]
    TooManyHeaders { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("{message}")]
    PaymentDeclined {
        code: String,
        message: String,
        order_id: uuid::Uuid,
    },
    #[error("The payment provider did not answer; nothing was charged. Try again shortly.")]
    PaymentUnavailable { order_id: uuid::Uuid },
    /// A dependency is down or too slow (named when it is one of ours: `postgres`, `redis`,
    /// `mongodb`, `payment_provider`), or the request ran out of time.
    #[error("service unavailable: {cause}")]
    Unavailable {
        dependency: Option<&'static str>,
        cause: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The request could not be served for now (its deadline passed, a model not loadable).
    pub fn unavailable(cause: impl Into<String>) -> Self {
        Self::Unavailable {
            dependency: None,
            cause: cause.into(),
        }
    }

    /// `dependency` is down or did not answer in time; the answer names it.
    pub fn dependency_down(dependency: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            dependency: Some(dependency),
            cause: format!("{dependency}: {cause}"),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// A lost race on the database (`concurrent_update`): the transaction rolled back whole,
    /// so trying the same request again is the fix — not an answer to record.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict { code, .. } if *code == CONCURRENT_UPDATE)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated | Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::MissingPermission(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyHeaders { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PaymentDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::PaymentUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Unauthorized { code, .. } => code,
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden | Self::MissingPermission(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyHeaders { .. } => "too_many_headers",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::PaymentDeclined { .. } => "payment_declined",
            Self::PaymentUnavailable { .. } => "payment_unavailable",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Validation(_) => "The request has invalid fields; see details.".into(),
            Self::Unauthenticated => "Log in to do this.".into(),
            Self::Forbidden => "Your account may not do this.".into(),
            Self::PayloadTooLarge => "The request body is larger than the server accepts.".into(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            Self::Unavailable {
                dependency: Some(dependency),
                ..
            } => format!("The service is temporarily unavailable: {dependency} is not answering."),
            Self::Unavailable { .. } => "The service is temporarily unavailable.".into(),
            Self::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
            other => other.to_string(),
        }
    }

    fn details(&self) -> Value {
        match self {
            Self::Validation(fields) => serde_json::json!({ "fields": fields }),
            Self::Conflict { details, .. } | Self::Unprocessable { details, .. } => details.clone(),
            Self::RateLimited { retry_after_secs } => {
                serde_json::json!({ "retry_after_secs": retry_after_secs })
            }
            Self::PaymentDeclined { code, order_id, .. } => {
                serde_json::json!({ "reason": code, "order_id": order_id, "cart_kept": true })
            }
            Self::PaymentUnavailable { order_id } => {
                serde_json::json!({ "order_id": order_id, "cart_kept": true })
            }
            Self::Unavailable {
                dependency: Some(dependency),
                ..
            } => serde_json::json!({ "dependency": dependency }),
            Self::TooManyHeaders { limit } => serde_json::json!({ "limit": limit }),
            Self::MissingPermission(permission) => serde_json::json!({
                "permission": permission,
                "roles": crate::domain::access::roles_with(*permission),
            }),
            _ => Value::Null,
        }
    }
}

impl ApiError {
    /// The order a refusal is about, if any (a declined payment cancels one).
    pub fn order_id(&self) -> Option<uuid::Uuid> {
        match self {
            Self::PaymentDeclined { order_id, .. } | Self::PaymentUnavailable { order_id } => {
                Some(*order_id)
            }
            _ => None,
        }
    }

    /// The JSON body this error is answered with.
    pub fn envelope(&self) -> Value {
        serde_json::json!({
            "error": {
                "code": self.code(),
                "message": self.message(),
                "details": self.details(),
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::Unavailable { cause, .. } => tracing::warn!(%cause, "dependency unavailable"),
            _ => tracing::debug!(code = self.code(), "client error"),
        }
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_owned(),
                message: self.message(),
                details: self.details(),
            },
        };
        let mut response = (status, axum::Json(envelope)).into_response();
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// PostgreSQL went away under the request: the connection broke or could not be made, or
/// the server is shutting down or starting (SQLSTATE classes 08 and 57P). Nothing was
/// committed that the client has not heard of; retrying is safe.
fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // Deadlock or serialisation failure: the transaction was rolled back whole, so the
        // client may simply try again.
        let retryable = error
            .as_database_error()
            .and_then(|db| db.code())
            .is_some_and(|code| code == "40P01" || code == "40001");
        match error {
            sqlx::Error::PoolTimedOut => Self::dependency_down("postgres", "pool timed out"),
            _ if is_connection_lost(&error) => Self::dependency_down("postgres", error),
            _ if retryable => {
                tracing::warn!(%error, "transaction lost a race; client asked to retry");
                Self::conflict(
                    CONCURRENT_UPDATE,
                    "Someone changed the same data at the same moment; nothing was saved. Try again.",
                )
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<crate::storage::StoreError> for ApiError {
    fn from(error: crate::storage::StoreError) -> Self {
        use crate::storage::StoreError;
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict { code, message } => Self::conflict(code, message),
            StoreError::Invalid(field) => Self::Validation(vec![field]),
            StoreError::Database(error) => error.into(),
            StoreError::Redis(error) => error.into(),
            StoreError::Mongo(error) => Self::dependency_down("mongodb", error),
            StoreError::Corrupt(what) => Self::Internal(anyhow::anyhow!(what)),
        }
    }
}

impl From<mongodb::error::Error> for ApiError {
    /// Reviews, events and the model registry live in MongoDB: mapped like every store error.
    fn from(error: mongodb::error::Error) -> Self {
        crate::storage::StoreError::Mongo(error).into()
    }
}

impl From<redis::RedisError> for ApiError {
    /// Sessions, carts and rate limits live in Redis: while it is unreachable the API is
    /// unavailable (503), not broken (500).
    fn from(error: redis::RedisError) -> Self {
        if error.is_io_error()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
        {
            Self::dependency_down("redis", error)
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let text = rejection.body_text();
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => Self::Validation(vec![field_error(
                &text,
                "Failed to deserialize the JSON body into the target type: ",
                "body",
            )]),
            _ => Self::bad_request("malformed_json", text),
        }
    }
}

impl From<QueryRejection> for ApiError {
    /// A query parameter of the wrong type is a field error like any other (422).
    fn from(rejection: QueryRejection) -> Self {
        Self::Validation(vec![field_error(
            &rejection.body_text(),
            "Failed to deserialize query string: ",
            "query",
        )])
    }
}

/// Turns serde's "path: message at line 1 column 9" into a field error naming the field.
fn field_error(text: &str, prefix: &str, fallback_field: &str) -> FieldError {
    let rest = text.strip_prefix(prefix).unwrap_or(text).trim();
    let rest = rest
        .rsplit_once(" at line ")
        .map_or(rest, |(message, _)| message);
    let quoted = |lead: &str| {
        rest.strip_prefix(lead)
            .and_then(|after| after.split_once('`'))
            .map(|(field, _)| field.to_owned())
    };
    if let Some(field) = quoted("missing field `") {
        return FieldError::new(field, "is required");
    }
    if let Some(field) = quoted("unknown field `") {
        return FieldError::new(field, "is not a field of this request");
    }
    match rest.split_once(": ") {
        Some((path, message)) if !path.is_empty() && !path.contains(' ') => {
            FieldError::new(path, message)
        }
        _ => FieldError::new(fallback_field, rest),
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request("invalid_path", rejection.body_text())
    }
}

/// `axum::Json` whose rejection is an [`ApiError`], so bad bodies get the envelope. Text
/// with a NUL character (`\u0000`) is refused here: PostgreSQL cannot store it.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::trim)
            .is_some_and(|mime| {
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(Self::Rejection::UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::bad_request("unreadable_body", rejection.body_text())
                }
            })?;
        if bytes.windows(6).any(|window| window == b"\\u0000") {
            return Err(ApiError::invalid(
                "body",
                "text must not contain NUL (\\u0000) characters",
            ));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with an [`ApiError`] rejection.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with an [`ApiError`] rejection.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_field_errors() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        let cases = [
            (
                "name: invalid type: integer `42`, expected a string at line 1 column 11",
                "name",
                "invalid type: integer `42`, expected a string",
            ),
            (
                "missing field `name` at line 1 column 2",
                "name",
                "is required",
            ),
            (
                "unknown field `colour`, expected one of `name`, `slug` at line 1 column 9",
                "colour",
                "is not a field of this request",
            ),
            (
                "address.country: invalid length at line 1 column 40",
                "address.country",
                "invalid length",
            ),
            ("EOF while parsing", "body", "EOF while parsing"),
        ];
        for (text, field, message) in cases {
            let error = field_error(&format!("{prefix}{text}"), prefix, "body");
            assert_eq!(
                (error.field.as_str(), error.message.as_str()),
                (field, message),
                "{text}"
            );
        }
    }
}
