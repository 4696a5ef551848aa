//! A forgotten password: ask for a link by email, then set a new password on the page the
//! link opens (it works once, for an hour; the API checks it).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::FormError;
use crate::csrf::CsrfField;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let email = query.get("email").unwrap_or_default();
    let sent = query.get("sent").is_some();
    view! {
        <Title text="Forgot your password?"/>
        <Meta name="robots" content="noindex"/>
        <section class="narrow">
            <h1>"Forgot your password?"</h1>
            {if sent {
                view! {
                    <p class="notice ok" role="status" data-testid="reset-sent">
                        {format!("If {email} has an account with us, a link to set a new password is on its way. It works once, for an hour.")}
                    </p>
                    <p>"Nothing arrived? Check your spam folder, or " <A href="/account/forgot-password">"ask again"</A> "."</p>
                }.into_any()
            } else {
                view! {
                    <p>"Enter the email you log in with and we'll send you a link to set a new password."</p>
                    <FormError/>
                    <form class="stacked" method="post" action="/account/forgot-password">
                        <CsrfField/>
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="email" required value=email/>
                        <button type="submit">"Email me a link"</button>
                    </form>
                }.into_any()
            }}
            <p><A href="/account/login">"Back to log in"</A></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = use_query_map()
        .get_untracked()
        .get("token")
        .unwrap_or_default();
    view! {
        <Title text="Choose a new password"/>
        <Meta name="robots" content="noindex"/>
        // The token must not leak to other sites through the Referer header.
        <Meta name="referrer" content="no-referrer"/>
        <section class="narrow">
            <h1>"Choose a new password"</h1>
            <FormError/>
            {if token.is_empty() {
                view! {
                    <p>"This page needs the link from your email. " <A href="/account/forgot-password">"Ask for a new link"</A> "."</p>
                }.into_any()
            } else {
                view! {
                    <form class="stacked" method="post" action="/account/reset-password">
                        <CsrfField/>
                        <input type="hidden" name="token" value=token/>
                        <label for="new-password">"New password"</label>
                        <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                            required minlength="12" aria-describedby="new-password-hint"/>
                        <p id="new-password-hint" class="hint">"At least 12 characters. Every device is logged out."</p>
                        <button type="submit">"Set new password"</button>
                    </form>
                    <p>"Link expired? " <A href="/account/forgot-password">"Ask for a new one"</A> "."</p>
                }.into_any()
            }}
        </section>
    }
}
