//! Pieces several pages show: product cards, prices, ratings, address fields, form errors.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::params::ParamsMap;
use storefront_client::ClientError;
use storefront_client::account::PostalAddress;
use storefront_client::cart::ShippingCountry;
use storefront_client::catalog::{ProductSummary, Rating};
use storefront_client::money::Money;

/// A price, with the compare-at ("was") price struck through when it is higher.
#[component]
pub fn Price(price: Money, #[prop(default = None)] compare_at: Option<Money>) -> impl IntoView {
    let was = compare_at.filter(|was| was.amount_minor > price.amount_minor);
    let on_sale = was.is_some();
    view! {
        <span class="price" class:sale=on_sale>
            <span class="now">{price.to_shopper_string()}</span>
            {was.map(|was| {
                view! {
                    " "
                    <del class="was" aria-label=format!("was {}", was.to_shopper_string())>
                        {was.to_shopper_string()}
                    </del>
                }
            })}
        </span>
    }
}

/// Stars out of five, with the count; "No reviews yet" without any.
#[component]
pub fn Stars(rating: Rating) -> impl IntoView {
    match rating.average {
        None => view! { <span class="rating none">"No reviews yet"</span> }.into_any(),
        Some(average) => {
            let full = average.round() as usize;
            let stars = format!("{}{}", "★".repeat(full), "☆".repeat(5 - full.min(5)));
            let label = format!(
                "Rated {average:.1} out of 5 by {} reviewer{}",
                rating.count,
                if rating.count == 1 { "" } else { "s" }
            );
            view! {
                <span class="rating" role="img" aria-label=label.clone() title=label>
                    <span aria-hidden="true">{stars}</span>
                    <span class="count" aria-hidden="true">{format!(" ({})", rating.count)}</span>
                </span>
            }
            .into_any()
        }
    }
}

#[component]
pub fn ProductCard(product: ProductSummary) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let image = product.image_url.clone();
    let alt = product.name.clone();
    view! {
        <li class="product-card">
            <A href=href>
                {match image {
                    Some(src) => view! { <img src=src alt=alt loading="lazy" width="320" height="320"/> }.into_any(),
                    None => view! { <div class="no-image" aria-hidden="true"></div> }.into_any(),
                }}
                <span class="name">{product.name}</span>
            </A>
            {product.price_from.map(|price| view! { <Price price compare_at=product.compare_at_from/> })}
            <Stars rating=product.rating/>
            {(!product.in_stock).then(|| view! { <span class="stock out">"Sold out"</span> })}
        </li>
    }
}

#[component]
pub fn ProductGrid(products: Vec<ProductSummary>) -> impl IntoView {
    view! {
        <ul class="product-grid">
            {products.into_iter().map(|product| view! { <ProductCard product/> }).collect_view()}
        </ul>
    }
}

/// What a page shows when the API failed it.
#[component]
pub fn ApiProblem(error: ClientError) -> impl IntoView {
    let message = match &error {
        ClientError::Unreachable(_) => {
            "The shop cannot reach its catalog right now. Please try again in a moment.".to_owned()
        }
        ClientError::Api { body, .. } => body.message.clone(),
        ClientError::Unexpected { .. } => "Something went wrong on our side.".to_owned(),
    };
    view! {
        <div class="problem" role="alert">
            <h2>"Sorry — this page could not be loaded"</h2>
            <p>{message}</p>
        </div>
    }
}

/// A postal address as the shop's forms carry it: field names as the API's, every field
/// text (an empty one is left for the API to call required).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct AddressValues {
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
}

impl AddressValues {
    pub const KEYS: [&'static str; 8] = [
        "full_name",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
    ];

