//! `/account/addresses/new` and `/account/addresses/{id}`: one saved address, added or edited.

use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use storefront_client::ClientError;
use storefront_client::account::Address;
use storefront_client::cart::ShippingCountries;

use crate::api;
use crate::components::{AddressFields, AddressValues, ApiProblem, FormError};
use crate::pages::account::{LogInFirst, Session};
use crate::pages::not_found::NotFound;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AddressFormData {
    /// `None` for a new address.
    address: Option<Address>,
    countries: ShippingCountries,
}

/// The address to edit (`Ok(None)` when `id` names none of the shopper's) and the countries.
async fn load(
    api: storefront_client::Client,
    id: String,
) -> Result<Option<AddressFormData>, ClientError> {
    let countries = api.shipping_countries().await?;
    if id == "new" {
        return Ok(Some(AddressFormData {
            address: None,
            countries,
        }));
    }
    let address = api
        .addresses()
        .await?
        .into_iter()
        .find(|a| a.id.to_string() == id);
    Ok(address.map(|address| AddressFormData {
        address: Some(address),
        countries,
    }))
}

#[component]
pub fn AddressPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let api = api::client();
    let data = Resource::new(id, move |id| {
        let api = api.clone();
        api::sendable(load(api, id))
    });
    view! {
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                if session.await.is_err() {
                    return view! {
                        <Title text="Your address"/>
                        <LogInFirst next="/account" message="Log in to manage your addresses."/>
                    }
                    .into_any();
                }
                match data.await {
                    Ok(Some(data)) => view! { <AddressForm data/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddressForm(data: AddressFormData) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let refused = query.get("error").is_some();
    let saved = data.address.clone();
    let values = saved
        .as_ref()
        .map(|saved| AddressValues::from_postal(&saved.address))
        .unwrap_or_default()
        .typed_over(&query);
    let label = query
        .get("label")
        .or_else(|| saved.as_ref().and_then(|a| a.label.clone()))
        .unwrap_or_default();
    let is_default = if refused {
        query.get("is_default").is_some()
    } else {
        saved.as_ref().is_some_and(|a| a.is_default)
    };
    let heading = if saved.is_some() {
        "Edit address"
    } else {
        "Add an address"
    };
    view! {
        <Title text=heading/>
        <section class="narrow">
            <h1>{heading}</h1>
            <FormError/>
            <form class="stacked" method="post" action="/account/addresses">
                <CsrfField/>
                <input type="hidden" name="id" value=saved.as_ref().map(|a| a.id.to_string()).unwrap_or_default()/>
                <label for="label">"Label (optional, e.g. Home or Work)"</label>
                <input id="label" name="label" type="text" value=label/>
                <AddressFields values countries=data.countries.countries/>
                <div class="checkbox">
                    <input id="is_default" name="is_default" type="checkbox" checked=is_default/>
                    <label for="is_default">"Use as my default address at checkout"</label>
                </div>
                <button type="submit">"Save address"</button>
            </form>
            <p><A href="/account#addresses">"← Back to your account"</A></p>
        </section>
    }
}
