//! Checkout: the delivery address, the shipping method, a discount code and the card, in one
//! form that posts to the shop's server (with or without JavaScript). The form carries an
//! idempotency key made when it was rendered, so submitting it twice places one order.

use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use storefront_client::ClientError;
use storefront_client::account::Address;
use storefront_client::cart::{Cart, Destination, ShippingCountries, ShippingMethod};

use crate::api;
use crate::components::{AddressFields, AddressValues, ApiProblem};
use crate::pages::account::{LogInFirst, Session};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckoutData {
    cart: Cart,
    countries: ShippingCountries,
    saved: Option<Address>,
    idempotency_key: String,
}

async fn load(
    api: storefront_client::Client,
    country: Option<String>,
) -> Result<CheckoutData, ClientError> {
    // Priced for where the shopper shops from; the order is priced for its address.
    let cart = api
        .cart(&Destination {
            country,
            ..Destination::default()
        })
        .await?;
    let countries = api.shipping_countries().await?;
    let saved = api.addresses().await?.into_iter().next();
    Ok(CheckoutData {
        cart,
        countries,
        saved,
        idempotency_key: api::new_idempotency_key(),
    })
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let session = expect_context::<Session>();
    Effect::new(|_| {
        crate::events::track(
            storefront_client::events::EventKind::CheckoutStarted,
            serde_json::Map::new(),
        );
    });
    let api = api::client();
    let country = crate::market::current().country;
    let data = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            api::sendable(load(api, country.clone()))
        },
    );
    view! {
        <Title text="Checkout"/>
        <Meta name="robots" content="noindex"/>
        <h1>"Checkout"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                if session.await.is_err() {
                    return view! {
                        <LogInFirst next="/checkout" message="Log in or create an account to check out; your cart is kept."/>
                    }
                    .into_any();
                }
                match data.await {
                    Ok(data) if data.cart.lines.is_empty() => view! {
                        <p>"Your cart is empty. " <A href="/">"Continue shopping"</A></p>
                    }.into_any(),
                    Ok(data) => view! { <CheckoutForm data/> }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CheckoutForm(data: CheckoutData) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let error = query.get("error");
    let mut address = data
        .saved
        .as_ref()
        .map(|saved| AddressValues::from_postal(&saved.address))
        .unwrap_or_default()
        .typed_over(&query);
    if address.country.is_empty() {
        // Where the shopper said they shop from: the summary is priced for it.
        address.country = crate::market::current().country.unwrap_or_default();
    }
    let method = query
        .get("shipping_method")
        .as_deref()
        .and_then(ShippingMethod::parse)
        .unwrap_or_default();
    let discount_code = query.get("discount_code").unwrap_or_default();
    let lines = data.cart.lines.clone();
    let subtotal = data.cart.totals.map(|t| t.subtotal_minor);
    let currency = data.cart.currency;
    view! {
        <p class="form-error" role="alert" data-testid="checkout-error">{error}</p>
        <div class="checkout">
            <form class="stacked" method="post" action="/checkout">
                <CsrfField/>
                <input type="hidden" name="idempotency_key" value=data.idempotency_key.clone()/>
                <input type="hidden" name="expected_currency" value=currency.map(|c| c.code().to_owned()).unwrap_or_default()/>
                <fieldset>
                    <legend>"Delivery address"</legend>
                    <AddressFields values=address countries=data.countries.countries.clone()/>
                </fieldset>
                <fieldset class="shipping-methods">
                    <legend>"Shipping"</legend>
                    {ShippingMethod::ALL.into_iter().map(|m| {
                        let id = format!("ship-{}", m.as_str());
                        view! {
                            <div>
                                <input type="radio" id=id.clone() name="shipping_method" value=m.as_str() checked=m == method/>
                                <label for=id>{match m {
                                    ShippingMethod::Standard => "Standard (3–5 working days)",
                                    ShippingMethod::Express => "Express (next working day)",
                                }}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <label for="discount_code">"Discount code (optional)"</label>
                <input id="discount_code" name="discount_code" type="text" autocomplete="off" value=discount_code/>
                <fieldset>
                    <legend>"Payment"</legend>
                    <label for="card_number">"Card number"</label>
                    <input id="card_number" name="card_number" type="text" inputmode="numeric"
                        autocomplete="cc-number" required/>
                    <div class="row">
                        <div>
                            <label for="expiry">"Expiry (MM/YY)"</label>
                            <input id="expiry" name="expiry" type="text" inputmode="numeric"
                                autocomplete="cc-exp" placeholder="MM/YY" required size="6"/>
                        </div>
                        <div>
                            <label for="cvc">"Security code"</label>
                            <input id="cvc" name="cvc" type="text" inputmode="numeric"
                                autocomplete="cc-csc" required size="4"/>
                        </div>
                    </div>
                    <p class="hint">"Test cards: 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 is declined."</p>
                </fieldset>
                <button type="submit" class="place-order">"Place order"</button>
            </form>
            <aside class="summary" aria-labelledby="summary-heading">
                <h2 id="summary-heading">"Your order"</h2>
                <ul>
                    {lines.into_iter().map(|l| view! {
                        <li>{format!("{} × {} — {}", l.quantity, l.product_name, l.variant_title)}
                            <span>{l.line_total.to_shopper_string()}</span></li>
                    }).collect_view()}
                </ul>
                <p>"Subtotal: " <strong>{subtotal.zip(currency).map(|(s, c)| storefront_client::money::Money::new(s, c).to_shopper_string())}</strong></p>
                <p class="hint">"Shipping for your country is added when you place the order. Prices include VAT in the EU and the UK; in the US, sales tax is added then too. An address in another market than the one shown is priced in its currency: the order is then stopped for you to check the new prices."</p>
                <p><A href="/cart">"Change the cart"</A></p>
            </aside>
        </div>
    }
}
