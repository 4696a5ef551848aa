//! The HTML shell, the routes and the frame every page shares.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
    path,
};
use storefront_client::ClientError;
use storefront_client::cart::{Cart, Destination};
use storefront_client::catalog::{CategoryNode, PriceParams};
use storefront_client::offers::PersonalOffer;

use crate::api;
use crate::offer_exposure::{self, ReportedExposures};
use crate::pages::{
    account::{AccountPage, LoginPage, OrderPage, RegisterPage, Session},
    addresses::AddressPage,
    cart::CartPage,
    category::CategoryPage,
    checkout::CheckoutPage,
    home::HomePage,
    marketing::UnsubscribePage,
    not_found::NotFound,
    password_reset::{ForgotPasswordPage, ResetPasswordPage},
    product::ProductPage,
    review::ReviewPage,
    search::SearchPage,
};

pub const SHOP_NAME: &str = "Nexus";

/// The document around the app; the server renders it once per request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(crate::csrf::CsrfToken::for_this_page());
    let market = crate::market::ShopperMarket::for_this_page();
    provide_context(market.clone());
    // Tells the browser tests (and anyone curious) that the page is interactive now.
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
        crate::events::start();
    });
    let api = api::client();
    let prices = PriceParams {
        currency: market.currency.clone(),
    };
    let categories = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            let prices = prices.clone();
            // Counted in the shopper's market; shoppers never see an empty category (staff
            // do, in the console).
            api::sendable(async move {
                api.categories_in(&prices)
                    .await
                    .map(CategoryNode::with_products)
            })
        },
    );
    provide_context(categories);
    let cart_version = RwSignal::new(0u32);
    let api = api::client();
    let cart = Resource::new(
        move || cart_version.get(),
        move |_| {
            let api = api.clone();
            // Priced for where the shopper shops from: the header's count leaves out what is
            // not sold there, as the cart page does.
            let wanted = Destination {
                country: market.country.clone(),
                ..Destination::default()
            };
            api::sendable(async move { api.cart(&wanted).await })
        },
    );
    let api = api::client();
    let session: Session = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            api::sendable(async move { api.me().await })
        },
    );
    provide_context(session);
    let api = api::client();
    let reported = ReportedExposures::for_this_page();
    let offer: PersonalOfferResource = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            let reported = reported.clone();
            api::sendable(async move { banner_offer(&api, session, &reported).await })
        },
    );
    provide_context(offer);
    provide_context(CartState {
        version: cart_version,
        cart,
    });
    view! {
        <Stylesheet id="shop" href="/assets/shop.css"/>
        <Link rel="icon" href="/assets/favicon.svg" type_="image/svg+xml"/>
        <Title formatter=|page: String| format!("{page} · {SHOP_NAME}")/>
        <Meta name="theme-color" content="#1d3557"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header/>
            <OfferBanner/>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:slug") view=CategoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/products/:slug") view=ProductPage ssr=SsrMode::Async/>
                    <Route path=path!("/products/:slug/review") view=ReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/cart") view=CartPage ssr=SsrMode::Async/>
                    <Route path=path!("/checkout") view=CheckoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/register") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/unsubscribe") view=UnsubscribePage ssr=SsrMode::Async/>
                    <Route path=path!("/account/orders/:id") view=OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/orders/:id/return") view=crate::pages::returns::ReturnPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/addresses/:id") view=AddressPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}

/// The personal offer the banner shows a logged-in customer, if they hold one.
pub type PersonalOfferResource = Resource<Option<PersonalOffer>>;

/// The offer to show: the customer's soonest to expire. Fetching it to render is showing it,
/// so the shop reports the exposure here, on the server — once per customer and campaign in a
/// browser session (`offer_exposure`), not with every page load.
async fn banner_offer(
    api: &storefront_client::Client,
    session: Session,
    reported: &ReportedExposures,
) -> Option<PersonalOffer> {
    let account = session.await.ok()?;
    let offer = api.my_offers().await.ok()?.into_iter().next()?;
    let shown = offer_exposure::shown(&account, &offer);
    if !reported.contains(&shown) {
        match api.offer_shown(offer.campaign_id).await {
            Ok(()) => reported.note(&shown),
            Err(error) => leptos::logging::warn!("offer exposure not logged: {error}"),
        }
    }
    Some(offer)
}

