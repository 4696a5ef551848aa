//! The checkout form.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, State},
    http::{HeaderMap, Method},
    response::Response,
};

use crate::server::forms::*;
use crate::server::proxy::*;
use crate::server::*;

/// The checkout form. Everything but the card goes back into the address on a refusal, so
/// the shopper only retypes the card.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CheckoutForm {
    pub idempotency_key: String,
    #[serde(flatten)]
    pub address: AddressForm,
    pub shipping_method: String,
    #[serde(default)]
    pub discount_code: String,
    pub card_number: String,
    pub expiry: String,
    pub cvc: String,
}

impl CheckoutForm {
    fn request(&self) -> Result<storefront_client::orders::CheckoutRequest, String> {
        use storefront_client::orders::{CheckoutRequest, PaymentDetails};
        let (month, year) = parse_expiry(&self.expiry)
            .ok_or_else(|| "Expiry date: write it as MM/YY, e.g. 08/29.".to_owned())?;
        Ok(CheckoutRequest {
            shipping_address: Some(self.address.shipping_address()),
            address_id: None,
            shipping_method: storefront_client::cart::ShippingMethod::parse(&self.shipping_method)
                .unwrap_or_default(),
            discount_code: optional(&self.discount_code),
            payment: PaymentDetails {
                card_number: self
                    .card_number
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect(),
                expiry_month: month,
                expiry_year: year,
                cvc: self.cvc.trim().to_owned(),
            },
        })
    }

    /// Where to go back to after a refusal: the form with `error` and all but the card.
    fn back(&self, error: &str) -> String {
        let mut pairs = vec![("error", error)];
        pairs.extend(self.address.pairs());
        pairs.push(("shipping_method", &self.shipping_method));
        pairs.push(("discount_code", &self.discount_code));
        with_query("/checkout", &pairs)
    }
}

/// `"08/29"`, `"8/2029"` → (8, 2029).
pub fn parse_expiry(raw: &str) -> Option<(u32, i32)> {
    let (month, year) = raw.trim().split_once('/')?;
    let month: u32 = month.trim().parse().ok()?;
    let year: i32 = year.trim().parse().ok()?;
    let year = if (0..100).contains(&year) {
        2000 + year
    } else {
        year
    };
    (1..=12).contains(&month).then_some((month, year))
}

pub(crate) async fn checkout_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CheckoutForm>,
) -> Response {
    let request = match form.request() {
        Ok(request) => request,
        Err(message) => return see_other(&form.back(&message), &HeaderMap::new()),
    };
    let key = Some(form.idempotency_key.as_str()).filter(|k| !k.is_empty());
    let placed = |upstream: &Upstream| {
        serde_json::from_slice::<storefront_client::orders::OrderEnvelope>(&upstream.body)
            .map_or_else(
                |_| "/account".to_owned(),
                |envelope| format!("/account/orders/{}?placed=1", envelope.order.id),
            )
    };
    let body = json(&request);
    let back = |message: &str| form.back(message);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "checkout",
        body,
        key,
        placed,
        back,
    )
    .await
}
