//! The cart's forms: add, change a quantity, remove.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, Path, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
};

use crate::server::forms::*;
use crate::server::*;

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
    let slug = form.slug.as_deref().and_then(clean_slug).map(str::to_owned);
    let back = |message: &str| match (change, &slug) {
        (CartChange::Add, Some(slug)) => {
            with_query(&format!("/products/{slug}"), &[("error", message)])
        }
        _ => with_query("/cart", &[("notice", message)]),
    };
    let Some(variant_id) = form.variant_id.filter(|v| !v.trim().is_empty()) else {
        return see_other(&back("Choose an option first."), &HeaderMap::new());
    };
    let quantity = form.quantity.as_deref().map(str::trim);
    let quantity = match (change, quantity) {
        (CartChange::Remove, _) => 0,
        (_, None | Some("")) => 1,
        (_, Some(raw)) => match raw.parse::<i32>() {
            Ok(n) => n,
            Err(_) => {
                return see_other(&back("Quantity must be a whole number."), &HeaderMap::new());
            }
        },
    };
    let item_path = format!(
        "cart/items/{}",
        storefront_client::path_segment(&variant_id)
    );
    let (method, path, body) = match change {
        CartChange::Add => (
            Method::POST,
            "cart/items".to_owned(),
            json(&serde_json::json!({ "variant_id": variant_id, "quantity": quantity })),
        ),
        CartChange::Update | CartChange::Remove if quantity == 0 => {
            (Method::DELETE, item_path, None)
        }
        CartChange::Update | CartChange::Remove => (
            Method::PUT,
            item_path,
            json(&storefront_client::cart::QuantityChange { quantity }),
        ),
    };
    submit(
        &shop,
        peer,
        headers,
        method,
        &path,
        body,
        None,
        |_| "/cart".to_owned(),
        back,
    )
    .await
}
