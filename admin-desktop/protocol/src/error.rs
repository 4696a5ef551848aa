//! What goes wrong, in words for staff: [`ConsoleError`] on the console's side, sent to the
//! window as a [`CommandError`].

use serde::{Deserialize, Serialize};
use storefront_client::error::FieldError;

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

impl ConsoleError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The API's error code, when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotLoggedIn => ErrorKind::NotLoggedIn,
            Self::SessionExpired => ErrorKind::SessionExpired,
            Self::Unreachable { .. } => ErrorKind::Unreachable,
            Self::Refused { .. } => ErrorKind::Refused,
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Failed(_) => ErrorKind::Failed,
        }
    }
}

/// Which [`ConsoleError`] it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotLoggedIn,
    SessionExpired,
    Unreachable,
    Refused,
    Invalid,
    Cancelled,
    Failed,
}

/// A [`ConsoleError`] as the window receives it: `message` is the sentence to show, `code`
/// the API's error code when it refused, `fields` the inputs to mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl CommandError {
    /// A failure on the window's side of the bridge (the command never ran, or its answer
    /// could not be read).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Failed,
            message: message.into(),
            code: None,
            fields: Vec::new(),
        }
    }

    /// Input the window itself rejects before calling the console.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            ..Self::failed(message)
        }
    }

    /// The window should go back to the login screen.
    pub fn session_over(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::NotLoggedIn | ErrorKind::SessionExpired
        )
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<&ConsoleError> for CommandError {
    fn from(error: &ConsoleError) -> Self {
        let fields = match error {
            ConsoleError::Refused { fields, .. } => fields.clone(),
            ConsoleError::Invalid { field, message } => {
                vec![FieldError::new(field.clone(), message.clone())]
            }
            _ => Vec::new(),
        };
        Self {
            kind: error.kind(),
            message: error.to_string(),
            code: error.code().map(str::to_owned),
            fields,
        }
    }
}

impl Serialize for ConsoleError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CommandError::from(self).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_reads_a_refusal_with_its_sentence_code_and_fields() {
        let error = ConsoleError::Refused {
            status: 409,
            code: "sku_taken".into(),
            message: "sku: is taken".into(),
            fields: vec![FieldError::new("sku", "is taken")],
        };
        let wire = serde_json::to_value(&error).unwrap();
        let read: CommandError = serde_json::from_value(wire).unwrap();
        assert_eq!(read.kind, ErrorKind::Refused);
        assert_eq!(read.message, "sku: is taken");
        assert_eq!(read.code.as_deref(), Some("sku_taken"));
        assert_eq!(read.fields[0].field, "sku");
        assert!(!read.session_over());
        let ended: CommandError =
            serde_json::from_value(serde_json::to_value(ConsoleError::SessionExpired).unwrap())
                .unwrap();
        assert!(ended.session_over());
    }
}
