//! Logging in: the API's address (remembered), email and password.

use console_protocol::{GetSettings, LogIn};
use leptos::prelude::*;

use crate::app::Frame;
use crate::invoke::{CommandError, call};
use crate::screens::Problem;

#[component]
pub fn LoginScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let address = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<CommandError>);
    let busy = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if let Ok(settings) = call(GetSettings {}).await {
            // The remembered address arrives a moment after the form: never over what staff
            // have begun typing meanwhile.
            address.update(|typed| {
                if typed.is_empty() {
                    *typed = settings.api_address;
                }
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let args = LogIn {
            api_address: address.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match call(args).await {
                Ok(session) => frame.session.set(Some(session)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <main class="login">
            <h1>"Nexus Console"</h1>
            <form class="stacked" on:submit=submit>
                <label for="api-address">"API address"</label>
                <input id="api-address" type="url" required prop:value=address on:input=move |ev| address.set(event_target_value(&ev))/>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required autofocus prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <button id="log-in" type="submit" disabled=busy>{move || if busy.get() { "Logging in…" } else { "Log in" }}</button>
                <Problem error/>
            </form>
        </main>
    }
}
