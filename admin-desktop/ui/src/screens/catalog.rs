//! The catalog: find products; create them; edit a product's details, images, variants and
//! prices; adjust stock with a reason; archive.

use console_protocol::catalog::{CategoryChoice, NewVariant, VariantEdit};
use console_protocol::{
    AddVariant, AdjustStock, ArchiveProduct, Command, CreateProduct, EditVariant, FindProducts,
    GetProduct, GetStockHistory, ListCategories, ListCurrencies, ListStockReasons, SetPrice,
    UpdateProduct,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use storefront_client::catalog::{Product, ProductStatus, StockMovement, Variant, VariantStatus};
use storefront_client::money::Money;
use storefront_client::staff::catalog::{ProductDraft, ProductPatch};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::{CommandError, call};
use crate::screens::catalog_files::CatalogFiles;
use crate::screens::{Confirmed, Pager, Problem, failed, page_count};

/// What the right-hand pane shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pane {
    Nothing,
    New,
    Product(Uuid),
    /// Import and export as CSV.
    Files,
}

#[component]
pub fn CatalogScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1i64);
    let pane = RwSignal::new(Pane::Nothing);
    let categories = RwSignal::new(Vec::<CategoryChoice>::new());
    let categories_error = RwSignal::new(None::<CommandError>);
    frame.run(ListCategories {}, categories_error, move |c| {
        categories.set(c)
    });
    let list = LocalResource::new(move || {
        let search = FindProducts {
            text: Some(text.get()).filter(|t| !t.trim().is_empty()),
            status: match status.get().as_str() {
                "draft" => Some(ProductStatus::Draft),
                "active" => Some(ProductStatus::Active),
                "archived" => Some(ProductStatus::Archived),
                _ => None,
            },
            page: page.get(),
        };
        call(search)
    });
    let changed = move || list.refetch();
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
            <button type="button" id="new-product" on:click=move |_| pane.set(Pane::New)>"New product"</button>
            <button type="button" id="catalog-files" class="secondary" on:click=move |_| pane.set(Pane::Files)>"Import / export"</button>
        </form>
        <Problem error=categories_error/>
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
                                                        <td><button class="secondary product-open" on:click=move |_| pane.set(Pane::Product(id))>{p.name}</button></td>
                                                        <td>{status_label(p.status)}</td>
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
                {move || match pane.get() {
                    Pane::Nothing => ().into_any(),
                    Pane::New => view! {
                        <NewProductForm categories created=move |id| { pane.set(Pane::Product(id)); changed(); }/>
                    }.into_any(),
                    Pane::Product(id) => view! { <ProductEditor id categories on_change=changed/> }.into_any(),
                    Pane::Files => view! { <CatalogFiles imported=changed/> }.into_any(),
                }}
            </section>
        </div>
    }
}

fn status_label(status: ProductStatus) -> &'static str {
    match status {
        ProductStatus::Draft => "draft",
        ProductStatus::Active => "active",
        ProductStatus::Archived => "archived",
    }
}

/// The categories to choose from, named by their path.
#[component]
fn CategorySelect(
    id: &'static str,
    choices: RwSignal<Vec<CategoryChoice>>,
    value: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    view! {
        <select id=id on:change=move |ev| value.set(event_target_value(&ev).parse().ok())>
            <option value="" selected=move || value.get().is_none()>"Choose a category"</option>
            {move || choices.get().into_iter().map(|choice| {
                let chosen = Some(choice.id);
                view! {
                    <option value=choice.id.to_string() selected=move || value.get() == chosen>{choice.label}</option>
                }
            }).collect_view()}
        </select>
    }
}

