//! The catalog: find products; edit a product's name, its variants' prices and stock; archive.

use leptos::prelude::*;
use serde::Serialize;
use storefront_client::catalog::{Product, ProductStatus, Variant};
use storefront_client::staff::catalog::{ProductPatch, StaffProductList};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::{NoArgs, UiError, call};
use crate::screens::{Confirmed, Pager, Problem, failed, page_count};

#[derive(Serialize)]
struct Search {
    text: Option<String>,
    status: Option<ProductStatus>,
    page: i64,
}

#[derive(Serialize)]
struct Id {
    id: Uuid,
}

#[component]
pub fn CatalogScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1i64);
    let selected = RwSignal::new(None::<Uuid>);
    let list = LocalResource::new(move || {
        let search = Search {
            text: Some(text.get()).filter(|t| !t.trim().is_empty()),
            status: match status.get().as_str() {
                "draft" => Some(ProductStatus::Draft),
                "active" => Some(ProductStatus::Active),
                "archived" => Some(ProductStatus::Archived),
                _ => None,
            },
            page: page.get(),
        };
        call::<StaffProductList>("products", search)
    });
    view! {
        <h1>"Catalog"</h1>
        <form class="row" role="search" on:submit=move |ev| { ev.prevent_default(); page.set(1); }>
            <label for="product-search">"Find"</label>
            <input id="product-search" type="search" placeholder="Name or slug" prop:value=text
                on:input=move |ev| text.set(event_target_value(&ev))/>
            <label for="product-status">"Status"</label>
            <select id="product-status" on:change=move |ev| { status.set(event_target_value(&ev)); page.set(1); }>
                <option value="">"Any"</option>
                <option value="active">"On sale"</option>
                <option value="draft">"Draft"</option>
                <option value="archived">"Archived"</option>
            </select>
        </form>
        <div class="split">
            <section aria-label="Products">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) => {
                                let pages = page_count(list.meta.total, list.meta.limit);
                                view! {
                                    <p class="muted">{format!("{} products", list.meta.total)}</p>
                                    <table id="products">
                                        <thead><tr><th>"Name"</th><th>"Status"</th><th>"From"</th></tr></thead>
                                        <tbody>
                                            {list.products.into_iter().map(|p| {
                                                let id = p.id;
                                                view! {
                                                    <tr class="clickable">
                                                        <td><button class="secondary product-open" on:click=move |_| selected.set(Some(id))>{p.name}</button></td>
                                                        <td>{format!("{:?}", p.status).to_lowercase()}</td>
                                                        <td>{p.price_from.map(|m| format::money(&m))}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager page pages/>
                                }.into_any()
                            }
                            Err(error) => failed(frame, error),
                        }
                    })}
                </Transition>
            </section>
            <section aria-label="Product">
                {move || selected.get().map(|id| view! { <ProductEditor id on_change=move || list.refetch()/> })}
            </section>
        </div>
    }
}

