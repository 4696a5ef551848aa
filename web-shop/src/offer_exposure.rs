//! Which personal offer this browser session has already reported as shown, so that the
//! banner's exposure goes to the API once per customer and campaign in a session rather than
//! with every page (the API keeps one exposure per customer and channel however often it is
//! told; a request per page would be spent for nothing). A session cookie, set and read by
//! the shop's server, names the customer and campaign last reported: the server is where the
//! banner's offer is fetched, and the browser hydrates it from the page without fetching.

use storefront_client::account::Account;
use storefront_client::offers::PersonalOffer;

/// The cookie: `<account id>.<campaign id>`, for the browser session only (no expiry).
pub const COOKIE: &str = "nexus_offer_shown";

/// What the cookie holds once `offer`'s showing to `account` is reported. Keyed by the
/// account too, so that another customer logging in on the same browser is reported.
pub fn shown(account: &Account, offer: &PersonalOffer) -> String {
    format!("{}.{}", account.id, offer.campaign_id)
}

/// The values of the cookies called `name` in a `Cookie` header.
pub fn cookie_values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// The exposures the page being rendered knows were reported, and where to note the next.
#[derive(Clone, Debug, Default)]
pub struct ReportedExposures {
    reported: Vec<String>,
    #[cfg(feature = "ssr")]
    response: Option<leptos_axum::ResponseOptions>,
}

impl ReportedExposures {
    /// Those of the browser the server renders for (from the render's context: call it in the
    /// component, not in a resource's future). In the browser, none: it never reports.
    pub fn for_this_page() -> Self {
        #[cfg(feature = "ssr")]
        {
            use leptos::prelude::use_context;
            let reported = use_context::<axum::http::request::Parts>()
                .map(|parts| {
                    parts
                        .headers
                        .get_all(axum::http::header::COOKIE)
                        .iter()
                        .filter_map(|value| value.to_str().ok())
                        .flat_map(|header| cookie_values(header, COOKIE).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Self {
                reported,
                response: use_context::<leptos_axum::ResponseOptions>(),
            }
        }
        #[cfg(not(feature = "ssr"))]
        {
            Self::default()
        }
    }

    pub fn contains(&self, shown: &str) -> bool {
        self.reported.iter().any(|reported| reported == shown)
    }

    /// Notes a reported exposure in the cookie that goes out with this page.
    pub fn note(&self, shown: &str) {
        #[cfg(feature = "ssr")]
        if let Some(response) = &self.response
            && let Ok(cookie) = axum::http::HeaderValue::from_str(&format!(
                "{COOKIE}={shown}; Path=/; HttpOnly; SameSite=Lax"
            ))
        {
            response.append_header(axum::http::header::SET_COOKIE, cookie);
        }
        #[cfg(not(feature = "ssr"))]
        let _ = shown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_read_among_others_by_its_name() {
        let header = format!("nexus_session=abc; {COOKIE}=a.b; other={COOKIE}");
        assert_eq!(cookie_values(&header, COOKIE).collect::<Vec<_>>(), ["a.b"]);
        assert_eq!(cookie_values("nexus_session=abc", COOKIE).count(), 0);
    }
}