/// A product's images in order: the first is the one lists show. Add, move up, remove.
#[component]
fn ImageList(images: RwSignal<Vec<String>>) -> impl IntoView {
    let new_url = RwSignal::new(String::new());
    let add = move || {
        let url = new_url.get_untracked().trim().to_owned();
        if !url.is_empty() {
            images.update(|list| list.push(url));
            new_url.set(String::new());
        }
    };
    view! {
        <ol id="images">
            {move || images.get().into_iter().enumerate().map(|(i, url)| view! {
                <li class="row">
                    <code class="image-url">{url}</code>
                    <button type="button" class="secondary" title="Show it earlier" disabled=i == 0
                        on:click=move |_| images.update(|list| list.swap(i - 1, i))>"↑"</button>
                    <button type="button" class="secondary image-remove"
                        on:click=move |_| images.update(|list| { list.remove(i); })>"Remove"</button>
                </li>
            }).collect_view()}
        </ol>
        <p class="muted">{move || if images.get().is_empty() {
            "No images yet."
        } else {
            "The first image is the one shoppers see in lists."
        }}</p>
        <div class="row">
            <label for="image-url">"Image address"</label>
            <input id="image-url" type="url" size="32" placeholder="https://… or /images/…" prop:value=new_url
                on:input=move |ev| new_url.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add(); }/>
            <button type="button" id="image-add" class="secondary" on:click=move |_| add()>"Add image"</button>
        </div>
    }
}

#[component]
fn NewProductForm(
    categories: RwSignal<Vec<CategoryChoice>>,
    created: impl Fn(Uuid) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let category = RwSignal::new(None::<Uuid>);
    let currency = RwSignal::new("EUR".to_owned());
    let description = RwSignal::new(String::new());
    let images = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<CommandError>);
    let frame = expect_context::<Frame>();
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(category_id) = category.get_untracked() else {
            error.set(Some(CommandError::invalid("Category: choose one.")));
            return;
        };
        let draft = ProductDraft {
            name: name.get_untracked().trim().to_owned(),
            slug: Some(slug.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            description: description.get_untracked().trim().to_owned(),
            category_id,
            currency: currency.get_untracked().trim().to_uppercase(),
            image_urls: images.get_untracked(),
        };
        frame.run(CreateProduct { draft }, error, move |p: Product| {
            created(p.id)
        });
    };
    view! {
        <div class="panel">
            <h2>"New product"</h2>
            <p class="muted">"It starts as a draft: add its variants, then put it on sale."</p>
            <form id="new-product-form" class="stacked" on:submit=create>
                <label for="new-name">"Name"</label>
                <input id="new-name" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="new-slug">"Address (optional)"</label>
                <input id="new-slug" placeholder="made from the name" prop:value=slug on:input=move |ev| slug.set(event_target_value(&ev))/>
                <label for="new-category">"Category"</label>
                <CategorySelect id="new-category" choices=categories value=category/>
                <label for="new-currency">"Currency"</label>
                <input id="new-currency" size="3" maxlength="3" prop:value=currency on:input=move |ev| currency.set(event_target_value(&ev))/>
                <label for="new-description">"Description"</label>
                <textarea id="new-description" rows="4" prop:value=description on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                <h3>"Images"</h3>
                <ImageList images/>
                <button type="submit" id="create-product">"Create draft"</button>
            </form>
            <Problem error/>
        </div>
    }
}

/// The open product, for the forms that change it.
#[derive(Clone, Copy)]
struct Editor {
    frame: Frame,
    product: RwSignal<Option<Product>>,
    notice: RwSignal<String>,
    changed: Callback<()>,
}

impl Editor {
    /// Runs a command that answers with the product and shows the result; a refusal shows in
    /// `refused`, beside the form that sent it.
    fn apply<C: Command<Answer = Product> + 'static>(
        self,
        command: C,
        refused: RwSignal<Option<CommandError>>,
        done: impl Into<String>,
    ) {
        let done = done.into();
        self.notice.set(String::new());
        self.frame.run(command, refused, move |p: Product| {
            self.product.set(Some(p));
            self.notice.set(done);
            self.changed.run(());
        });
    }
}

