//! The shopper's cart: guests by token (cookie `nexus_cart` or header `X-Cart-Token`),
//! customers by their session. Prices and availability are recomputed at every read.

use axum::{
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use storefront_client::cart::{
    CartEnvelope, Destination, NewCartItem, QuantityChange, ShippingCountries, ShippingCountry,
    ShippingMeta,
};
use storefront_client::lists::CountMeta;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::session_token,
    cart_pricing::{self, check_sellable, load_cart},
    config::CheckoutSettings,
    cookies,
    domain::cart::Cart,
    error::{ApiError, ApiResult, Json, Path, Query},
    state::AppState,
    storage::carts::{CartLimit, CartOwner},
};

pub const CART_COOKIE: &str = "nexus_cart";
pub const CART_HEADER: &str = "x-cart-token";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_cart, clear_cart))
        .routes(routes!(add_item))
        .routes(routes!(set_item_quantity, remove_item))
        .routes(routes!(shipping_countries))
}

/// Where the shop ships, each country with its tax rate and shipping prices.
#[utoipa::path(get, path = "/api/v1/shipping/countries", tag = "cart",
    responses((status = 200, body = ShippingCountries)))]
pub async fn shipping_countries(State(state): State<AppState>) -> Json<ShippingCountries> {
    let settings = &state.settings.checkout;
    let mut countries: Vec<ShippingCountry> = settings
        .countries
        .iter()
        .filter_map(|(code, rates)| {
            // `Settings::check` refused a country without its market at start-up.
            let market = settings.markets.get(&rates.market)?;
            Some(ShippingCountry {
                name: code
                    .parse::<iso_country::Country>()
                    .map_or_else(|_| code.clone(), |c| c.name().to_owned()),
                code: code.clone(),
                tax_basis_points: rates.tax_basis_points,
                market: rates.market.clone(),
                prices_include_tax: market.prices_include_tax,
                currency: market.currency.clone(),
                standard_minor: rates.standard_minor,
                express_minor: rates.express_minor,
                free_standard_shipping_from_minor: market.free_standard_shipping_from_minor,
            })
        })
        .collect();
    countries.sort_by(|a, b| a.name.cmp(&b.name));
    Json(ShippingCountries {
        meta: ShippingMeta {
            total: CountMeta::of(&countries).total,
            default_country: settings.default_country.clone(),
        },
        countries,
    })
}

/// A guest cart token from the header or the cookie, if it looks like one of ours.
pub fn guest_token(headers: &HeaderMap) -> Option<String> {
    let from_header = headers
        .get(CART_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let from_cookie = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == CART_COOKIE)
            .map(|(_, token)| token.to_owned())
    };
    from_header.or_else(from_cookie).filter(|token| {
        token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn new_guest_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whose cart a request is about. `None` for a guest who has no cart yet.
pub struct CartOf(pub Option<CartOwner>);

impl FromRequestParts<AppState> for CartOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = session_token(&parts.headers) {
            match state.sessions.find(&token).await? {
                Some(session) => return Ok(Self(Some(CartOwner::Account(session.account_id)))),
                // A stale login must not silently fall back to another cart.
                None => return Err(ApiError::Unauthenticated),
            }
        }
        Ok(Self(guest_token(&parts.headers).map(CartOwner::Guest)))
    }
}

fn destination(
    params: &Destination,
    settings: &CheckoutSettings,
) -> ApiResult<Option<cart_pricing::Destination>> {
    params
        .country
        .as_deref()
        .map(|country| cart_pricing::destination(settings, country, params.shipping_method))
        .transpose()
}

/// The cart, re-priced; with `country`, shipping and tax are estimated too.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", params(Destination),
    responses((status = 200, body = CartEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security((), ("bearer" = []), ("cookie" = [])))]
pub async fn show_cart(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Query(params): Query<Destination>,
) -> ApiResult<Json<CartEnvelope>> {
    let destination = destination(&params, &state.settings.checkout)?;
    let priced = load_cart(
        &state,
        owner.as_ref(),
        destination,
        params.discount_code.as_deref(),
    )
    .await?;
    let cart = priced.cart;
    Ok(Json(CartEnvelope { cart }))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", responses((status = 204)),
    security((), ("bearer" = []), ("cookie" = [])))]
