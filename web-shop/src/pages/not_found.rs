use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;

/// Any address the shop does not know, and products or categories that do not exist: a 404
/// with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <Meta name="robots" content="noindex"/>
        <section class="not-found">
            <h1>"We can't find that page"</h1>
            <p>"The link may be old, or the product may no longer be sold."</p>
            <p>
                <A href="/">"Go to the home page"</A>
                " or search the shop with the box above."
            </p>
        </section>
    }
}