#[component]
fn ProductEditor(
    id: Uuid,
    categories: RwSignal<Vec<CategoryChoice>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let product = RwSignal::new(None::<Product>);
    let error = RwSignal::new(None::<CommandError>);
    let notice = RwSignal::new(String::new());
    frame.run(GetProduct { id }, error, move |p| product.set(Some(p)));
    // The markets' currencies: each variant gets a price field per currency.
    let currencies = RwSignal::new(Vec::<String>::new());
    frame.run(ListCurrencies {}, error, move |c| currencies.set(c));
    let editor = Editor {
        frame,
        product,
        notice,
        changed: Callback::new(move |()| on_change()),
    };
    view! {
        <div class="panel">
            <Problem error/>
            <p class="notice" role="status" id="catalog-notice">{move || notice.get()}</p>
            {move || product.get().map(|p| view! {
                <h2 id="product-title">{p.name.clone()}</h2>
                <p class="muted">{format!("/products/{} · {}", p.slug, status_label(p.status))}</p>
                <ProductDetails product=p.clone() categories editor/>
                <h2>"Images"</h2>
                <ProductImages product=p.clone() editor/>
                <h2>"Variants"</h2>
                <table id="variants">
                    <thead><tr><th>"Variant"</th><th>"Price"</th><th>"Stock"</th></tr></thead>
                    <tbody>
                        {p.variants.iter().map(|v| view! { <VariantRow product_id=id variant=v.clone() currencies editor/> }).collect_view()}
                    </tbody>
                </table>
                <NewVariantForm product_id=id currency=p.currency.clone() editor/>
                {(p.status != ProductStatus::Archived).then(|| view! {
                    <p>
                        <Confirmed id="archive" label="Archive product" danger=true
                            question=format!("Take {} off the shop?", p.name)
                            action=move || editor.apply(ArchiveProduct { id }, error, "Archived.")/>
                    </p>
                })}
            })}
        </div>
    }
}

/// Name, address, description, category and whether it is on sale.
#[component]
fn ProductDetails(
    product: Product,
    categories: RwSignal<Vec<CategoryChoice>>,
    editor: Editor,
) -> impl IntoView {
    let id = product.id;
    let name = RwSignal::new(product.name.clone());
    let slug = RwSignal::new(product.slug.clone());
    let description = RwSignal::new(product.description.clone());
    let category = RwSignal::new(Some(product.category.id));
    let status = RwSignal::new(product.status);
    let error = RwSignal::new(None::<CommandError>);
    let saved = product.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let changed = |now: String, was: &str| Some(now.trim().to_owned()).filter(|n| n != was);
        let patch = ProductPatch {
            name: changed(name.get_untracked(), &saved.name),
            slug: changed(slug.get_untracked(), &saved.slug),
            description: changed(description.get_untracked(), &saved.description),
            category_id: category.get_untracked().filter(|c| *c != saved.category.id),
            status: Some(status.get_untracked()).filter(|s| *s != saved.status),
            image_urls: None,
        };
        editor.apply(UpdateProduct { id, patch }, error, "Details saved.");
    };
    let archived = product.status == ProductStatus::Archived;
    view! {
        <form id="product-details" class="stacked" on:submit=save>
            <label for="product-name">"Name"</label>
            <input id="product-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
            <label for="product-slug">"Address"</label>
            <input id="product-slug" prop:value=slug on:input=move |ev| slug.set(event_target_value(&ev))/>
            <label for="product-category">"Category"</label>
            <CategorySelect id="product-category" choices=categories value=category/>
            <label for="product-state">"Status"</label>
            <select id="product-state" on:change=move |ev| {
                status.set(match event_target_value(&ev).as_str() {
                    "active" => ProductStatus::Active,
                    "archived" => ProductStatus::Archived,
                    _ => ProductStatus::Draft,
                })
            }>
                <option value="draft" selected=product.status == ProductStatus::Draft>"Draft (hidden)"</option>
                <option value="active" selected=product.status == ProductStatus::Active>"On sale"</option>
                {archived.then(|| view! { <option value="archived" selected=true>"Archived"</option> })}
            </select>
            <label for="product-description">"Description"</label>
            <textarea id="product-description" rows="4" prop:value=description on:input=move |ev| description.set(event_target_value(&ev))></textarea>
            <button type="submit" id="save-details">"Save details"</button>
        </form>
        <Problem error/>
    }
}

