//! The cart's forms: add, change a quantity, remove.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use storefront_client::cart::NewCartItem;
use uuid::Uuid;

use crate::server::Shop;
use crate::server::forms::{Shopper, clean_slug, with_query};

/// The cart forms of pages viewed without JavaScript (with it, the page calls the API
/// itself): each is one API call, then a redirect — to the cart on success, back with the
/// API's message on failure. Cookies the API sets (a guest's new cart) go along.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CartForm {
    slug: Option<String>,
    variant_id: Option<String>,
    quantity: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum CartChange {
    Add,
    Update,
    Remove,
}

/// `POST /cart/{add|update|remove}`.
pub(crate) async fn cart_form_route(
    State(shop): State<Shop>,
    Path(change): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CartForm>,
) -> Response {
    let change = match change.as_str() {
        "add" => CartChange::Add,
        "update" => CartChange::Update,
        "remove" => CartChange::Remove,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    cart_form(shop, change, peer, headers, form).await
}

async fn cart_form(
    shop: Shop,
    change: CartChange,
    peer: SocketAddr,
    headers: HeaderMap,
    form: CartForm,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let slug = form.slug.as_deref().and_then(clean_slug).map(str::to_owned);
    let back = |message: &str| match (change, &slug) {
        (CartChange::Add, Some(slug)) => {
            with_query(&format!("/products/{slug}"), &[("error", message)])
        }
        _ => with_query("/cart", &[("notice", message)]),
    };
    let variant = form
        .variant_id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let Ok(variant_id) = variant.parse::<Uuid>() else {
        let message = if variant.is_empty() {
            "Choose an option first."
        } else {
            "That option is not sold here."
        };
        return shopper.redirect(&back(message));
    };
    let quantity = form.quantity.as_deref().map(str::trim);
    let quantity = match (change, quantity) {
        (CartChange::Remove, _) => 0,
        (_, None | Some("")) => 1,
        (_, Some(raw)) => match raw.parse::<i32>() {
            Ok(n) => n,
            Err(_) => return shopper.redirect(&back("Quantity must be a whole number.")),
        },
    };
    let answer = match change {
        CartChange::Add => {
            let item = NewCartItem {
                variant_id,
                quantity,
            };
            shopper.api.add_to_cart(&item).await
        }
        CartChange::Update | CartChange::Remove if quantity == 0 => {
            shopper.api.remove_from_cart(variant_id).await
        }
        CartChange::Update | CartChange::Remove => {
            shopper.api.set_cart_quantity(variant_id, quantity).await
        }
    };
    shopper.finish(answer, |_| "/cart".to_owned(), back)
}
