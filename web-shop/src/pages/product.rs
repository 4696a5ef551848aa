use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use storefront_client::ClientError;
use storefront_client::cart::NewCartItem;
use storefront_client::catalog::{PriceParams, Product, Rating, Variant, VariantStatus};
use storefront_client::reviews::ReviewPageParams;

use crate::app::CartState;
use crate::components::{ApiProblem, Price, ReviewStars, Stars};
use crate::pages::not_found::NotFound;
use crate::{api, events};
use storefront_client::events::EventKind;

/// Below this many, the picker says "only N left".
const FEW_LEFT: i32 = 5;

/// How a variant's stock reads in the picker.
pub fn stock_text(variant: &Variant) -> String {
    match variant.stock_on_hand {
        n if !variant.in_stock || n <= 0 => "Sold out".to_owned(),
        n if n <= FEW_LEFT => format!("Only {n} left"),
        n => format!("{n} in stock"),
    }
}

/// The variant shown first: the first one in stock, else the first.
pub fn first_choice(product: &Product) -> Option<&Variant> {
    let buyable = |v: &&Variant| v.status == VariantStatus::Active;
    product
        .variants
        .iter()
        .filter(buyable)
        .find(|v| v.in_stock)
        .or_else(|| product.variants.iter().find(buyable))
}

/// The product the route's `:slug` names.
pub fn product_of_route() -> Resource<Result<Product, ClientError>> {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let api = api::client();
    let prices = PriceParams {
        currency: crate::market::current().currency,
    };
    Resource::new(slug, move |slug| {
        let api = api.clone();
        let prices = prices.clone();
        api::sendable(async move { api.product_in(&slug, &prices).await })
    })
}