#[component]
fn ProductImages(product: Product, editor: Editor) -> impl IntoView {
    let id = product.id;
    let images = RwSignal::new(product.image_urls.clone());
    let error = RwSignal::new(None::<CommandError>);
    let unchanged = move || images.with(|now| *now == product.image_urls);
    let save = move |_| {
        let patch = ProductPatch {
            image_urls: Some(images.get_untracked()),
            ..ProductPatch::default()
        };
        editor.apply(UpdateProduct { id, patch }, error, "Images saved.");
    };
    view! {
        <ImageList images/>
        <p><button type="button" id="save-images" disabled=unchanged on:click=save>"Save images"</button></p>
        <Problem error/>
    }
}

#[component]
fn NewVariantForm(product_id: Uuid, currency: String, editor: Editor) -> impl IntoView {
    let sku = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let options = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let compare_at = RwSignal::new(String::new());
    let stock = RwSignal::new("0".to_owned());
    let error = RwSignal::new(None::<CommandError>);
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(initial_stock) = stock.get_untracked().trim().parse::<i32>() else {
            error.set(Some(CommandError::invalid(
                "Stock: write a whole number of units, e.g. 10.",
            )));
            return;
        };
        let variant = NewVariant {
            sku: sku.get_untracked(),
            title: title.get_untracked(),
            options: options.get_untracked(),
            price: price.get_untracked(),
            compare_at: compare_at.get_untracked(),
            initial_stock,
        };
        editor.apply(
            AddVariant {
                product_id,
                variant,
            },
            error,
            "Variant added.",
        );
    };
    let input = |id: &'static str, value: RwSignal<String>, placeholder: &'static str| {
        view! { <input id=id placeholder=placeholder prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/> }
    };
    view! {
        <h3>"Add a variant"</h3>
        <form id="new-variant" class="stacked" on:submit=add>
            <label for="variant-sku">"SKU"</label>
            {input("variant-sku", sku, "TEE-BLUE-M")}
            <label for="variant-title">"Title"</label>
            {input("variant-title", title, "Blue / M")}
            <label for="variant-options">"Options"</label>
            {input("variant-options", options, "colour=Blue, size=M")}
            <label for="variant-price">{format!("Price ({currency})")}</label>
            {input("variant-price", price, "24.90")}
            <label for="variant-compare-at">{format!("Was price ({currency}, optional)")}</label>
            {input("variant-compare-at", compare_at, "")}
            <label for="variant-stock">"Units in stock"</label>
            {input("variant-stock", stock, "0")}
            <button type="submit" id="add-variant">"Add variant"</button>
        </form>
        <Problem error/>
    }
}

