//! Where the shopper shops from: the country chosen in the header's "Ship to" switch, kept in
//! the `nexus_country` cookie with its market's currency in `nexus_currency`, so that every
//! page asks the API for that market's prices (the catalog by currency, the cart by country).
//! Until a shopper chooses, both are absent and the API answers for the shop's default
//! country. The shop's server sets the cookies (`server::forms::market`), after checking the
//! country with the API; pages only read them, on the server and after hydration alike.

/// The cookie with the chosen country (ISO 3166-1 alpha-2).
pub const COUNTRY_COOKIE: &str = "nexus_country";
/// The cookie with that country's market currency (ISO 4217).
pub const CURRENCY_COOKIE: &str = "nexus_currency";

/// The shopper's market, as far as they chose one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopperMarket {
    pub country: Option<String>,
    pub currency: Option<String>,
}

impl ShopperMarket {
    /// The market in a `Cookie` header; a value that is not a code is ignored (the API would
    /// refuse it anyway, and a page must not fail over a stale cookie).
    pub fn from_cookie_header(header: &str) -> Self {
        let cookie = |name: &str, len: usize| {
            header
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(key, value)| {
                    *key == name
                        && value.len() == len
                        && value.bytes().all(|b| b.is_ascii_uppercase())
                })
                .map(|(_, value)| value.to_owned())
        };
        Self {
            country: cookie(COUNTRY_COOKIE, 2),
            currency: cookie(CURRENCY_COOKIE, 3),
        }
    }

    /// The market of the page being rendered: from the request's cookies on the server, from
    /// `document.cookie` in the browser.
    pub fn for_this_page() -> Self {
        #[cfg(feature = "ssr")]
        {
            use leptos::prelude::use_context;
            use_context::<axum::http::request::Parts>()
                .and_then(|parts| {
                    parts
                        .headers
                        .get(axum::http::header::COOKIE)
                        .and_then(|v| v.to_str().ok())
                        .map(Self::from_cookie_header)
                })
                .unwrap_or_default()
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            use wasm_bindgen::JsCast;
            web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.dyn_into::<web_sys::HtmlDocument>().ok())
                .and_then(|document| document.cookie().ok())
                .map(|cookies| Self::from_cookie_header(&cookies))
                .unwrap_or_default()
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Self::default()
        }
    }
}

/// The market the pages of this render read with (provided once by `App`).
pub fn current() -> ShopperMarket {
    leptos::prelude::use_context::<ShopperMarket>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_market_comes_from_its_cookies_and_junk_is_ignored() {
        let market = ShopperMarket::from_cookie_header(
            "nexus_csrf=ab; nexus_country=US; nexus_currency=USD",
        );
        assert_eq!(market.country.as_deref(), Some("US"));
        assert_eq!(market.currency.as_deref(), Some("USD"));
        let junk = ShopperMarket::from_cookie_header("nexus_country=usa; nexus_currency=<b>");
        assert_eq!(junk, ShopperMarket::default());
    }
}
