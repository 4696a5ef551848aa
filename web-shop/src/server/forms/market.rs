//! The header's "Ship to" switch: the chosen country, checked against the countries the API
//! says the shop ships to, is kept with its market's currency in the market cookies
//! (`crate::market`); the shopper goes back to the page they were on, now in that market's
//! prices. An unknown country changes nothing.

use axum::{
    extract::{Form, State},
    response::Response,
};

use crate::market::{COUNTRY_COOKIE, CURRENCY_COOKIE};
use crate::server::Shop;
use crate::server::forms::{local_path, see_other};

/// A year: the choice outlives the browser session, as a shop's country choice does.
const MAX_AGE_SECS: u32 = 365 * 24 * 3600;

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