#[component]
fn VariantRow(
    product_id: Uuid,
    variant: Variant,
    currencies: RwSignal<Vec<String>>,
    editor: Editor,
) -> impl IntoView {
    let delta = RwSignal::new(String::new());
    let reason = RwSignal::new("restock".to_owned());
    let note = RwSignal::new(String::new());
    let stock = RwSignal::new(variant.stock_on_hand);
    // The variant's stock ledger, while staff have it open.
    let ledger = RwSignal::new(None::<Vec<StockMovement>>);
    let error = RwSignal::new(None::<CommandError>);
    let frame = expect_context::<Frame>();
    let reasons = LocalResource::new(|| call(ListStockReasons {}));
    let variant_id = variant.id;
    let sku = variant.sku.clone();
    let sku_value = StoredValue::new(sku.clone());
    let variant_prices = StoredValue::new(variant.clone());
    let editing = RwSignal::new(false);
    let title = RwSignal::new(variant.title.clone());
    let new_sku = RwSignal::new(variant.sku.clone());
    let options = RwSignal::new(format::options(&variant.options));
    let sold = RwSignal::new(variant.status);
    let save_edit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let edit = VariantEdit {
            sku: new_sku.get_untracked(),
            title: title.get_untracked(),
            options: options.get_untracked(),
            status: sold.get_untracked(),
        };
        editor.apply(EditVariant { variant_id, edit }, error, "Variant saved.");
    };
    let text = move |class: &'static str, label: &'static str, value: RwSignal<String>| {
        let id = format!("{class}-{variant_id}");
        view! {
            <label for=id.clone()>{label}</label>
            <input id=id class=class prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    let adjust = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(delta_units) = delta.get_untracked().trim().parse::<i32>() else {
            error.set(Some(CommandError::invalid(
                "Change: write a whole number of units, e.g. 5 or -2.",
            )));
            return;
        };
        let adjustment = AdjustStock {
            variant_id,
            delta: delta_units,
            reason: reason.get_untracked(),
            note: Some(note.get_untracked()),
        };
        frame.run(adjustment, error, move |movement: StockMovement| {
            stock.set(movement.stock_after);
            delta.set(String::new());
            note.set(String::new());
            ledger.update(|open| {
                if let Some(movements) = open {
                    movements.insert(0, movement);
                }
            });
        });
    };
    let toggle_ledger = move |_| {
        if ledger.get_untracked().is_some() {
            ledger.set(None);
            return;
        }
        frame.run(
            GetStockHistory { variant_id },
            error,
            move |movements: Vec<StockMovement>| ledger.set(Some(movements)),
        );
    };
    view! {
        <tr data-sku=sku.clone()>
            <td>
                {variant.title.clone()}<div class="muted"><code>{sku.clone()}</code></div>
                {(variant.status == VariantStatus::Archived).then(|| view! { <div class="muted">"not sold"</div> })}
                <button type="button" class="secondary variant-edit" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                {move || editing.get().then(|| view! {
                    <form class="stacked variant-form" on:submit=save_edit>
                        {text("variant-title", "Title", title)}
                        {text("variant-sku", "SKU", new_sku)}
                        {text("variant-options", "Options", options)}
                        <label for=format!("sold-{variant_id}")>"Sold"</label>
                        <select id=format!("sold-{variant_id}") on:change=move |ev| sold.set(
                            if event_target_value(&ev) == "archived" { VariantStatus::Archived } else { VariantStatus::Active })>
                            <option value="active" selected=variant.status == VariantStatus::Active>"On sale"</option>
                            <option value="archived" selected=variant.status == VariantStatus::Archived>"Not sold"</option>
                        </select>
                        <button type="submit" class="variant-save">"Save variant"</button>
                    </form>
                })}
            </td>
            <td>
                <PriceForm product_id variant_id sku=sku.clone() currency=variant.price.currency.code().to_owned()
                    own=true price=Some(variant.price) compare_at=variant.compare_at_price editor error/>
                {move || market_currencies(&variant_prices.read_value(), &currencies.get()).into_iter().map(|currency| {
                    let market = variant_prices.read_value().market_prices.iter()
                        .find(|p| p.price.currency.code() == currency).cloned();
                    view! {
                        <PriceForm product_id variant_id sku=sku_value.get_value() currency own=false
                            price=market.as_ref().map(|p| p.price) compare_at=market.and_then(|p| p.compare_at_price) editor error/>
                    }
                }).collect_view()}
            </td>
            <td>
                <span class="stock">{stock}</span>
                <form class="row stock-adjust" on:submit=adjust>
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
                    <label class="muted" for=format!("note-{sku}")>"Note"</label>
                    <input id=format!("note-{sku}") class="stock-note" size="14" placeholder="optional" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))/>
                    <button type="submit">"Apply"</button>
                    <button type="button" class="secondary stock-history" aria-expanded=move || ledger.with(Option::is_some).to_string()
                        on:click=toggle_ledger>"History"</button>
                </form>
                <Problem error/>
                {move || ledger.get().map(|movements| view! { <StockLedger movements/> })}
            </td>
        </tr>
    }
}

