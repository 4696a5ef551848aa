//! The return form of an order page: which units of which lines go back, and why.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, State},
    http::HeaderMap,
    response::Response,
};
use storefront_client::returns::{ReturnLineRequest, ReturnReason, ReturnRequest};
use uuid::Uuid;

use crate::server::Shop;
use crate::server::forms::{Shopper, with_query};

/// The form's fields: `order_id`, `note`, and per order line `quantity_{n}` and `reason_{n}`
/// (a line with no units is not returned).
pub(crate) async fn return_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let Some(order_id) = field("order_id").and_then(|id| Uuid::try_parse(id.trim()).ok()) else {
        return shopper.redirect("/account");
    };
    let form_page = format!("/account/orders/{order_id}/return");
    let mut lines = Vec::new();
    for (key, value) in &fields {
        let Some(line_number) = key
            .strip_prefix("quantity_")
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let quantity = value.trim().parse::<i32>().unwrap_or(0);
        if quantity <= 0 {
            continue;
        }
        let reason = field(&format!("reason_{line_number}"))
            .and_then(ReturnReason::parse)
            .unwrap_or(ReturnReason::Other);
        lines.push(ReturnLineRequest {
            line_number,
            quantity,
            reason,
        });
    }
    let note = field("note").unwrap_or_default().to_owned();
    if lines.is_empty() {
        return shopper.redirect(&with_query(
            &form_page,
            &[
                ("error", "Choose how many of at least one item to return."),
                ("note", &note),
            ],
        ));
    }
    let request = ReturnRequest {
        lines,
        note: Some(note.clone()).filter(|note| !note.trim().is_empty()),
    };
    let answer = shopper.api.request_return(order_id, &request).await;
    shopper.finish(
        answer,
        |order_return| format!("/account/orders/{order_id}?return={}", order_return.number),
        |message| with_query(&form_page, &[("error", message), ("note", &note)]),
    )
}
