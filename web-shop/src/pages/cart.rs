use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use storefront_client::ClientError;
use storefront_client::cart::{
    Cart, CartLine, Destination, LineProblem, ShippingCountries, ShippingMethod,
};

use crate::api;
use crate::app::CartState;
use crate::components::ApiProblem;
use storefront_client::events::EventKind;
use storefront_client::promotions::{MissingForPromotion, PromotionHint};

/// The destination and discount the cart's address asks for (`/cart?country=DE&…`); without
/// a country, where the shopper shops from (the header's "Ship to").
pub fn destination(query: &ParamsMap) -> Destination {
    Destination {
        country: query
            .get("country")
            .filter(|c| !c.trim().is_empty())
            .or_else(|| crate::market::current().country),
        shipping_method: query
            .get("shipping_method")
            .as_deref()
            .and_then(ShippingMethod::parse)
            .unwrap_or_default(),
        discount_code: query.get("discount_code").filter(|c| !c.trim().is_empty()),
    }
}

/// A cart priced for the page, and what the API said about the parts of the address it
/// could not use (an unknown code, a country the shop does not ship to): the cart is then
/// shown without them rather than not at all.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PricedCart {
    pub cart: Cart,
    pub countries: ShippingCountries,
    pub discount_problem: Option<String>,
    pub country_problem: Option<String>,
}