/// The currencies a variant's row offers a price in besides its product's own: the shop's
/// markets' and any it already has a price in.
fn market_currencies(variant: &Variant, shop: &[String]) -> Vec<String> {
    let own = variant.price.currency.code();
    let mut currencies: Vec<String> = shop.iter().filter(|c| *c != own).cloned().collect();
    for price in &variant.market_prices {
        let code = price.price.currency.code();
        if !currencies.iter().any(|c| c == code) {
            currencies.push(code.to_owned());
        }
    }
    currencies
}

/// A variant's price in one currency, with its "was" price. In a market's currency other
/// than the product's an empty price means the variant is not sold there.
#[component]
fn PriceForm(
    product_id: Uuid,
    variant_id: Uuid,
    sku: String,
    currency: String,
    own: bool,
    price: Option<Money>,
    compare_at: Option<Money>,
    editor: Editor,
    error: RwSignal<Option<CommandError>>,
) -> impl IntoView {
    let amount = RwSignal::new(price.as_ref().map(format::amount_text).unwrap_or_default());
    let was = RwSignal::new(
        compare_at
            .as_ref()
            .map(format::amount_text)
            .unwrap_or_default(),
    );
    let code = StoredValue::new(currency.clone());
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let command = SetPrice {
            product_id,
            variant_id,
            currency: Some(code.get_value()),
            price: amount.get_untracked(),
            compare_at: Some(was.get_untracked()),
        };
        // The own currency's notice is the one it always was; a market's names its currency.
        let done = match (own, command.price.trim().is_empty()) {
            (true, _) => "Price saved.".to_owned(),
            (false, false) => format!("{} price saved.", code.get_value()),
            (false, true) => format!("{} price removed: not sold there.", code.get_value()),
        };
        editor.apply(command, error, done);
    };
    // The product's own currency keeps the ids it always had (by SKU); a market's are by
    // variant id, which no other variant's SKU can spell.
    let suffix = if own {
        sku
    } else {
        format!("{variant_id}-{currency}")
    };
    let label = currency.clone();
    view! {
        <form class="row price-form" data-currency=currency on:submit=save>
            <label class="muted" for=format!("price-{suffix}")>{label}</label>
            <input id=format!("price-{suffix}") class="price" size="8" placeholder=if own { "" } else { "not sold" }
                prop:value=amount on:input=move |ev| amount.set(event_target_value(&ev))/>
            <label class="muted" for=format!("was-{suffix}")>"was"</label>
            <input id=format!("was-{suffix}") class="compare-at" size="8" placeholder="—"
                prop:value=was on:input=move |ev| was.set(event_target_value(&ev))/>
            <button type="submit">"Save"</button>
        </form>
    }
}

/// A variant's stock movements, newest first: every change with its reason and the stock after.
#[component]
fn StockLedger(movements: Vec<StockMovement>) -> impl IntoView {
    if movements.is_empty() {
        return view! { <p class="muted stock-ledger">"No stock movements yet."</p> }.into_any();
    }
    view! {
        <table class="stock-ledger">
            <thead><tr><th>"When"</th><th>"Change"</th><th>"Reason"</th><th>"Note"</th><th>"After"</th></tr></thead>
            <tbody>
                {movements.into_iter().map(|m| view! {
                    <tr>
                        <td>{format::when(&m.created_at)}</td>
                        <td>{format!("{:+}", m.delta)}</td>
                        <td>{m.reason}</td>
                        <td>{m.note.unwrap_or_default()}</td>
                        <td>{m.stock_after}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
