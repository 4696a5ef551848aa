//! `/products/{slug}/review`: a review of a product the shopper received. The API decides
//! who may review (delivered, once per product) and says why not.

use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::{ApiProblem, FormError};
use crate::pages::account::Session;
use crate::pages::not_found::NotFound;
use crate::pages::product::product_of_route;

#[component]
pub fn ReviewPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let product = product_of_route();
    view! {
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let product = match product.await {
                    Ok(product) => product,
                    Err(error) if error.is_not_found() => return view! { <NotFound/> }.into_any(),
                    Err(error) => return view! { <ApiProblem error/> }.into_any(),
                };
                let here = format!("/products/{}/review", product.slug);
                if session.await.is_err() {
                    let login = format!("/account/login?next={}", storefront_client::path_segment(&here));
                    return view! {
                        <Title text=format!("Review {}", product.name)/>
                        <section class="narrow">
                            <h1>{format!("Review {}", product.name)}</h1>
                            <p>"Log in to review a product you have received. " <a href=login>"Log in"</a></p>
                        </section>
                    }
                    .into_any();
                }
                view! { <ReviewForm slug=product.slug name=product.name/> }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn ReviewForm(slug: String, name: String) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let rating = query.get("rating").and_then(|r| r.parse::<i32>().ok());
    let title = query.get("title").unwrap_or_default();
    let body = query.get("body").unwrap_or_default();
    view! {
        <Title text=format!("Review {name}")/>
        <section class="narrow">
            <h1>{format!("Review {name}")}</h1>
            <FormError/>
            <form class="stacked review-form" method="post" action="/reviews">
                <CsrfField/>
                <input type="hidden" name="slug" value=slug.clone()/>
                <fieldset class="stars-input">
                    <legend>"Your rating"</legend>
                    {(1..=5).rev().map(|n| {
                        let id = format!("rating-{n}");
                        view! {
                            <div>
                                <input type="radio" id=id.clone() name="rating" value=n.to_string()
                                    checked=rating == Some(n) required=true/>
                                <label for=id>{format!("{} {n} star{}", "★".repeat(n as usize), if n == 1 { "" } else { "s" })}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <label for="review-title">"Title"</label>
                <input id="review-title" name="title" type="text" maxlength="120" required value=title/>
                <label for="review-body">"Your review"</label>
                <textarea id="review-body" name="body" rows="6" maxlength="5000" required>{body}</textarea>
                <button type="submit">"Publish review"</button>
            </form>
            <p><A href=format!("/products/{slug}")>{format!("← Back to {name}")}</A></p>
        </section>
    }
}