/// `/products/{slug}`: images, the variant picker with stock per choice, the price of the
/// chosen variant, rating and paged reviews.
#[component]
pub fn ProductPage() -> impl IntoView {
    let product = product_of_route();
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(product) => view! { <ProductDetail product/> }.into_any(),
                    Err(error) if error.is_not_found() => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductDetail(product: Product) -> impl IntoView {
    let description: String = product.description.chars().take(155).collect();
    let chosen = RwSignal::new(first_choice(&product).map(|v| v.id));
    let variants = StoredValue::new(product.variants.clone());
    let current = move || {
        let id = chosen.get();
        variants.with_value(|vs| vs.iter().find(|v| Some(v.id) == id).cloned())
    };
    let images = product.image_urls.clone();
    let name = product.name.clone();
    let quantity = RwSignal::new(1i32);
    // What the last "Add to cart" did: the server's redirect after a failed add without
    // JavaScript carries its message as `?error=`.
    let outcome = RwSignal::new(
        use_query_map()
            .get_untracked()
            .get("error")
            .map(|message| (false, message)),
    );
    let adding = RwSignal::new(false);
    let cart = expect_context::<CartState>();
    let product_id = product.id;
    Effect::new(move |_| {
        events::track(
            EventKind::ProductView,
            crate::properties! { "product_id" => product_id.to_string() },
        );
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        // With the page's script running, add in place; without it, the form posts to the
        // shop's server, which adds and redirects to the cart.
        ev.prevent_default();
        let Some(variant_id) = chosen.get_untracked() else {
            return;
        };
        let item = NewCartItem {
            variant_id,
            quantity: quantity.get_untracked().max(1),
        };
        adding.set(true);
        let api = api::client();
        leptos::task::spawn_local(async move {
            let result = api.add_to_cart(&item).await;
            adding.set(false);
            outcome.set(Some(match result {
                Ok(_) => {
                    cart.changed();
                    events::track(
                        EventKind::AddToCart,
                        crate::properties! {
                            "variant_id" => item.variant_id.to_string(),
                            "quantity" => item.quantity,
                        },
                    );
                    (true, format!("Added {} to your cart.", item.quantity))
                }
                Err(error) => (false, api::shopper_message(&error)),
            }));
        });
    };
    view! {
        <Title text=product.name.clone()/>
        <Meta name="description" content=description/>
        <nav aria-label="Breadcrumb" class="breadcrumbs">
            <A href="/">"Home"</A>
            {product.breadcrumbs.clone().into_iter().map(|c| view! {
                " / " <A href=format!("/c/{}", c.slug)>{c.name}</A>
            }).collect_view()}
        </nav>
        <article class="product">
            <div class="gallery">
                {images.iter().enumerate().map(|(i, src)| view! {
                    <img src=src.clone() alt=format!("{name}, picture {}", i + 1) width="480" height="480"/>
                }).collect_view()}
            </div>
            <div class="buy-box">
                <h1>{product.name.clone()}</h1>
                <Stars rating=product.rating/>
                <p class="selected-price" aria-live="polite">
                    {move || current().map(|v| view! { <Price price=v.price compare_at=v.compare_at_price/> })}
                </p>
                <form class="buy" method="post" action="/cart/add" on:submit=add>
                <CsrfField/>
                <input type="hidden" name="slug" value=product.slug.clone()/>
                <fieldset class="variants">
                    <legend>"Choose an option"</legend>
                    {product.variants.iter().filter(|v| v.status == VariantStatus::Active).map(|v| {
                        let id = v.id;
                        let sold_out = !v.in_stock;
                        let input_id = format!("variant-{id}");
                        view! {
                            <div class="variant" class:sold-out=sold_out>
                                <input
                                    type="radio"
                                    name="variant_id"
                                    id=input_id.clone()
                                    value=id.to_string()
                                    prop:checked=move || chosen.get() == Some(id)
                                    on:change=move |_| chosen.set(Some(id))
                                />
                                <label for=input_id>
                                    <span class="title">{v.title.clone()}</span>
                                    <span class="stock">{stock_text(v)}</span>
                                    <span class="variant-price">{v.price.to_shopper_string()}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <p class="choice" data-testid="choice" aria-live="polite">
                    {move || match current() {
                        Some(v) => format!("{} — {}", v.title, stock_text(&v)),
                        None => "This product cannot be bought right now.".to_owned(),
                    }}
                </p>
                <div class="add">
                    <label for="quantity">"Quantity"</label>
                    <input
                        id="quantity"
                        name="quantity"
                        type="number"
                        min="1"
                        max="99"
                        prop:value=move || quantity.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<i32>() {
                                quantity.set(n.clamp(1, 99));
                            }
                        }
                    />
                    <button
                        type="submit"
                        class="add-to-cart"
                        disabled=move || adding.get() || !current().is_some_and(|v| v.in_stock)
                    >
                        {move || if adding.get() { "Adding…" } else { "Add to cart" }}
                    </button>
                </div>
                <p class="add-outcome" role="status" aria-live="polite">
                    {move || outcome.get().map(|(ok, message)| view! {
                        <span class:ok=ok class:error=!ok>{message}</span>
                        {ok.then(|| view! { " " <A href="/cart">"View cart"</A> })}
                    })}
                </p>
                </form>
                <div class="description">
                    {product.description.split("\n\n").map(|para| view! { <p>{para.to_owned()}</p> }).collect_view()}
                </div>
            </div>
        </article>
        <Reviews slug=product.slug.clone() rating=product.rating/>
    }
}

/// Reviews shown per page.
pub const REVIEWS_PER_PAGE: i64 = 5;

/// The product's published reviews, newest first, a page at a time (`?reviews_page=`).
#[component]
fn Reviews(slug: String, rating: Rating) -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("reviews_page")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| (1..=1000).contains(p))
            .unwrap_or(1)
    };
    let api = api::client();
    let fetch_slug = slug.clone();
    let reviews = Resource::new(page, move |page| {
        let api = api.clone();
        let slug = fetch_slug.clone();
        api::sendable(async move {
            let params = ReviewPageParams {
                page: Some(page),
                limit: Some(REVIEWS_PER_PAGE),
            };
            api.reviews(&slug, &params).await
        })
    });
    let reviewed = query.get_untracked().get("reviewed").is_some();
    let slug = StoredValue::new(slug);
    let page_link = move |page: i64| {
        slug.with_value(|slug| format!("/products/{slug}?reviews_page={page}#reviews"))
    };
    view! {
        <section id="reviews" class="reviews" aria-labelledby="reviews-heading">
            <h2 id="reviews-heading">"Reviews"</h2>
            <p class="review-summary"><Stars rating/></p>
            {reviewed.then(|| view! {
                <p class="notice ok" role="status">"Thank you — your review is published."</p>
            })}
            <Transition fallback=|| view! { <p>"Loading reviews…"</p> }>
                {move || Suspend::new(async move {
                    match reviews.await {
                        Ok(list) if list.reviews.is_empty() => view! {
                            <p>"No reviews yet."</p>
                        }.into_any(),
                        Ok(list) => {
                            let pages = list.meta.pages();
                            let current = list.meta.page;
                            view! {
                                <ol class="review-list">
                                    {list.reviews.into_iter().map(|r| view! {
                                        <li class="review">
                                            <h3><ReviewStars rating=r.rating/> " " {r.title}</h3>
                                            <p class="byline">{format!("{} · {}", r.reviewer, r.created_at.format("%-d %B %Y"))}</p>
                                            {r.body.split("\n\n").map(|para| view! { <p>{para.to_owned()}</p> }).collect_view()}
                                        </li>
                                    }).collect_view()}
                                </ol>
                                <nav class="pager" aria-label="Review pages">
                                    {(current > 1).then(|| view! { <A href=page_link(current - 1)>"← Newer reviews"</A> })}
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    {(current < pages).then(|| view! { <A href=page_link(current + 1)>"Older reviews →"</A> })}
                                </nav>
                            }.into_any()
                        }
                        Err(_) => view! {
                            <p class="problem">"Reviews cannot be shown right now."</p>
                        }.into_any(),
                    }
                })}
            </Transition>
            <p><A href=slug.with_value(|slug| format!("/products/{slug}/review"))>"Write a review"</A>
               " — for products you have received."</p>
        </section>
    }
}