    pub fn from_postal(address: &PostalAddress) -> Self {
        Self {
            full_name: address.full_name.clone(),
            line1: address.line1.clone(),
            line2: address.line2.clone().unwrap_or_default(),
            city: address.city.clone(),
            region: address.region.clone().unwrap_or_default(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
            phone: address.phone.clone().unwrap_or_default(),
        }
    }

    /// The address to send: text trimmed, empty optional lines left out.
    pub fn to_postal(&self) -> PostalAddress {
        let optional = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        PostalAddress {
            full_name: self.full_name.trim().to_owned(),
            line1: self.line1.trim().to_owned(),
            line2: optional(&self.line2),
            city: self.city.trim().to_owned(),
            region: optional(&self.region),
            postal_code: self.postal_code.trim().to_owned(),
            country: self.country.trim().to_owned(),
            phone: optional(&self.phone),
        }
    }

    /// The fields as query pairs, to put a refused form back as it was typed.
    pub fn pairs(&self) -> [(&'static str, &str); 8] {
        [
            ("full_name", &self.full_name),
            ("line1", &self.line1),
            ("line2", &self.line2),
            ("city", &self.city),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("phone", &self.phone),
        ]
    }

    fn slot(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "full_name" => &mut self.full_name,
            "line1" => &mut self.line1,
            "line2" => &mut self.line2,
            "city" => &mut self.city,
            "region" => &mut self.region,
            "postal_code" => &mut self.postal_code,
            "country" => &mut self.country,
            "phone" => &mut self.phone,
            _ => return None,
        })
    }

    /// What a refused form sent back in the page's query wins over these values.
    pub fn typed_over(mut self, query: &ParamsMap) -> Self {
        for key in Self::KEYS {
            if let (Some(typed), Some(slot)) = (query.get(key), self.slot(key)) {
                *slot = typed;
            }
        }
        self
    }

    pub fn get(&self, key: &str) -> String {
        self.clone()
            .slot(key)
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

/// The inputs of a postal address, labelled and with autocomplete hints; the country is one
/// the shop ships to.
#[component]
pub fn AddressFields(values: AddressValues, countries: Vec<ShippingCountry>) -> impl IntoView {
    let country = values.country.clone();
    let values = StoredValue::new(values);
    let field =
        move |id: &'static str, label: &'static str, autocomplete: &'static str, required: bool| {
            view! {
                <label for=id>{label}{(!required).then_some(" (optional)")}</label>
                <input id=id name=id type="text" autocomplete=autocomplete required=required
                    value=values.with_value(|v| v.get(id))/>
            }
        };
    view! {
        {field("full_name", "Full name", "name", true)}
        {field("line1", "Address", "address-line1", true)}
        {field("line2", "Address line 2", "address-line2", false)}
        {field("postal_code", "Postal code", "postal-code", true)}
        {field("city", "City", "address-level2", true)}
        {field("region", "Region", "address-level1", false)}
        <label for="country">"Country"</label>
        <select id="country" name="country" autocomplete="country" required>
            <option value="" selected=country.is_empty()>"Choose a country"</option>
            {countries.into_iter().map(|c| {
                let selected = c.code == country;
                view! { <option value=c.code selected=selected>{c.name}</option> }
            }).collect_view()}
        </select>
        {field("phone", "Phone", "tel", false)}
    }
}

/// Stars for one review.
#[component]
pub fn ReviewStars(rating: i32) -> impl IntoView {
    let full = usize::try_from(rating.clamp(0, 5)).unwrap_or(0);
    let label = format!("{rating} out of 5 stars");
    view! {
        <span class="rating" role="img" aria-label=label>
            <span aria-hidden="true">{format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))}</span>
        </span>
    }
}

/// The `?error=` a form's redirect carried back.
#[component]
pub fn FormError() -> impl IntoView {
    let error = leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("error");
    view! { <p class="form-error" role="alert">{error}</p> }
}

/// The tax row of a totals table: where prices include tax it is part of the total ("incl.
/// 19% VAT"), where it is added it is one more amount to pay ("Tax (7.25%)").
pub fn tax_label(basis_points: u32, prices_include_tax: bool) -> String {
    let percent = f64::from(basis_points) / 100.0;
    if prices_include_tax {
        format!("Incl. {percent}% VAT")
    } else {
        format!("Tax ({percent}%)")
    }
}
