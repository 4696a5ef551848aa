//! The shop's language as types that cannot hold invalid values once built.
//! Nothing here performs I/O.

pub mod account;
pub mod cart;
pub mod catalog;
pub mod events;
pub mod money;
pub mod order;
pub mod payment;
pub mod reviews;

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of an input, as the domain sees it; the HTTP layer reports a list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
