//! Customers: search; the detail with orders, the churn score with its reasons, and the
//! emails the shop sent them (support can send one again).

use console_protocol::{FindCustomers, GetCustomer, ResendCustomerEmail};
use leptos::prelude::*;
use storefront_client::staff::customers::{CustomerEmail, EmailStatus};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::call;
use crate::screens::{Problem, failed};

#[component]
pub fn CustomersScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let text = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<Uuid>);
    let list = LocalResource::new(move || {
        let text = Some(text.get()).filter(|t| !t.trim().is_empty());
        call(FindCustomers { text, page: 1 })
    });
    view! {
        <h1>"Customers"</h1>
        <div class="row" role="search">
            <label for="customer-search">"Find"</label>
            <input id="customer-search" type="search" placeholder="Name or email" prop:value=text
                on:input=move |ev| text.set(event_target_value(&ev))/>
        </div>
        <div class="split">
            <section aria-label="Customer list">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) => view! {
                                <p class="muted">{format!("{} customers", list.meta.total)}</p>
                                <table id="customers">
                                    <thead><tr><th>"Name"</th><th>"Email"</th><th>"Since"</th></tr></thead>
                                    <tbody>
                                        {list.customers.into_iter().map(|c| {
                                            let id = c.id;
                                            view! {
                                                <tr class="clickable">
                                                    <td><button class="secondary customer-open" on:click=move |_| selected.set(Some(id))>{c.full_name}</button></td>
                                                    <td>{c.email}</td>
                                                    <td>{c.created_at.format("%-d %b %Y").to_string()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                            Err(error) => failed(frame, error),
                        }
                    })}
                </Transition>
            </section>
            <section aria-label="Customer">
                {move || selected.get().map(|id| view! { <CustomerDetailPanel id/> })}
            </section>
        </div>
    }
}

#[component]
fn CustomerDetailPanel(id: Uuid) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let view_data = LocalResource::new(move || call(GetCustomer { id }));
    let error = RwSignal::new(None);
    let resend = move |email_id: i64| {
        frame.run(
            ResendCustomerEmail {
                customer_id: id,
                email_id,
            },
            error,
            move |_| view_data.refetch(),
        );
    };
    view! {
        <div class="panel" id="customer-detail">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(v) => view! {
                            <h2>{v.customer.account.full_name.clone()}</h2>
                            <p>{v.customer.account.email.clone()}</p>
                            <h2>"Churn"</h2>
                            {match v.churn {
                                Ok(churn) if churn.scorable => view! {
                                    <p id="churn-score">
                                        <strong>{churn.probability.map(format::percent)}</strong>
                                        " chance of churning · risk "
                                        <strong>{churn.risk_band.clone()}</strong>
                                        <span class="muted">{format!(" (model {})", churn.model_version)}</span>
                                    </p>
                                    <table>
                                        <thead><tr><th>"Pushing it up"</th><th>"This customer"</th><th>"Typical"</th><th>"Effect"</th></tr></thead>
                                        <tbody>
                                            {churn.drivers.iter().map(|d| view! {
                                                <tr><td>{d.feature.replace('_', " ")}</td><td>{format!("{:.1}", d.value)}</td>
                                                    <td>{format!("{:.1}", d.typical)}</td><td>{format!("+{}", format::percent(d.effect))}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any(),
                                Ok(churn) => view! { <p class="muted">{churn.reason.unwrap_or_default()}</p> }.into_any(),
                                Err(error) => view! { <p class="muted">{error.message}</p> }.into_any(),
                            }}
                            <h2>{format!("Orders ({})", v.order_count)}</h2>
                            {(v.order_count > 0).then(|| {
                                let email = v.customer.account.email.clone();
                                view! {
                                    <p><button class="secondary" id="customer-orders"
                                        on:click=move |_| frame.show_orders_of(email.clone())>"All their orders"</button></p>
                                }
                            })}
                            <table>
                                <thead><tr><th>"Order"</th><th>"Placed"</th><th>"Status"</th><th>"Total"</th></tr></thead>
                                <tbody>
                                    {v.orders.iter().map(|o| view! {
                                        <tr><td>{format!("#{}", o.number)}</td><td>{format::when(&o.placed_at)}</td>
                                            <td>{o.status.label()}</td><td>{format::money(&o.total)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Addresses"</h2>
                            <ul>{v.customer.addresses.iter().map(|a| view! {
                                <li>{format::address(&a.address)}</li>
                            }).collect_view()}</ul>
                            <h2>{format!("Emails ({})", v.email_count)}</h2>
                            <Problem error/>
                            <table id="customer-emails">
                                <thead><tr><th>"Email"</th><th>"When"</th><th>"State"</th><th></th></tr></thead>
                                <tbody>
                                    {v.emails.into_iter().map(|e| view! { <EmailRow email=e resend/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => {
                            frame.check(&error);
                            view! { <p class="error" role="alert">{error.message}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

/// One email: what it was, when, how it went (and why not), and "Send again" once it is
/// no longer on its way.
#[component]
fn EmailRow(email: CustomerEmail, resend: impl Fn(i64) + Copy + 'static) -> impl IntoView {
    let id = email.id;
    let what = match email.kind.as_str() {
        "order_confirmation" => "Order confirmation",
        "order_shipped" => "Shipped",
        "order_delivered" => "Delivered",
        "order_refunded" => "Refund",
        "password_reset" => "Password reset",
        "offer" => "Offer",
        other => other,
    }
    .to_owned();
    let when = email.sent_at.unwrap_or(email.created_at);
    let state = match (email.status, email.next_attempt_at) {
        (EmailStatus::Pending, Some(next)) => format!("pending · next try {}", format::when(&next)),
        (status, _) => format!("{} · {} attempt(s)", status.as_str(), email.attempts),
    };
    let again = email.status != EmailStatus::Pending;
    view! {
        <tr class="customer-email">
            <td>{what}</td>
            <td>{format::when(&when)}</td>
            <td class="email-state">{state}{email.last_error.map(|e| view! { <div class="muted">{e}</div> })}</td>
            <td>{again.then(|| view! {
                <button class="secondary email-resend" on:click=move |_| resend(id)>"Send again"</button>
            })}</td>
        </tr>
    }
}
