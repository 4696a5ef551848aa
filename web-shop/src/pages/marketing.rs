//! Marketing emails: the account page's choice, and the page a marketing email's
//! unsubscribe link opens (one button, no login; a GET changes nothing, since mail scanners
//! open links).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use storefront_client::ClientError;
use storefront_client::account::MarketingConsent;

use crate::components::{ApiProblem, FormError};
use crate::csrf::CsrfField;

/// The account page's section: whether the shop may send offers, with when it last changed.
#[component]
pub fn MarketingChoice(consent: Result<MarketingConsent, ClientError>) -> impl IntoView {
    view! {
        <section id="marketing" aria-labelledby="marketing-heading">
            <h2 id="marketing-heading">"Emails"</h2>
            <p>"We always email you about your orders and your account. Offers are up to you."</p>
            {match consent {
                Ok(consent) => {
                    let since = consent
                        .changed_at
                        .map(|at| format!(" (since {})", at.format("%-d %B %Y")))
                        .unwrap_or_default();
                    let (status, button, value) = if consent.subscribed {
                        ("You get our offers by email", "Stop sending me offers", "false")
                    } else {
                        ("You get no offers by email", "Send me offers", "true")
                    };
                    view! {
                        <p data-testid="marketing-status">{format!("{status}{since}.")}</p>
                        <form method="post" action="/account/marketing">
                            <CsrfField/>
                            <input type="hidden" name="subscribed" value=value/>
                            <button type="submit" class="secondary">{button}</button>
                        </form>
                    }.into_any()
                }
                Err(error) => view! { <ApiProblem error/> }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let token = query.get("token").unwrap_or_default();
    let done = query.get("done").is_some();
    view! {
        <Title text="Unsubscribe"/>
        <Meta name="robots" content="noindex"/>
        <Meta name="referrer" content="no-referrer"/>
        <section class="narrow">
            <h1>"Unsubscribe from offers"</h1>
            <FormError/>
            {if done {
                view! {
                    <p class="notice ok" role="status" data-testid="unsubscribed">
                        "Done: we will send you no more offers. Emails about your orders still reach you."
                    </p>
                    <p>"Changed your mind? You can subscribe again on " <A href="/account#marketing">"your account page"</A> "."</p>
                }.into_any()
            } else if token.is_empty() {
                view! {
                    <p>"This page needs the link from one of our emails. Logged in, you can choose on " <A href="/account#marketing">"your account page"</A> "."</p>
                }.into_any()
            } else {
                view! {
                    <p>"Stop our offers by email? Emails about your orders and your account still reach you."</p>
                    <form method="post" action="/unsubscribe">
                        <CsrfField/>
                        <input type="hidden" name="token" value=token/>
                        <button type="submit">"Unsubscribe"</button>
                    </form>
                }.into_any()
            }}
        </section>
    }
}
