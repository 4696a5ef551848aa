//! The API's refusals in words for staff. [`ConsoleError`] itself is defined with the
//! commands (console-protocol), so the window reads the same errors it is sent.

use storefront_client::ClientError;

pub use console_protocol::ConsoleError;

/// A client error of a call to the API at `address`.
pub fn from_client(address: &str, error: ClientError) -> ConsoleError {
    match error {
        ClientError::Unreachable(detail) => ConsoleError::Unreachable {
            address: address.to_owned(),
            detail,
        },
        ClientError::Api { status: 401, .. } => ConsoleError::SessionExpired,
        ClientError::Api { status, body } => {
            let fields = body.field_errors();
            let message = match fields.first() {
                Some(field) if fields.len() == 1 => {
                    format!("{}: {}", field.field.replace('_', " "), field.message)
                }
                _ => body.message.clone(),
            };
            ConsoleError::Refused {
                status,
                code: body.code,
                message,
                fields,
            }
        }
        ClientError::Unexpected { status, message } => ConsoleError::Failed(format!(
            "The API answered unexpectedly ({status}): {message}"
        )),
    }
}
