use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use storefront_client::catalog::{CategoryNode, ListParams, SortParam};

use crate::api;
use crate::app::Categories;
use crate::components::{ApiProblem, ProductGrid};
use crate::pages::not_found::NotFound;

pub const PAGE_SIZE: i64 = 24;

/// The listing a category page's address asks for. Prices in the address are in major units
/// as shoppers type them (`19.99`); the API takes minor units.
pub fn list_params(slug: &str, query: &ParamsMap, currency: Option<String>) -> ListParams {
    ListParams {
        category: Some(slug.to_owned()),
        min_price: query.get("min").as_deref().and_then(minor_units),
        max_price: query.get("max").as_deref().and_then(minor_units),
        in_stock: query.get("in_stock").is_some_and(|v| v == "1" || v == "on"),
        sort: query
            .get("sort")
            .as_deref()
            .and_then(SortParam::parse)
            .unwrap_or_default(),
        limit: Some(PAGE_SIZE),
        cursor: query.get("cursor").filter(|c| !c.is_empty()),
        currency,
    }
}

/// `"19.99"` → 1999; blank or not a plain amount → `None` (the filter is then off).
pub fn minor_units(major: &str) -> Option<i64> {
    let major = major.trim().replace(',', ".");
    let (whole, fraction) = major.split_once('.').unwrap_or((&major, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(cents)
}

fn sort_label(sort: SortParam) -> &'static str {
    match sort {
        SortParam::Newest => "Newest first",
        SortParam::PriceAsc => "Price: low to high",
        SortParam::PriceDesc => "Price: high to low",
    }
}

/// A category's products with price and stock filters, sorting and cursor paging. The filter
/// form is a plain GET form, so it works before (or without) the page's script.
#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // Stored, so that `request` stays `Copy` for the resource and the view alike.
    let currency = StoredValue::new(crate::market::current().currency);
    let request = move || list_params(&slug(), &query.read(), currency.get_value());
    let api = api::client();
    let listing = Resource::new(request, move |request| {
        let api = api.clone();
        api::sendable(async move { api.products(&request).await })
    });
    let categories = expect_context::<Categories>();
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tree = categories.await.unwrap_or_default();
                let slug = slug();
                let Some(category) = CategoryNode::find(&tree, &slug).cloned() else {
                    return view! { <NotFound/> }.into_any();
                };
                let request = request();
                let result = listing.await;
                let description = format!(
                    "Shop {} — {} products, with prices, ratings and stock at a glance.",
                    category.name, category.product_count
                );
                view! {
                    <Title text=category.name.clone()/>
                    <Meta name="description" content=description/>
                    <nav aria-label="Breadcrumb" class="breadcrumbs">
                        <A href="/">"Home"</A>
                        " / "
                        <span aria-current="page">{category.name.clone()}</span>
                    </nav>
                    <h1>{category.name.clone()}</h1>
                    {(!category.children.is_empty()).then(|| view! {
                        <ul class="subcategories">
                            {category.children.clone().into_iter().map(|c| view! {
                                <li><A href=format!("/c/{}", c.slug)>{c.name}</A></li>
                            }).collect_view()}
                        </ul>
                    })}
                    <Filters slug=slug.clone() request=request.clone() query=query.get_untracked()/>
                    {match result {
                        Ok(list) if list.products.is_empty() => view! {
                            <p class="empty">"No products match these filters. "
                                <A href=format!("/c/{slug}")>"Clear the filters"</A></p>
                        }.into_any(),
                        Ok(list) => {
                            let next = list.meta.next_cursor.map(|cursor| {
                                let mut next = query.get_untracked();
                                next.replace("cursor", cursor);
                                format!("/c/{slug}{}", next.to_query_string())
                            });
                            let first = request.cursor.is_some().then(|| {
                                let mut first = query.get_untracked();
                                first.remove("cursor");
                                format!("/c/{slug}{}", first.to_query_string())
                            });
                            view! {
                                <ProductGrid products=list.products/>
                                <nav class="pager" aria-label="Pages">
                                    {first.map(|href| view! { <A href=href>"← First page"</A> })}
                                    {next.map(|href| view! { <A href=href attr:rel="next">"Next page →"</A> })}
                                </nav>
                            }.into_any()
                        }
                        Err(error) => view! { <ApiProblem error/> }.into_any(),
                    }}
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Filters(slug: String, request: ListParams, query: ParamsMap) -> impl IntoView {
    let shown = |key: &str| query.get(key).unwrap_or_default();
    view! {
        <form class="filters" method="get" action=format!("/c/{slug}")>
            <label>
                "Min price "
                <input type="text" inputmode="decimal" name="min" value=shown("min") size="6"/>
            </label>
            <label>
                "Max price "
                <input type="text" inputmode="decimal" name="max" value=shown("max") size="6"/>
            </label>
            <label>
                <input type="checkbox" name="in_stock" value="1" checked=request.in_stock/>
                " In stock only"
            </label>
            <label>
                "Sort "
                <select name="sort">
                    {SortParam::ALL.into_iter().map(|sort| view! {
                        <option value=sort.as_str() selected=sort == request.sort>{sort_label(sort)}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Apply"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_typed_by_shoppers_become_minor_units() {
        assert_eq!(minor_units("19.99"), Some(1999));
        assert_eq!(minor_units("20"), Some(2000));
        assert_eq!(minor_units("7,5"), Some(750));
        assert_eq!(minor_units(" "), None);
        assert_eq!(minor_units("1.999"), None);
        assert_eq!(minor_units("ten"), None);
        assert_eq!(minor_units("-5"), None);
        assert_eq!(minor_units(".5"), Some(50));
    }
}
