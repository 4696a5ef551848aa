//! The shopper's cart: guests by token (cookie `nexus_cart` or header `X-Cart-Token`),
//! customers by their session. Prices and availability are recomputed at every read.

use axum::{
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use storefront_client::cart::{
    CartEnvelope, Destination, NewCartItem, QuantityChange, ShippingCountries, ShippingCountry,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::session_token,
    config::CheckoutSettings,
    domain::{
        account::parse_country,
        cart::{Cart, CartLine, cart_lines, purchasable},
        money::Currency,
        order::{
            CountryRates, Discount, DiscountRejection, PricingError, ShippingMethod, Totals, price,
            shipping_minor,
        },
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    state::AppState,
    storage::{
        carts::{CartLimit, CartOwner},
        catalog::cart_variants,
        discounts,
    },
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
        .map(|(code, rates)| ShippingCountry {
            name: code
                .parse::<iso_country::Country>()
                .map_or_else(|_| code.clone(), |c| c.name().to_owned()),
            code: code.clone(),
            tax_basis_points: rates.tax_basis_points,
            standard_minor: rates.standard_minor,
            express_minor: rates.express_minor,
        })
        .collect();
    countries.sort_by(|a, b| a.name.cmp(&b.name));
    Json(ShippingCountries {
        countries,
        free_standard_shipping_from_minor: settings.free_standard_shipping_from_minor,
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

fn cart_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.settings.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let max_age = state.carts.idle_secs();
    HeaderValue::from_str(&format!(
        "{CART_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Clears a guest cart cookie (after its lines moved into a customer's cart).
pub fn cleared_cart_cookie() -> HeaderValue {
    HeaderValue::from_static("nexus_cart=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The rates of a country the shop ships to.
pub fn country_rates(
    settings: &CheckoutSettings,
    country: &str,
) -> ApiResult<(String, CountryRates)> {
    let code = parse_country(country).map_err(|message| ApiError::invalid("country", message))?;
    let rates = settings.countries.get(&code).ok_or_else(|| {
        let shipped: Vec<&str> = settings.countries.keys().map(String::as_str).collect();
        ApiError::invalid(
            "country",
            format!(
                "we do not ship to {code}; we ship to {}",
                shipped.join(", ")
            ),
        )
    })?;
    Ok((
        code,
        CountryRates {
            tax_basis_points: rates.tax_basis_points,
            standard_minor: rates.standard_minor,
            express_minor: rates.express_minor,
        },
    ))
}

fn pricing_error(error: PricingError) -> ApiError {
    match error {
        PricingError::BelowMinimum { min_subtotal_minor } => ApiError::invalid(
            "discount_code",
            DiscountRejection::BelowMinimum { min_subtotal_minor }.to_string(),
        ),
        PricingError::Overflow => ApiError::invalid("quantity", "the cart total is too large"),
    }
}

/// Totals of the purchasable lines: subtotal less any discount, and with shipping and tax
/// when there is a destination.
pub fn totals(
    settings: &CheckoutSettings,
    lines: &[CartLine],
    destination: Option<(CountryRates, ShippingMethod)>,
    discount: Option<Discount>,
) -> ApiResult<Totals> {
    let inputs = purchasable(lines);
    let goods = price(&inputs, discount, 0, 0).map_err(pricing_error)?;
    let Some((rates, method)) = destination else {
        return Ok(goods);
    };
    let shipping = if inputs.is_empty() {
        0
    } else {
        shipping_minor(
            method,
            rates,
            goods.subtotal_minor - goods.discount_minor,
            settings.free_standard_shipping_from_minor,
        )
    };
    price(&inputs, discount, shipping, rates.tax_basis_points).map_err(pricing_error)
}

/// A discount code the caller may use now, or a 422 saying why not.
pub async fn usable_discount(
    state: &AppState,
    code: &str,
    account_id: Option<Uuid>,
    currency: Option<Currency>,
) -> ApiResult<(Uuid, Discount)> {
    let (id, rule, used) = discounts::find(&state.db, code.trim(), account_id)
        .await?
        .ok_or_else(|| ApiError::invalid("discount_code", "there is no such code"))?;
    let currency = currency.or(rule.currency).unwrap_or(Currency::NONE);
    let discount = rule
        .check(chrono::Utc::now(), currency, used)
        .map_err(|rejection| ApiError::invalid("discount_code", rejection.to_string()))?;
    Ok((id, discount))
}

/// Reads a cart and prices it from the catalog.
pub async fn load_cart(
    state: &AppState,
    owner: Option<&CartOwner>,
    destination: Option<(CountryRates, ShippingMethod)>,
    discount: Option<Discount>,
) -> ApiResult<Cart> {
    let quantities = match owner {
        Some(owner) => state.carts.lines(owner).await?,
        None => Vec::new(),
    };
    let ids: Vec<Uuid> = quantities.iter().map(|(id, _)| *id).collect();
    let catalog = if ids.is_empty() {
        Vec::new()
    } else {
        cart_variants(&state.db, &ids).await?
    };
    let lines = cart_lines(&quantities, &catalog);
    let totals = totals(&state.settings.checkout, &lines, destination, discount)?;
    Ok(Cart {
        token: match owner {
            Some(CartOwner::Guest(token)) => Some(token.clone()),
            _ => None,
        },
        item_count: lines
            .iter()
            .filter(|line| line.problem.is_none())
            .map(|line| i64::from(line.quantity))
            .sum(),
        currency: lines.first().map(|line| line.unit_price.currency),
        ready_for_checkout: !lines.is_empty() && lines.iter().all(|line| line.problem.is_none()),
        totals: Some(totals),
        lines,
    })
}

fn destination(
    params: &Destination,
    settings: &CheckoutSettings,
) -> ApiResult<Option<(CountryRates, ShippingMethod)>> {
    params
        .country
        .as_deref()
        .map(|country| {
            country_rates(settings, country).map(|(_, rates)| (rates, params.shipping_method))
        })
        .transpose()
}

/// The cart, re-priced; with `country`, shipping and tax are estimated too.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", params(Destination),
    responses((status = 200, body = CartEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn show_cart(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Query(params): Query<Destination>,
) -> ApiResult<Json<CartEnvelope>> {
    let destination = destination(&params, &state.settings.checkout)?;
    let discount = match params
        .discount_code
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        None => None,
        Some(code) => {
            let account = match &owner {
                Some(CartOwner::Account(id)) => Some(*id),
                _ => None,
            };
            let plain = load_cart(&state, owner.as_ref(), None, None).await?;
            Some(
                usable_discount(&state, code, account, plain.currency)
                    .await?
                    .1,
            )
        }
    };
    let cart = load_cart(&state, owner.as_ref(), destination, discount).await?;
    Ok(Json(CartEnvelope { cart }))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", responses((status = 204)))]
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

/// Checks that `quantity` units of the variant can be sold into this cart.
async fn check_sellable(
    state: &AppState,
    owner: Option<&CartOwner>,
    variant_id: Uuid,
    quantity: i32,
) -> ApiResult<()> {
    let variant = cart_variants(&state.db, &[variant_id])
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("variant"))?;
    if !variant.is_for_sale() {
        return Err(ApiError::conflict(
            "not_for_sale",
            format!("{} is no longer sold.", variant.product_name),
        ));
    }
    if variant.stock_on_hand < quantity {
        return Err(ApiError::Conflict {
            code: "insufficient_stock",
            message: format!(
                "Only {} of {} left.",
                variant.stock_on_hand.max(0),
                variant.product_name
            ),
            details: serde_json::json!({ "variant_id": variant_id, "available": variant.stock_on_hand.max(0) }),
        });
    }
    if let Some(owner) = owner {
        let existing = state.carts.lines(owner).await?;
        let other_ids: Vec<Uuid> = existing
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != variant_id)
            .collect();
        if let Some(other) = cart_variants(&state.db, &other_ids).await?.first()
            && other.currency != variant.currency
        {
            return Err(ApiError::conflict(
                "currency_mismatch",
                format!(
                    "The cart is in {}; this item is priced in {}.",
                    other.currency, variant.currency
                ),
            ));
        }
    }
    Ok(())
}

fn with_cookie(state: &AppState, created: Option<&str>, cart: Cart) -> Response {
    let mut response = Json(CartEnvelope { cart }).into_response();
    if let Some(token) = created {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cart_cookie(state, token));
    }
    response
}

/// Adds units of a variant. A guest without a cart gets one (cookie `nexus_cart`, and
/// `cart.token` for API clients).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", request_body = NewCartItem,
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn add_item(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Json(item): Json<NewCartItem>,
) -> ApiResult<Response> {
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
        Some(&owner),
        item.variant_id,
        in_cart.saturating_add(item.quantity),
    )
    .await?;
    state
        .carts
        .add(&owner, item.variant_id, item.quantity)
        .await?
        .map_err(limit_error)?;
    let cart = load_cart(&state, Some(&owner), None, None).await?;
    Ok(with_cookie(&state, created.as_deref(), cart))
}

/// Sets the quantity of a line already in the cart; 0 removes it.
#[utoipa::path(put, path = "/api/v1/cart/items/{variant_id}", tag = "cart", request_body = QuantityChange,
    params(("variant_id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn set_item_quantity(
    State(state): State<AppState>,
    CartOf(owner): CartOf,
    Path(variant_id): Path<Uuid>,
    Json(change): Json<QuantityChange>,
) -> ApiResult<Json<CartEnvelope>> {
    if change.quantity < 0 {
        return Err(ApiError::invalid("quantity", "must not be negative"));
    }
    let owner = owner.ok_or(ApiError::NotFound("cart line"))?;
    if !state.carts.contains(&owner, variant_id).await? {
        return Err(ApiError::NotFound("cart line"));
    }
    if change.quantity > 0 {
        check_sellable(&state, Some(&owner), variant_id, change.quantity).await?;
    }
    state
        .carts
        .set(&owner, variant_id, change.quantity)
        .await?
        .map_err(limit_error)?;
    let cart = load_cart(&state, Some(&owner), None, None).await?;
    Ok(Json(CartEnvelope { cart }))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{variant_id}", tag = "cart",
    params(("variant_id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = CartEnvelope), (status = 404, body = crate::error::ErrorEnvelope)))]
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
    let cart = load_cart(&state, Some(&owner), None, None).await?;
    Ok(Json(CartEnvelope { cart }))
}
