//! The staff console's window: Leptos rendered in the webview, calling the console's Tauri
//! commands (`invoke.rs`) and nothing else — no HTTP, no storage of its own.
//!
//! - `app.rs`: the frame (navigation, who is logged in, keyboard shortcuts) and the screens.
//! - `screens/`: login, dashboard, catalog, orders, customers, churn, campaigns, webhooks.

// Leptos view types nest deeply.
#![recursion_limit = "256"]

mod app;
mod format;
mod invoke;
mod screens;

/// Entry point of the wasm module.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
