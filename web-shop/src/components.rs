//! Pieces several pages show: product cards, prices, ratings and pagers.

use leptos::prelude::*;
use leptos_router::components::A;
use storefront_client::ClientError;
use storefront_client::catalog::{ProductSummary, Rating};
use storefront_client::money::Money;

/// A price, with the compare-at ("was") price struck through when it is higher.
#[component]
pub fn Price(price: Money, #[prop(default = None)] compare_at: Option<Money>) -> impl IntoView {
    let was = compare_at.filter(|was| was.amount_minor > price.amount_minor);
    let on_sale = was.is_some();
    view! {
        <span class="price" class:sale=on_sale>
            <span class="now">{price.to_shopper_string()}</span>
            {was.map(|was| {
                view! {
                    " "
                    <del class="was" aria-label=format!("was {}", was.to_shopper_string())>
                        {was.to_shopper_string()}
                    </del>
                }
            })}
        </span>
    }
}

/// Stars out of five, with the count; "No reviews yet" without any.
#[component]
pub fn Stars(rating: Rating) -> impl IntoView {
    match rating.average {
        None => view! { <span class="rating none">"No reviews yet"</span> }.into_any(),
        Some(average) => {
            let full = average.round() as usize;
            let stars = format!("{}{}", "★".repeat(full), "☆".repeat(5 - full.min(5)));
            let label = format!(
                "Rated {average:.1} out of 5 by {} reviewer{}",
                rating.count,
                if rating.count == 1 { "" } else { "s" }
            );
            view! {
                <span class="rating" role="img" aria-label=label.clone() title=label>
                    <span aria-hidden="true">{stars}</span>
                    <span class="count" aria-hidden="true">{format!(" ({})", rating.count)}</span>
                </span>
            }
            .into_any()
        }
    }
}

#[component]
pub fn ProductCard(product: ProductSummary) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let image = product.image_url.clone();
    let alt = product.name.clone();
    view! {
        <li class="product-card">
            <A href=href>
                {match image {
                    Some(src) => view! { <img src=src alt=alt loading="lazy" width="320" height="320"/> }.into_any(),
                    None => view! { <div class="no-image" aria-hidden="true"></div> }.into_any(),
                }}
                <span class="name">{product.name}</span>
            </A>
            {product.price_from.map(|price| view! { <Price price compare_at=product.compare_at_from/> })}
            <Stars rating=product.rating/>
            {(!product.in_stock).then(|| view! { <span class="stock out">"Sold out"</span> })}
        </li>
    }
}

#[component]
pub fn ProductGrid(products: Vec<ProductSummary>) -> impl IntoView {
    view! {
        <ul class="product-grid">
            {products.into_iter().map(|product| view! { <ProductCard product/> }).collect_view()}
        </ul>
    }
}

/// What a page shows when the API failed it.
#[component]
pub fn ApiProblem(error: ClientError) -> impl IntoView {
    let message = match &error {
        ClientError::Unreachable(_) => {
            "The shop cannot reach its catalog right now. Please try again in a moment.".to_owned()
        }
        ClientError::Api { body, .. } => body.message.clone(),
        ClientError::Unexpected { .. } => "Something went wrong on our side.".to_owned(),
    };
    view! {
        <div class="problem" role="alert">
            <h2>"Sorry — this page could not be loaded"</h2>
            <p>{message}</p>
        </div>
    }
}