#[component]
fn ProductEditor(id: Uuid, on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let product = RwSignal::new(None::<Product>);
    let error = RwSignal::new(None::<UiError>);
    let notice = RwSignal::new(String::new());
    leptos::task::spawn_local(async move {
        match call::<Product>("product", Id { id }).await {
            Ok(p) => product.set(Some(p)),
            Err(e) => {
                frame.check(&e);
                error.set(Some(e));
            }
        }
    });
    // Runs a command that answers with the product, and shows the result.
    let apply = move |command: &'static str, args: serde_json::Value, done: &'static str| {
        error.set(None);
        notice.set(String::new());
        leptos::task::spawn_local(async move {
            match call::<Product>(command, args).await {
                Ok(p) => {
                    product.set(Some(p));
                    notice.set(done.to_owned());
                    on_change();
                }
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <div class="panel">
            <Problem error/>
            <p class="notice" role="status" id="catalog-notice">{move || notice.get()}</p>
            {move || product.get().map(|p| {
                let name = RwSignal::new(p.name.clone());
                view! {
                    <h2>{p.name.clone()}</h2>
                    <p class="muted">{format!("/products/{} · {:?}", p.slug, p.status).to_lowercase()}</p>
                    <form class="row" on:submit=move |ev| {
                        ev.prevent_default();
                        let patch = ProductPatch { name: Some(name.get_untracked()), ..ProductPatch::default() };
                        apply("update_product", serde_json::json!({ "id": id, "patch": patch }), "Name saved.");
                    }>
                        <label for="product-name">"Name"</label>
                        <input id="product-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                        <button type="submit">"Save name"</button>
                    </form>
                    <h2>"Variants"</h2>
                    <table id="variants">
                        <thead><tr><th>"Variant"</th><th>"Price"</th><th>"Stock"</th></tr></thead>
                        <tbody>
                            {p.variants.iter().map(|v| view! { <VariantRow product_id=id variant=v.clone() apply/> }).collect_view()}
                        </tbody>
                    </table>
                    {(p.status != ProductStatus::Archived).then(|| view! {
                        <p>
                            <Confirmed id="archive" label="Archive product" danger=true
                                question=format!("Take {} off the shop?", p.name)
                                action=move || apply("archive_product", serde_json::json!({ "id": id }), "Archived.")/>
                        </p>
                    })}
                }
            })}
        </div>
    }
}

#[component]
fn VariantRow(
    product_id: Uuid,
    variant: Variant,
    apply: impl Fn(&'static str, serde_json::Value, &'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let price = RwSignal::new(format::amount_text(&variant.price));
    let delta = RwSignal::new(String::new());
    let reason = RwSignal::new("restock".to_owned());
    let stock = RwSignal::new(variant.stock_on_hand);
    let error = RwSignal::new(None::<UiError>);
    let reasons = LocalResource::new(|| call::<Vec<String>>("stock_reasons", NoArgs {}));
    let variant_id = variant.id;
    let sku = variant.sku.clone();
    let save_price = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply(
            "set_price",
            serde_json::json!({
                "product_id": product_id, "variant_id": variant_id,
                "price": price.get_untracked(), "compare_at": null,
            }),
            "Price saved.",
        );
    };
    let adjust = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(delta_units) = delta.get_untracked().trim().parse::<i32>() else {
            error.set(Some(UiError {
                kind: "invalid".into(),
                message: "Change: write a whole number of units, e.g. 5 or -2.".into(),
                code: None,
                fields: Vec::new(),
            }));
            return;
        };
        let args = serde_json::json!({
            "variant_id": variant_id, "delta": delta_units,
            "reason": reason.get_untracked(), "note": null,
        });
        leptos::task::spawn_local(async move {
            match call::<storefront_client::catalog::StockMovement>("adjust_stock", args).await {
                Ok(movement) => {
                    stock.set(movement.stock_after);
                    delta.set(String::new());
                }
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <tr data-sku=sku.clone()>
            <td>{variant.title.clone()}<div class="muted"><code>{sku.clone()}</code></div></td>
            <td>
                <form class="row" on:submit=save_price>
                    <label class="muted" for=format!("price-{sku}")>{variant.price.currency.code()}</label>
                    <input id=format!("price-{sku}") class="price" size="8" prop:value=price on:input=move |ev| price.set(event_target_value(&ev))/>
                    <button type="submit">"Save"</button>
                </form>
            </td>
            <td>
                <span class="stock">{stock}</span>
                <form class="row" on:submit=adjust>
                    <label class="muted" for=format!("delta-{sku}")>"Change"</label>
                    <input id=format!("delta-{sku}") size="4" placeholder="+5" prop:value=delta on:input=move |ev| delta.set(event_target_value(&ev))/>
                    <label class="muted" for=format!("reason-{sku}")>"Reason"</label>
                    <select id=format!("reason-{sku}") on:change=move |ev| reason.set(event_target_value(&ev))>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                reasons.await.unwrap_or_default().into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()
                            })}
                        </Suspense>
                    </select>
                    <button type="submit">"Apply"</button>
                </form>
                <Problem error/>
            </td>
        </tr>
    }
}
