//! The review form of a product page.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, State},
    http::HeaderMap,
    response::Response,
};
use storefront_client::reviews::ReviewDraft;

use crate::server::Shop;
use crate::server::forms::{Shopper, clean_slug, with_query};

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ReviewForm {
    slug: String,
    #[serde(default)]
    rating: String,
    title: String,
    body: String,
}

/// The review form: the review goes to the API; back to the product's reviews, or to the
/// form with the API's reason and the text as typed.
pub(crate) async fn review_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let Some(slug) = clean_slug(&form.slug) else {
        return shopper.redirect("/");
    };
    let back = |message: &str| {
        with_query(
            &format!("/products/{slug}/review"),
            &[
                ("error", message),
                ("rating", &form.rating),
                ("title", &form.title),
                ("body", &form.body),
            ],
        )
    };
    let Ok(rating) = form.rating.trim().parse::<i64>() else {
        return shopper.redirect(&back("Rating: choose 1 to 5 stars."));
    };
    let draft = ReviewDraft {
        rating,
        title: form.title.clone(),
        body: form.body.clone(),
    };
    let answer = shopper.api.write_review(slug, &draft).await;
    shopper.finish(
        answer,
        |_| format!("/products/{slug}?reviewed=1#reviews"),
        back,
    )
}
