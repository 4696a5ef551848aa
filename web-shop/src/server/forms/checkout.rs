//! The checkout form.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, State},
    http::HeaderMap,
    response::Response,
};
use storefront_client::cart::ShippingMethod;
use storefront_client::orders::{CheckoutRequest, PaymentDetails};

use crate::components::AddressValues;
use crate::server::Shop;
use crate::server::forms::{Shopper, optional, with_query};

/// The checkout form. Everything but the card goes back into the address on a refusal, so
/// the shopper only retypes the card.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CheckoutForm {
    pub idempotency_key: String,
    #[serde(flatten)]
    pub address: AddressValues,
    pub shipping_method: String,
    #[serde(default)]
    pub discount_code: String,
    /// The currency of the summary the shopper saw.
    #[serde(default)]
    pub expected_currency: String,
    pub card_number: String,
    pub expiry: String,
    pub cvc: String,
}

impl CheckoutForm {
    fn request(&self) -> Result<CheckoutRequest, String> {
        let (month, year) = parse_expiry(&self.expiry)
            .ok_or_else(|| "Expiry date: write it as MM/YY, e.g. 08/29.".to_owned())?;
        Ok(CheckoutRequest {
            shipping_address: Some(self.address.to_postal()),
            address_id: None,
            shipping_method: ShippingMethod::parse(&self.shipping_method).unwrap_or_default(),
            discount_code: optional(&self.discount_code),
            expected_currency: optional(&self.expected_currency),
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
    let shopper = Shopper::new(&shop, peer, &headers);
    let request = match form.request() {
        Ok(request) => request,
        Err(message) => return shopper.redirect(&form.back(&message)),
    };
    // An empty key is the API's to refuse, with its own message.
    let answer = shopper
        .api
        .checkout(&request, form.idempotency_key.trim())
        .await;
    shopper.finish(
        answer,
        |order| format!("/account/orders/{}?placed=1", order.id),
        |message| form.back(message),
    )
}
