//! The storefront-api client for the side this code runs on.

use std::future::Future;

use storefront_client::Client;

/// The server's client of storefront-api, provided as context to every render.
#[derive(Clone, Debug)]
pub struct ServerApi(pub Client);

/// The client to fetch a page's data with. Call it in the component, not in the future: the
/// server's client comes from the render's context and carries the shopper's cookies.
pub fn client() -> Client {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let api = use_context::<ServerApi>()
            .map(|api| api.0)
            .unwrap_or_else(|| Client::new("http://127.0.0.1:8080"));
        let cookies = use_context::<axum::http::request::Parts>().and_then(|parts| {
            parts
                .headers
                .get(axum::http::header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        match cookies {
            Some(cookies) => api.with_cookies(cookies),
            None => api,
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        Client::new(origin)
    }
}

/// Makes a client future fit a `Resource`: resources need `Send` futures, and the browser's
/// fetch futures are not (they hold JavaScript values). The browser runs one thread, so
/// wrapping them is sound there.
#[cfg(feature = "ssr")]
pub fn sendable<F: Future + Send + 'static>(future: F) -> F {
    future
}

#[cfg(not(feature = "ssr"))]
pub fn sendable<F: Future + 'static>(future: F) -> impl Future<Output = F::Output> + Send {
    send_wrapper::SendWrapper::new(future)
}

/// What a shopper is told when the API refused or could not be reached.
pub fn shopper_message(error: &storefront_client::ClientError) -> String {
    use storefront_client::ClientError;
    match error {
        ClientError::Api { body, .. } => match body.field_errors().first() {
            Some(field) => {
                let name = field.field.replace('_', " ");
                let mut chars = name.chars();
                let name: String = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                format!("{name}: {}", field.message)
            }
            None => body.message.clone(),
        },
        ClientError::Unreachable(_) => {
            "The shop cannot be reached right now; please try again in a moment.".to_owned()
        }
        ClientError::Unexpected { .. } => {
            "Something went wrong on our side; please try again.".to_owned()
        }
    }
}

/// A fresh `Idempotency-Key` for a checkout form: one per rendering of the form, so a
/// double-submitted form places one order and a retry after a decline is a new attempt.
pub fn new_idempotency_key() -> String {
    #[cfg(feature = "ssr")]
    {
        uuid::Uuid::new_v4().to_string()
    }
    #[cfg(not(feature = "ssr"))]
    {
        web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.random_uuid())
            .unwrap_or_default()
    }
}

/// The time now, on either side: the server's clock while rendering, the browser's once
/// hydrated (a page's questions of time, like "may this order still be returned", are asked
/// seconds apart on both, so they agree but at the very instant of a deadline).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    #[cfg(feature = "hydrate")]
    {
        chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        chrono::DateTime::from(std::time::SystemTime::now())
    }
}
