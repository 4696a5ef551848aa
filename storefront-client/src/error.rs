//! The API's error envelope: `{"error": {"code": "...", "message": "...", "details": ...}}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Structured detail (field errors, allowed values); `null` when there is none.
    #[cfg_attr(feature = "openapi", schema(value_type = Object, nullable))]
    pub details: Value,
}

/// One invalid field of an input; `validation_failed` errors list these in `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl ErrorBody {
    /// The field errors of a `validation_failed` answer (`details.fields`; empty for any
    /// other).
    pub fn field_errors(&self) -> Vec<FieldError> {
        self.details
            .get("fields")
            .and_then(|fields| serde_json::from_value(fields.clone()).ok())
            .unwrap_or_default()
    }

    /// The message for `field`, if the API named it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        self.field_errors()
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}
