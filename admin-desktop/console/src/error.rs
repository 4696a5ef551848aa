//! What goes wrong, in words for staff.

use serde::Serialize;
use storefront_client::ClientError;
use storefront_client::error::FieldError;

/// Serialised for the window as `{kind, message, code, fields}`: `message` is the sentence to
/// show, `code` the API's error code when it refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConsoleError {
    #[error("Log in first.")]
    NotLoggedIn,
    #[error("Your session has ended; log in again.")]
    SessionExpired,
    #[error("The API at {address} cannot be reached. Is it running, and is the address right?")]
    Unreachable { address: String, detail: String },
    /// The API refused: its message, and the fields it named.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
        fields: Vec<FieldError>,
    },
    /// Input the console itself rejects before calling the API.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("Cancelled.")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

impl Serialize for ConsoleError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kind = match self {
            Self::NotLoggedIn => "not_logged_in",
            Self::SessionExpired => "session_expired",
            Self::Unreachable { .. } => "unreachable",
            Self::Refused { .. } => "refused",
            Self::Invalid { .. } => "invalid",
            Self::Cancelled => "cancelled",
            Self::Failed(_) => "failed",
        };
        let fields = match self {
            Self::Refused { fields, .. } => fields.clone(),
            Self::Invalid { field, message } => {
                vec![FieldError::new(field.clone(), message.clone())]
            }
            _ => Vec::new(),
        };
        let mut out = serializer.serialize_struct("ConsoleError", 4)?;
        out.serialize_field("kind", kind)?;
        out.serialize_field("message", &self.to_string())?;
        out.serialize_field("code", &self.code())?;
        out.serialize_field("fields", &fields)?;
        out.end()
    }
}

impl ConsoleError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A client error of a call to the API at `address`.
    pub fn from_client(address: &str, error: ClientError) -> Self {
        match error {
            ClientError::Unreachable(detail) => Self::Unreachable {
                address: address.to_owned(),
                detail,
            },
            ClientError::Api { status: 401, .. } => Self::SessionExpired,
            ClientError::Api { status, body } => {
                let fields = body.field_errors();
                let message = match fields.first() {
                    Some(field) if fields.len() == 1 => {
                        format!("{}: {}", field.field.replace('_', " "), field.message)
                    }
                    _ => body.message.clone(),
                };
                Self::Refused {
                    status,
                    code: body.code,
                    message,
                    fields,
                }
            }
            ClientError::Unexpected { status, message } => Self::Failed(format!(
                "The API answered unexpectedly ({status}): {message}"
            )),
        }
    }

    /// The API's error code, when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}
