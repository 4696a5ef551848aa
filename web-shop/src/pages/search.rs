use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use storefront_client::catalog::SearchParams;
use storefront_client::events::EventKind;

use crate::api;
use crate::app::Categories;
use crate::components::{ApiProblem, ProductGrid};

pub const PAGE_SIZE: i64 = 24;

/// Search results with their count and numbered pages; a page that helps when nothing matches.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| (1..=1000).contains(p))
            .unwrap_or(1)
    };
    // One search event per query the shopper runs (not per page of its results).
    Effect::new(move |previous: Option<String>| {
        let q = text();
        if !q.trim().is_empty() && previous.as_deref() != Some(q.as_str()) {
            crate::events::track(
                EventKind::Search,
                crate::properties! { "query" => q.trim().chars().take(200).collect::<String>() },
            );
        }
        q
    });
    let api = api::client();
    let currency = crate::market::current().currency;
    let results = Resource::new(
        move || (text(), page()),
        move |(q, page)| {
            let api = api.clone();
            let currency = currency.clone();
            api::sendable(async move {
                if q.trim().is_empty() {
                    return Ok(None);
                }
                api.search(&SearchParams {
                    q,
                    page: Some(page),
                    limit: Some(PAGE_SIZE),
                    currency,
                })
                .await
                .map(Some)
            })
        },
    );
    view! {
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                let q = text();
                match results.await {
                    Ok(None) => view! {
                        <Title text="Search"/>
                        <h1>"Search"</h1>
                        <p>"Type what you are looking for in the search box above."</p>
                    }.into_any(),
                    Ok(Some(found)) if found.meta.total == 0 => view! {
                        <Title text=format!("No results for “{q}”")/>
                        <NoResults q=q.clone()/>
                    }.into_any(),
                    Ok(Some(found)) => {
                        let meta = found.meta;
                        let pages = (meta.total + meta.limit - 1) / meta.limit;
                        let link = {
                            let q = q.clone();
                            move |page: i64| {
                                let mut params = ParamsMap::new();
                                params.insert("q", q.clone());
                                params.insert("page", page.to_string());
                                format!("/search{}", params.to_query_string())
                            }
                        };
                        view! {
                            <Title text=format!("“{q}” — search")/>
                            <h1>"Results for “"{q.clone()}"”"</h1>
                            <p class="result-count" role="status">
                                {format!("{} product{} found", meta.total, if meta.total == 1 { "" } else { "s" })}
                                {(pages > 1).then(|| format!(" · page {} of {pages}", meta.page))}
                            </p>
                            <ProductGrid products=found.products/>
                            <nav class="pager" aria-label="Pages">
                                {(meta.page > 1).then(|| view! { <A href=link(meta.page - 1) attr:rel="prev">"← Previous"</A> })}
                                {(meta.page < pages).then(|| view! { <A href=link(meta.page + 1) attr:rel="next">"Next →"</A> })}
                            </nav>
                        }.into_any()
                    }
                    Err(error) => view! {
                        <Title text="Search"/>
                        <ApiProblem error/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Nothing matched: say so plainly and offer ways on.
#[component]
fn NoResults(q: String) -> impl IntoView {
    let categories = expect_context::<Categories>();
    view! {
        <section class="no-results">
            <h1>"No products match “"{q}"”"</h1>
            <p role="status" class="result-count">"0 products found"</p>
            <ul>
                <li>"Check the spelling, or use fewer or more general words."</li>
                <li>"Search for a kind of product (“shirt”, “mug”) rather than a brand or code."</li>
            </ul>
            <h2>"Or browse a category"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let nodes = categories.await.unwrap_or_default();
                    view! {
                        <ul class="category-tiles">
                            {nodes.into_iter().map(|c| view! {
                                <li><A href=format!("/c/{}", c.slug)><span class="name">{c.name}</span></A></li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </section>
    }
}
