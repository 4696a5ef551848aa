//! The shoppers' store: Leptos pages rendered on the server (`ssr`) and hydrated in the browser
//! (`hydrate`, built for wasm32). Every piece of data comes from storefront-api over HTTP
//! through `storefront-client`; the shop never touches a database.
//!
//! - `app.rs`: the HTML shell, the router and the page frame (header, navigation, footer).
//! - `pages/`: one module per page; each reads the API through a `Resource`, which the server
//!   resolves before it sends the HTML (`SsrMode::Async`), so every page works without
//!   JavaScript, and which hydration then takes from the page instead of fetching again.
//! - `api.rs`: the client for the side the code runs on — the server calls storefront-api
//!   directly, forwarding the shopper's cookies; the browser calls `/api/v1` on the shop's own
//!   origin, which the shop's server (or the nginx gateway) passes to storefront-api.
//! - `components.rs`: product cards, prices, ratings, pagers.
//! - `csrf.rs`: the token every HTML form carries (double-submit cookie), checked by the server.
//! - `events.rs`: behaviour events (views, searches, cart changes) sent to the API in batches.
//! - `offer_exposure.rs`: the banner's offer reported shown once per browser session.
//! - `market.rs`: where the shopper shops from (the header's "Ship to"), so pages read that
//!   market's prices.

// Leptos view types nest deeply; the compiler needs more room to lay them out.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod csrf;
pub mod events;
pub mod market;
pub mod offer_exposure;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