/// A treated customer's offer across the top of every page, with their code applied to the
/// cart in one click.
#[component]
fn OfferBanner() -> impl IntoView {
    let offer = expect_context::<PersonalOfferResource>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                offer.await.map(|offer| {
                    let apply = format!("/cart?discount_code={}", offer.code);
                    let minimum = offer
                        .minimum_spend
                        .map(|m| format!(" on orders of {} or more", m.to_shopper_string()))
                        .unwrap_or_default();
                    view! {
                        <aside class="offer-banner" id="offer-banner" aria-label="Your personal offer">
                            <p>
                                <strong>{offer.headline}</strong>
                                {format!(" — just for you{minimum}, with code ")}
                                <code class="offer-code">{offer.code}</code>
                                {format!(", until {}.", offer.expires_at.format("%-d %B %Y"))}
                            </p>
                            <a class="button" href=apply>"Apply to my cart"</a>
                        </aside>
                    }
                })
            })}
        </Transition>
    }
}

/// "Ship to": the countries the shop ships to, each with its market's currency; choosing one
/// posts to the shop's server, which keeps it in the market cookies and brings the shopper
/// back to the same page, now in that market's prices.
#[component]
fn MarketSwitch() -> impl IntoView {
    let market = StoredValue::new(crate::market::current());
    let location = leptos_router::hooks::use_location();
    let back = move || format!("{}{}", location.pathname.get(), location.search.get());
    let api = api::client();
    let countries = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            api::sendable(async move { api.shipping_countries().await })
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let countries = countries.await.ok()?;
                let chosen = market
                    .get_value()
                    .country
                    .unwrap_or_else(|| countries.meta.default_country.clone());
                Some(view! {
                    <form class="market-switch" method="post" action="/market">
                        <crate::csrf::CsrfField/>
                        <input type="hidden" name="back" value=back/>
                        <label for="market-country">"Ship to"</label>
                        <select id="market-country" name="country">
                            {countries
                                .countries
                                .into_iter()
                                .map(|c| {
                                    let selected = c.code == chosen;
                                    view! {
                                        <option value=c.code.clone() selected=selected>
                                            {format!("{} · {}", c.name, c.currency)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <button type="submit">"Change"</button>
                    </form>
                })
            })}
        </Transition>
    }
}

/// The category tree, fetched once per page load and shared by the header and the pages.
pub type Categories = Resource<Result<Vec<CategoryNode>, storefront_client::ClientError>>;

/// The shopper's cart as the header shows it. Anything that changes the cart bumps `version`,
/// and every view of the cart fetches again.
#[derive(Clone, Copy)]
pub struct CartState {
    pub version: RwSignal<u32>,
    pub cart: Resource<Result<Cart, ClientError>>,
}

impl CartState {
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
}

#[component]
fn Header() -> impl IntoView {
    let categories = expect_context::<Categories>();
    let cart = expect_context::<CartState>().cart;
    let session = expect_context::<Session>();
    view! {
        <header class="site-header">
            <div class="bar">
                <A href="/" attr:class="brand">{SHOP_NAME}</A>
                <form class="search" action="/search" method="get" role="search">
                    <label for="search-q" class="visually-hidden">"Search products"</label>
                    <input id="search-q" type="search" name="q" placeholder="Search products" required/>
                    <button type="submit">"Search"</button>
                </form>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.await {
                            Ok(account) => {
                                let first = account.full_name.split_whitespace().next().unwrap_or("you").to_owned();
                                view! { <A href="/account" attr:class="account-link">{format!("Hi, {first}")}</A> }.into_any()
                            }
                            Err(_) => view! { <A href="/account/login" attr:class="account-link">"Log in"</A> }.into_any(),
                        }
                    })}
                </Transition>
                <MarketSwitch/>
                <A href="/cart" attr:class="cart-link">
                    "Cart"
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let count = cart.await.map(|c| c.item_count).unwrap_or(0);
                            (count > 0).then(|| view! {
                                <span class="cart-count" aria-label=format!("{count} items")>{count}</span>
                            })
                        })}
                    </Transition>
                </A>
            </div>
            <nav aria-label="Categories">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let nodes = categories.await.unwrap_or_default();
                        view! {
                            <ul class="category-nav">
                                {nodes
                                    .into_iter()
                                    .map(|c| {
                                        view! {
                                            <li>
                                                <A href=format!("/c/{}", c.slug)>{c.name}</A>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

#[component]
fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>{SHOP_NAME}" — an open-source shop. Tax and shipping are worked out in the cart."</p>
        </footer>
    }
}
