use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use storefront_client::catalog::{ListParams, SortParam};

use crate::api;
use crate::app::{Categories, SHOP_NAME};
use crate::components::{ApiProblem, ProductGrid};

/// Products on the home page.
const FEATURED: i64 = 8;

/// Where a shopper lands after deleting their account (`/?account=deleted`).
#[component]
fn AccountDeleted() -> impl IntoView {
    let deleted = leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("account")
        .is_some_and(|value| value == "deleted");
    view! {
        <p class="notice ok" role="status" data-testid="account-deleted">
            {deleted.then_some("Your account is deleted. Thank you for shopping with us.")}
        </p>
    }
}

/// The front page: the newest products in stock, and the categories to browse.
#[component]
pub fn HomePage() -> impl IntoView {
    let api = api::client();
    let currency = crate::market::current().currency;
    let featured = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            let currency = currency.clone();
            api::sendable(async move {
                api.products(&ListParams {
                    in_stock: true,
                    sort: SortParam::Newest,
                    limit: Some(FEATURED),
                    currency,
                    ..ListParams::default()
                })
                .await
            })
        },
    );
    let categories = expect_context::<Categories>();
    view! {
        <Title text="Home"/>
        <Meta
            name="description"
            content=format!("{SHOP_NAME}: clothing, home goods and more — new arrivals every week, delivered to your door.")
        />
        <AccountDeleted/>
        <section class="hero">
            <h1>{SHOP_NAME}</h1>
            <p>"New arrivals every week. Free returns within 30 days."</p>
        </section>
        <section aria-labelledby="featured-heading">
            <h2 id="featured-heading">"New in"</h2>
            <Suspense fallback=|| view! { <p>"Loading products…"</p> }>
                {move || Suspend::new(async move {
                    match featured.await {
                        Ok(list) => view! { <ProductGrid products=list.products/> }.into_any(),
                        Err(error) => view! { <ApiProblem error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section aria-labelledby="categories-heading">
            <h2 id="categories-heading">"Shop by category"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let nodes = categories.await.unwrap_or_default();
                    view! {
                        <ul class="category-tiles">
                            {nodes
                                .into_iter()
                                .map(|c| {
                                    view! {
                                        <li>
                                            <A href=format!("/c/{}", c.slug)>
                                                <span class="name">{c.name}</span>
                                                <span class="count">{format!("{} products", c.product_count)}</span>
                                            </A>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </section>
    }
}
