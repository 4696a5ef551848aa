//! The error answers that come from the API's shared layers rather than from a handler —
//! extractors, authentication, the permission gate, the body limit, a dependency being down —
//! declared on every operation that can give them. A handler's `#[utoipa::path]` names the
//! errors of its own logic; this fills in the rest, so the document promises every status
//! code a client can meet (schemathesis checks that it does).

use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    path::{Operation, ParameterIn},
    security::SecurityRequirement,
};

/// Declares the shared error answers on every operation of `openapi` that can give them,
/// leaving alone a status the operation already describes.
pub fn declare(openapi: &mut OpenApi) {
    for (path, item) in &mut openapi.paths.paths {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            declare_on(path, operation);
        }
    }
}

fn declare_on(path: &str, operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let in_path = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let in_query = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let body = operation.request_body.is_some();
    let signed_in_only = operation
        .security
        .as_deref()
        .is_some_and(|ways| !ways.is_empty() && !ways.iter().any(is_anonymous));
    let api = path.starts_with("/api/v1/");
    let staff = path.starts_with("/api/v1/admin/");

    let mut declare = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    if in_path || in_query || body {
        declare(
            "400",
            "Malformed request: a path parameter of the wrong form, a NUL character (%00) in \
             the URL, or a body that is not JSON.",
        );
    }
    let takes_a_session = operation
        .security
        .as_deref()
        .is_some_and(|ways| !ways.is_empty());
    if signed_in_only {
        declare("401", "No valid session: sign in first.");
    } else if takes_a_session {
        // A guest may call it, but a session token that no longer works (logged out,
        // expired, ended by a password reset) is refused rather than silently ignored.
        declare(
            "401",
            "The session token sent is no longer valid: sign in again, or send none.",
        );
    }
    if staff {
        declare(
            "403",
            "Signed in, but the account's role lacks the permission this operation needs \
             (`details.permission`, `details.roles`).",
        );
    }
    if body {
        declare("413", "The body is larger than the API accepts.");
        declare(
            "415",
            "The body is not sent as `Content-Type: application/json`.",
        );
    }
    if in_query || body {
        declare(
            "422",
            "Invalid input: `details.fields` names each field and what is wrong with it.",
        );
    }
    if api {
        declare(
            "503",
            "A service the API depends on does not answer; nothing was changed. Retry later.",
        );
    }
}

/// The empty requirement `{}`: the operation also serves anonymous callers.
fn is_anonymous(requirement: &SecurityRequirement) -> bool {
    serde_json::to_value(requirement)
        .is_ok_and(|value| value.as_object().is_some_and(|o| o.is_empty()))
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let envelope = Ref::from_schema_name("ErrorEnvelope");
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(envelope)).build(),
            )
            .build(),
    )
}
