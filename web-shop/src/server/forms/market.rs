//! The header's "Ship to" switch: the chosen country, checked against the countries the API
//! says the shop ships to, is kept with its market's currency in the market cookies
//! (`crate::market`); the shopper goes back to the page they were on, now in that market's
//! prices. An unknown country changes nothing. A choice the shop no longer offers (a country
//! since taken out of its configuration) is forgotten before any page renders with it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    extract::{Form, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use storefront_client::Client;

use crate::market::{COUNTRY_COOKIE, CURRENCY_COOKIE, ShopperMarket};
use crate::server::Shop;
use crate::server::forms::{local_path, see_other};

/// A year: the choice outlives the browser session, as a shop's country choice does.
const MAX_AGE_SECS: u32 = 365 * 24 * 3600;
/// How long the shop trusts its copy of the API's countries: a configuration change shows
/// within this.
const MARKETS_TTL: Duration = Duration::from_secs(60);

/// `(country, currency)`: a country the shop ships to and its market's currency.
type Offered = Vec<(String, String)>;

/// The countries the API ships to with their market's currency, as last read (at most
/// [`MARKETS_TTL`] ago is trusted).
#[derive(Clone, Default)]
pub(crate) struct OfferedMarkets(Arc<std::sync::Mutex<Option<(Instant, Offered)>>>);

impl OfferedMarkets {
    /// `(country, currency)` pairs, from the copy when it is recent and `fresh` is not
    /// asked; `None` when the API cannot say (nothing is judged then). No lock is held while
    /// the API is asked: two pages may both ask, which is harmless.
    async fn get(&self, api: &Client, fresh: bool) -> Option<Offered> {
        if !fresh && let Some(offered) = self.recent() {
            return Some(offered);
        }
        match api.shipping_countries().await {
            Ok(countries) => {
                let offered: Offered = countries
                    .countries
                    .into_iter()
                    .map(|c| (c.code, c.currency))
                    .collect();
                if let Ok(mut cached) = self.0.lock() {
                    *cached = Some((Instant::now(), offered.clone()));
                }
                Some(offered)
            }
            Err(error) => {
                tracing::warn!(%error, "the shipping countries could not be read");
                None
            }
        }
    }

    fn recent(&self) -> Option<Offered> {
        let cached = self.0.lock().ok()?;
        cached
            .as_ref()
            .filter(|(read_at, _)| read_at.elapsed() < MARKETS_TTL)
            .map(|(_, offered)| offered.clone())
    }
}

/// Whether the shop still offers the shopper's chosen market: the country, with the
/// currency its market has now.
fn still_offered(market: &ShopperMarket, offered: &[(String, String)]) -> bool {
    match (&market.country, &market.currency) {
        (Some(country), Some(currency)) => offered
            .iter()
            .any(|(code, money)| code == country && money == currency),
        _ => false,
    }
}

/// A `Cookie` header without the market cookies.
fn without_market_cookies(header: &str) -> String {
    header
        .split(';')
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            name != COUNTRY_COOKIE && name != CURRENCY_COOKIE
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Middleware: market cookies the shop no longer offers are taken out of the request (the
/// page renders for the default market, as for a shopper who never chose) and expired in
/// the browser — rather than every catalog read failing with the API's 422.
pub(crate) async fn forget_stale_market(
    State(shop): State<Shop>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let static_file = ["/api/", "/pkg/", "/assets/", "/images/", "/healthz"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    let cookies = request
        .headers()
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let Some(cookies) = cookies.filter(|_| !static_file) else {
        return next.run(request).await;
    };
    let market = ShopperMarket::from_cookie_header(&cookies);
    if market == ShopperMarket::default() {
        return next.run(request).await;
    }
    let Some(offered) = shop.markets.get(&shop.api, false).await else {
        return next.run(request).await;
    };
    // A market missing from a copy up to a minute old is asked about again before the
    // choice is dropped (it may have been added since).
    let offered = if still_offered(&market, &offered) {
        offered
    } else {
        match shop.markets.get(&shop.api, true).await {
            Some(offered) => offered,
            None => return next.run(request).await,
        }
    };
    if still_offered(&market, &offered) {
        return next.run(request).await;
    }
    let kept = without_market_cookies(&cookies);
    match HeaderValue::from_str(&kept) {
        Ok(value) if !kept.is_empty() => {
            request.headers_mut().insert(header::COOKIE, value);
        }
        _ => {
            request.headers_mut().remove(header::COOKIE);
        }
    }
    let mut response = next.run(request).await;
    // The "Ship to" form answers with the new choice: that one stays.
    let chosen_anew = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|cookie| cookie.as_bytes().starts_with(COUNTRY_COOKIE.as_bytes()));
    if chosen_anew {
        return response;
    }
    for name in [COUNTRY_COOKIE, CURRENCY_COOKIE] {
        if let Ok(expired) =
            HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0; SameSite=Lax"))
        {
            response.headers_mut().append(header::SET_COOKIE, expired);
        }
    }
    response
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct MarketForm {
    country: String,
    back: Option<String>,
}

/// `POST /market`.
pub(crate) async fn market_form(
    State(shop): State<Shop>,
    Form(form): Form<MarketForm>,
) -> Response {
    let back = local_path(form.back.as_deref(), "/");
    let wanted = form.country.trim().to_ascii_uppercase();
    let countries = match shop.api.shipping_countries().await {
        Ok(countries) => countries.countries,
        Err(error) => {
            tracing::warn!(%error, "the shipping countries could not be read");
            return see_other(back, &[]);
        }
    };
    let Some(country) = countries.into_iter().find(|c| c.code == wanted) else {
        return see_other(back, &[]);
    };
    let cookie = |name: &str, value: &str| {
        format!("{name}={value}; Path=/; Max-Age={MAX_AGE_SECS}; SameSite=Lax")
    };
    see_other(
        back,
        &[
            cookie(COUNTRY_COOKIE, &country.code),
            cookie(CURRENCY_COOKIE, &country.currency),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_market_no_longer_offered_is_forgotten_and_other_cookies_kept() {
        let offered = vec![
            ("DE".to_owned(), "EUR".to_owned()),
            ("US".to_owned(), "USD".to_owned()),
        ];
        let market = |header| ShopperMarket::from_cookie_header(header);
        assert!(still_offered(
            &market("nexus_country=US; nexus_currency=USD"),
            &offered
        ));
        // A removed country, a market whose currency changed, half a choice.
        for stale in [
            "nexus_country=JP; nexus_currency=JPY",
            "nexus_country=US; nexus_currency=EUR",
            "nexus_country=US",
        ] {
            assert!(!still_offered(&market(stale), &offered), "{stale}");
        }
        assert_eq!(
            without_market_cookies("nexus_csrf=ab; nexus_country=JP;nexus_currency=JPY; x=1"),
            "nexus_csrf=ab; x=1"
        );
        assert_eq!(without_market_cookies("nexus_country=JP"), "");
    }

    #[test]
    fn only_paths_of_this_shop_are_gone_back_to() {
        let back = |path| local_path(path, "/");
        assert_eq!(
            back(Some("/c/knitwear?sort=price_asc")),
            "/c/knitwear?sort=price_asc"
        );
        assert_eq!(back(Some("//evil.example/")), "/");
        assert_eq!(back(Some("https://evil.example/")), "/");
        assert_eq!(back(Some("/\\evil.example")), "/");
        assert_eq!(back(Some("/\t/evil.example")), "/");
        assert_eq!(back(None), "/");
    }
}