async fn priced(
    api: storefront_client::Client,
    mut wanted: Destination,
) -> Result<PricedCart, ClientError> {
    let countries = api.shipping_countries().await?;
    let mut discount_problem = None;
    let mut country_problem = None;
    loop {
        match api.cart(&wanted).await {
            Ok(cart) => {
                return Ok(PricedCart {
                    cart,
                    countries,
                    discount_problem,
                    country_problem,
                });
            }
            Err(ClientError::Api { status: 422, body }) => {
                if let Some(message) = body.field_message("discount_code")
                    && wanted.discount_code.is_some()
                {
                    discount_problem = Some(message);
                    wanted.discount_code = None;
                } else if let Some(message) = body.field_message("country")
                    && wanted.country.is_some()
                {
                    country_problem = Some(message);
                    wanted.country = None;
                } else {
                    return Err(ClientError::Api { status: 422, body });
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// The cart: lines with their quantities and problems, a discount code, the destination for
/// shipping and tax, and the totals.
#[component]
pub fn CartPage() -> impl IntoView {
    let query = use_query_map();
    let state = expect_context::<CartState>();
    let api = api::client();
    let cart = Resource::new(
        move || (state.version.get(), destination(&query.read())),
        move |(_, wanted)| {
            let api = api.clone();
            api::sendable(priced(api, wanted))
        },
    );
    let notice = RwSignal::new(query.get_untracked().get("notice"));
    view! {
        <Title text="Your cart"/>
        <Meta name="robots" content="noindex"/>
        <h1>"Your cart"</h1>
        <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
        <Transition fallback=|| view! { <p>"Loading your cart…"</p> }>
            {move || Suspend::new(async move {
                match cart.await {
                    Ok(priced) if priced.cart.lines.is_empty() => view! {
                        <section class="empty-cart">
                            <p>"Your cart is empty."</p>
                            <p><A href="/">"Continue shopping"</A></p>
                        </section>
                    }.into_any(),
                    Ok(priced) => view! { <CartView priced notice/> }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CartView(priced: PricedCart, notice: RwSignal<Option<String>>) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let wanted = destination(&query);
    let cart = priced.cart;
    let currency = cart.currency;
    let money = move |minor: i64| {
        currency
            .map(|c| storefront_client::money::Money::new(minor, c).to_shopper_string())
            .unwrap_or_default()
    };
    let totals = cart.totals;
    // A code the cart accepted goes on to the checkout's form (accepted codes are letters,
    // digits, `_` and `-`: nothing to escape in a query).
    let checkout_href = match (&wanted.discount_code, &priced.discount_problem) {
        (Some(code), None)
            if code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            format!("/checkout?discount_code={code}")
        }
        _ => "/checkout".to_owned(),
    };
    let with_destination = wanted.country.is_some() && priced.country_problem.is_none();
    let promotion_minor: i64 = cart.promotions.iter().map(|p| p.discount_minor).sum();
    let applied = cart.promotions.clone();
    let hints = cart.promotion_hints.clone();
    view! {
        <table class="cart-lines">
            <caption class="visually-hidden">"Items in your cart"</caption>
            <thead>
                <tr>
                    <th scope="col">"Item"</th>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Quantity"</th>
                    <th scope="col">"Total"</th>
                </tr>
            </thead>
            <tbody>
                {cart.lines.clone().into_iter().map(|line| view! { <Line line notice/> }).collect_view()}
            </tbody>
        </table>
        <div class="cart-side">
            <form class="cart-options" method="get" action="/cart">
                <label for="discount_code">"Discount code"</label>
                <input id="discount_code" name="discount_code" type="text" autocomplete="off"
                    value=wanted.discount_code.clone().unwrap_or_default()
                    aria-invalid=priced.discount_problem.is_some().to_string()
                    aria-describedby="discount-problem"/>
                <p id="discount-problem" class="field-error">{priced.discount_problem.clone()}</p>
                <label for="country">"Deliver to"</label>
                <select id="country" name="country">
                    <option value="" selected=wanted.country.is_none()>"Choose a country"</option>
                    {priced.countries.countries.iter().map(|c| view! {
                        <option value=c.code.clone() selected=wanted.country.as_deref() == Some(c.code.as_str())>{c.name.clone()}</option>
                    }).collect_view()}
                </select>
                <p class="field-error">{priced.country_problem.clone()}</p>
                <fieldset class="shipping-methods">
                    <legend>"Shipping"</legend>
                    {ShippingMethod::ALL.into_iter().map(|method| {
                        let id = format!("shipping-{}", method.as_str());
                        view! {
                            <div>
                                <input type="radio" name="shipping_method" id=id.clone() value=method.as_str()
                                    checked=wanted.shipping_method == method/>
                                <label for=id>{match method {
                                    ShippingMethod::Standard => "Standard (3–5 working days)",
                                    ShippingMethod::Express => "Express (next working day)",
                                }}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <button type="submit">"Update totals"</button>
            </form>
            {(!applied.is_empty()).then(|| view! {
                <section class="promotions" aria-labelledby="promotions-heading">
                    <h2 id="promotions-heading">"Offers applied"</h2>
                    <ul>
                        {applied.into_iter().map(|offer| {
                            let saving = if offer.discount_minor > 0 {
                                format!("−{}", money(offer.discount_minor))
                            } else if offer.shipping_discount_minor > 0 {
                                format!("free shipping (−{})", money(offer.shipping_discount_minor))
                            } else {
                                String::new()
                            };
                            view! {
                                <li data-testid="applied-promotion">
                                    <strong>{offer.title}</strong>
                                    <span class="reason">{offer.reason}</span>
                                    <span class="saving">{saving}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            })}
            {(!hints.is_empty()).then(|| view! {
                <ul class="promotion-hints" aria-label="Offers within reach">
                    {hints.into_iter().map(|hint| view! {
                        <li data-testid="promotion-hint">{hint_text(&hint, &money)}</li>
                    }).collect_view()}
                </ul>
            })}
            {totals.map(|t| view! {
                <dl class="totals">
                    <dt>"Subtotal"</dt><dd>{money(t.subtotal_minor)}</dd>
                    {(promotion_minor > 0).then(|| view! {
                        <dt>"Offers"</dt><dd class="offers">{format!("−{}", money(promotion_minor))}</dd>
                    })}
                    {(t.discount_minor > promotion_minor).then(|| view! {
                        <dt>"Discount"</dt><dd class="discount">{format!("−{}", money(t.discount_minor - promotion_minor))}</dd>
                    })}
                    {with_destination.then(|| view! {
                        <dt>"Shipping"</dt>
                        <dd>{if t.shipping_minor == 0 { "Free".to_owned() } else { money(t.shipping_minor) }}</dd>
                        <dt data-testid="cart-tax-label">{crate::components::tax_label(t.tax_rate_basis_points, t.prices_include_tax)}</dt>
                        <dd data-testid="cart-tax">{money(t.tax_minor)}</dd>
                    })}
                    <dt class="grand">"Total"</dt><dd class="grand" data-testid="cart-total">{money(t.total_minor)}</dd>
                </dl>
            })}
            {(!with_destination).then(|| view! {
                <p class="hint">"Choose where to deliver to see shipping and tax."</p>
            })}
            {if cart.ready_for_checkout {
                view! { <a class="button checkout-link" href=checkout_href rel="external">"Go to checkout"</a> }.into_any()
            } else {
                view! {
                    <p class="field-error">"Some items cannot be bought as they are; change or remove them first."</p>
                }.into_any()
            }}
        </div>
    }
}

/// What a promotion within reach needs, in the shopper's words.
fn hint_text(hint: &PromotionHint, money: &impl Fn(i64) -> String) -> String {
    match &hint.missing {
        MissingForPromotion::Units { units: 1 } => format!("{}: add 1 more item", hint.title),
        MissingForPromotion::Units { units } => format!("{}: add {units} more items", hint.title),
        MissingForPromotion::Spend { amount_minor } => {
            format!("{}: spend {} more", hint.title, money(*amount_minor))
        }
        MissingForPromotion::BetterOffer { applied } => format!(
            "{} does not combine with {applied}, which saves you more",
            hint.title
        ),
    }
}

/// A line's price, or a dash where it has none (not sold in the shopper's market).
fn price_text(line: &CartLine, amount: storefront_client::money::Money) -> String {
    if line.problem == Some(LineProblem::NotSoldInMarket) {
        "—".to_owned()
    } else {
        amount.to_shopper_string()
    }
}

fn problem_text(problem: LineProblem) -> String {
    match problem {
        LineProblem::Unavailable => "No longer sold — please remove it.".to_owned(),
        LineProblem::InsufficientStock { available: 0 } => {
            "Sold out — please remove it.".to_owned()
        }
        LineProblem::InsufficientStock { available } => {
            format!("Only {available} left — lower the quantity.")
        }
        LineProblem::NotSoldInMarket => {
            "Not sold where you shop from — please remove it.".to_owned()
        }
    }
}

/// One line: with the page's script, quantity changes and removals happen in place; without
/// it, the forms post to the shop's server, which redirects back here.
#[component]
fn Line(line: CartLine, notice: RwSignal<Option<String>>) -> impl IntoView {
    let state = expect_context::<CartState>();
    let variant_id = line.variant_id;
    let had = line.quantity;
    let quantity = RwSignal::new(line.quantity);
    let change = move |new_quantity: i32| {
        let api = api::client();
        leptos::task::spawn_local(async move {
            let result = if new_quantity == 0 {
                api.remove_from_cart(variant_id).await
            } else {
                api.set_cart_quantity(variant_id, new_quantity).await
            };
            match result {
                Ok(_) => {
                    notice.set(None);
                    let (kind, units) = if new_quantity > had {
                        (EventKind::AddToCart, new_quantity - had)
                    } else {
                        (EventKind::RemoveFromCart, had - new_quantity)
                    };
                    if units > 0 {
                        crate::events::track(
                            kind,
                            crate::properties! {
                                "variant_id" => variant_id.to_string(),
                                "quantity" => units,
                            },
                        );
                    }
                }
                Err(error) => notice.set(Some(api::shopper_message(&error))),
            }
            state.changed();
        });
    };
    let update = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change(quantity.get_untracked());
    };
    let remove = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change(0);
    };
    let name = line.product_name.clone();
    let quantity_label = format!("Quantity of {name}");
    let remove_label = format!("Remove {name}");
    view! {
        <tr class="cart-line" data-variant=variant_id.to_string()>
            <td class="item">
                {line.image_url.clone().map(|src| view! { <img src=src alt="" width="64" height="64"/> })}
                <div>
                    <A href=format!("/products/{}", line.product_slug)>{name}</A>
                    <div class="variant-title">{line.variant_title.clone()}</div>
                    {line.problem.map(|p| view! { <div class="field-error line-problem">{problem_text(p)}</div> })}
                </div>
            </td>
            <td>{price_text(&line, line.unit_price)}</td>
            <td>
                <form class="quantity" method="post" action="/cart/update" on:submit=update>
                <CsrfField/>
                    <input type="hidden" name="variant_id" value=variant_id.to_string()/>
                    <label class="visually-hidden" for=format!("qty-{variant_id}")>{quantity_label}</label>
                    <input id=format!("qty-{variant_id}") name="quantity" type="number" min="0" max="99"
                        prop:value=move || quantity.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<i32>() {
                                quantity.set(n.clamp(0, 99));
                            }
                        }/>
                    <button type="submit" class="secondary">"Update"</button>
                </form>
                <form class="remove" method="post" action="/cart/remove" on:submit=remove>
                <CsrfField/>
                    <input type="hidden" name="variant_id" value=variant_id.to_string()/>
                    <button type="submit" class="link" aria-label=remove_label>"Remove"</button>
                </form>
            </td>
            <td class="line-total">{price_text(&line, line.line_total)}</td>
        </tr>
    }
}