pub async fn clear_cart(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
) -> ApiResult<StatusCode> {
    if let Some(owner) = owner {
        state.carts.clear(&owner).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

fn limit_error(limit: CartLimit) -> ApiError {
    match limit {
        CartLimit::TooManyLines { max } => ApiError::conflict(
            "cart_full",
            format!("A cart holds at most {max} different items."),
        ),
        CartLimit::TooManyUnits { max } => {
            ApiError::invalid("quantity", format!("at most {max} of one item per order"))
        }
    }
}

fn with_cookie(state: &AppState, created: Option<&str>, cart: Cart) -> ApiResult<Response> {
    let mut response = Json(CartEnvelope { cart }).into_response();
    if let Some(token) = created {
        let cookie = cookies::set_cookie(state, CART_COOKIE, token, state.carts.idle_secs())?;
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Adds units of a variant. A guest without a cart gets one (cookie `nexus_cart`, and
/// `cart.token` for API clients). The answer is the cart as `GET /api/v1/cart` with the same
/// query would show it, priced for the query's country's market (a `discount_code` in the
/// query is not applied: ask `GET /api/v1/cart` for that).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", request_body = NewCartItem, params(Destination),
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security((), ("bearer" = []), ("cookie" = [])))]
pub async fn add_item(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Query(params): Query<Destination>,
    Json(item): Json<NewCartItem>,
) -> ApiResult<Response> {
    let destination = destination(&params, &state.settings.checkout)?;
    if item.quantity < 1 {
        return Err(ApiError::invalid("quantity", "must be at least 1"));
    }
    let (owner, created) = match owner {
        Some(owner) => (owner, None),
        None => {
            let token = new_guest_token();
            (CartOwner::Guest(token.clone()), Some(token))
        }
    };
    let in_cart = state
        .carts
        .lines(&owner)
        .await?
        .into_iter()
        .find(|(id, _)| *id == item.variant_id)
        .map_or(0, |(_, quantity)| quantity);
    check_sellable(
        &state,
        item.variant_id,
        in_cart.saturating_add(item.quantity),
    )
    .await?;
    state
        .carts
        .add(&owner, item.variant_id, item.quantity)
        .await?
        .map_err(limit_error)?;
    // Without the query's discount code: a code that cannot be used must not turn a change
    // already made into an error (and a retry into a second change).
    let cart = load_cart(&state, Some(&owner), destination, None)
        .await?
        .cart;
    with_cookie(&state, created.as_deref(), cart)
}

/// Sets the quantity of a line already in the cart; 0 removes it. Answers as `add_item`.
#[utoipa::path(put, path = "/api/v1/cart/items/{variant_id}", tag = "cart", request_body = QuantityChange,
    params(("variant_id" = Uuid, Path, description = "Variant id"), Destination),
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security((), ("bearer" = []), ("cookie" = [])))]
pub async fn set_item_quantity(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Path(variant_id): Path<Uuid>,
    Query(params): Query<Destination>,
    Json(change): Json<QuantityChange>,
) -> ApiResult<Json<CartEnvelope>> {
    let destination = destination(&params, &state.settings.checkout)?;
    if change.quantity < 0 {
        return Err(ApiError::invalid("quantity", "must not be negative"));
    }
    let owner = owner.ok_or(ApiError::NotFound("cart line"))?;
    if !state.carts.contains(&owner, variant_id).await? {
        return Err(ApiError::NotFound("cart line"));
    }
    if change.quantity > 0 {
        check_sellable(&state, variant_id, change.quantity).await?;
    }
    state
        .carts
        .set(&owner, variant_id, change.quantity)
        .await?
        .map_err(limit_error)?;
    // Without the query's discount code: a code that cannot be used must not turn a change
    // already made into an error (and a retry into a second change).
    let cart = load_cart(&state, Some(&owner), destination, None)
        .await?
        .cart;
    Ok(Json(CartEnvelope { cart }))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{variant_id}", tag = "cart",
    params(("variant_id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security((), ("bearer" = []), ("cookie" = [])))]
pub async fn remove_item(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Path(variant_id): Path<Uuid>,
) -> ApiResult<Json<CartEnvelope>> {
    let owner = owner.ok_or(ApiError::NotFound("cart line"))?;
    if !state.carts.contains(&owner, variant_id).await? {
        return Err(ApiError::NotFound("cart line"));
    }
    state
        .carts
        .set(&owner, variant_id, 0)
        .await?
        .map_err(limit_error)?;
    let cart = load_cart(&state, Some(&owner), None, None).await?.cart;
    Ok(Json(CartEnvelope { cart }))
}
