//! Cross-site request forgery protection of the shop's HTML forms, on top of the session
//! cookie's `SameSite=Lax`: the double-submit pattern. Every page carries a random token in
//! the `nexus_csrf` cookie (set by the first page a browser gets) and in a hidden field of
//! each of its forms (`CsrfField`); the shop's server takes a form post only when the two
//! agree (`server::csrf::require_token`). Another site can make a browser post a form here,
//! but cannot read the cookie to put its value into the form.

use leptos::prelude::*;

/// The hidden form field that carries the token.
pub const FIELD: &str = "csrf_token";
/// The cookie that carries the token (readable by the page's script, which must fill the
/// same field after hydration; it is not a credential on its own).
pub const COOKIE: &str = "nexus_csrf";

/// This page's token, provided once by `App`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// Whether `value` looks like a token this shop made (64 hex digits), so that a cookie set by
/// anything else is replaced rather than echoed into pages.
pub fn well_formed(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token in a `Cookie` header, if it has a well-formed one.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && well_formed(value))
        .map(|(_, value)| value)
}

impl CsrfToken {
    /// The token of the page being rendered: on the server the browser's (or a new one, set
    /// as a cookie with the page), in the browser the cookie's.
    pub fn for_this_page() -> Self {
        #[cfg(feature = "ssr")]
        {
            crate::server::csrf::token_for_page()
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            use wasm_bindgen::JsCast;
            let cookies = web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.dyn_into::<web_sys::HtmlDocument>().ok())
                .and_then(|document| document.cookie().ok())
                .unwrap_or_default();
            Self(from_cookie_header(&cookies).unwrap_or_default().to_owned())
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Self(String::new())
        }
    }
}

/// The hidden field every `<form method="post">` of the shop carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = use_context::<CsrfToken>()
        .map(|token| token.0)
        .unwrap_or_default();
    view! { <input type="hidden" name=FIELD value=token/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_token_is_taken_from_the_cookies() {
        let token = "a".repeat(64);
        let header = format!("nexus_session=abc; {COOKIE}={token}; other=1");
        assert_eq!(from_cookie_header(&header), Some(token.as_str()));
        assert_eq!(from_cookie_header(&format!("{COOKIE}=short")), None);
        assert_eq!(
            from_cookie_header(&format!("{COOKIE}={}", "z".repeat(64))),
            None
        );
        assert_eq!(from_cookie_header("nexus_session=abc"), None);
    }
}
