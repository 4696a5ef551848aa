//! Customers: search; the detail with orders, the churn score with its reasons in the shop's
//! words, the value they are expected to bring over the next year, and the emails the shop
//! sent them (support can send one again).

use console_protocol::{FindCustomers, GetCustomer, ResendCustomerEmail};
use leptos::prelude::*;
use storefront_client::money::Money;
use storefront_client::staff::churn::{Driver, LifetimeValue};
use storefront_client::staff::customers::{CustomerEmail, EmailStatus};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::call;
use crate::screens::segments::{AddToGroup, GroupsPane};
use crate::screens::{Problem, failed};

#[component]
pub fn CustomersScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let text = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<Uuid>);
    // The right-hand pane shows the groups and segments instead of a customer.
    let groups = RwSignal::new(false);
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
            <button type="button" id="customer-groups" class="secondary"
                on:click=move |_| groups.set(true)>"Groups and segments"</button>
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
                                                    <td><button class="secondary customer-open" on:click=move |_| { groups.set(false); selected.set(Some(id)); }>{c.full_name}</button></td>
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
                {move || if groups.get() {
                    view! { <GroupsPane/> }.into_any()
                } else {
                    selected.get().map(|id| view! { <CustomerDetailPanel id/> }).into_any()
                }}
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
                            <AddToGroup customer=id/>
                            <h2>"Churn"</h2>
                            {match v.churn {
                                Ok(churn) if churn.scorable => view! {
                                    <p id="churn-score">
                                        <strong>{churn.probability.map(format::percent)}</strong>
                                        " chance of churning · risk "
                                        <strong>{churn.risk_band.clone()}</strong>
                                        <span class="muted">{format!(" (model {})", churn.model_version)}</span>
                                    </p>
                                    <table id="churn-drivers">
                                        <thead><tr><th>"Pushing it up"</th><th>"Effect"</th></tr></thead>
                                        <tbody>
                                            {churn.drivers.iter().map(|d| view! {
                                                <tr><td class="driver">{driver(d)}</td><td>{format!("+{}", format::percent(d.effect))}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <LifetimeLines lifetime=churn.lifetime/>
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

/// A driver in the shop's words ("42 days past their usual 25-day rhythm"); the feature's
/// name and the two numbers where the API has no words for it.
fn driver(driver: &Driver) -> String {
    if driver.description.is_empty() {
        format!(
            "{}: {:.1} (typical {:.1})",
            driver.feature.replace('_', " "),
            driver.value,
            driver.typical
        )
    } else {
        driver.description.clone()
    }
}

/// The lifetime value's lines: the value over the next year (or why there is none), and when
/// the next order is expected.
fn lifetime_lines(lifetime: &LifetimeValue) -> (String, Option<String>) {
    match lifetime {
        LifetimeValue::NotEnoughHistory { message, .. } => (message.clone(), None),
        LifetimeValue::Predicted {
            expected_orders_365,
            expected_order_value_minor,
            predicted_value_365_minor,
            currency,
            order_chance_365,
            next_order_expected_on,
        } => {
            let orders = format!("{expected_orders_365:.1}");
            let value = match currency {
                Some(currency) if orders != "0.0" => format!(
                    "{} (about {orders} orders of {})",
                    format::money(&Money::new(*predicted_value_365_minor, *currency)),
                    format::money(&Money::new(*expected_order_value_minor, *currency)),
                ),
                Some(currency) => format::money(&Money::new(*predicted_value_365_minor, *currency)),
                None => format!(
                    "about {orders} orders (their orders are in several currencies: no one amount)"
                ),
            };
            let chance = format::percent(*order_chance_365);
            let next = match next_order_expected_on {
                Some(day) => format!(
                    "Next order expected by {} ({chance} chance of an order within 365 days)",
                    format::date(*day)
                ),
                None => format!("Another order within 365 days is unlikely ({chance} chance)"),
            };
            (
                format!("Predicted value, next 365 days: {value}"),
                Some(next),
            )
        }
    }
}

/// What the customer is expected to bring over the next year; nothing when the active model
/// predicts no lifetime value (trained before it did).
#[component]
fn LifetimeLines(lifetime: Option<LifetimeValue>) -> impl IntoView {
    lifetime.map(|lifetime| {
        let (value, next) = lifetime_lines(&lifetime);
        view! {
            <p id="lifetime-value">{value}</p>
            {next.map(|next| view! { <p id="next-order">{next}</p> })}
        }
    })
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use storefront_client::money::Currency;

    use super::*;

    fn euro() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn predicted(
        orders: f64,
        per_order: i64,
        minor: i64,
        currency: Option<Currency>,
        next: Option<NaiveDate>,
    ) -> LifetimeValue {
        LifetimeValue::Predicted {
            expected_orders_365: orders,
            expected_order_value_minor: per_order,
            predicted_value_365_minor: minor,
            currency,
            order_chance_365: 0.874,
            next_order_expected_on: next,
        }
    }

    #[test]
    fn a_prediction_reads_in_the_customers_currency() {
        let next = NaiveDate::from_ymd_opt(2027, 1, 4);
        let (value, due) = lifetime_lines(&predicted(2.3, 5367, 12345, Some(euro()), next));
        assert_eq!(
            value,
            "Predicted value, next 365 days: €123.45 (about 2.3 orders of €53.67)"
        );
        assert_eq!(
            due.as_deref(),
            Some("Next order expected by 4 Jan 2027 (87.4% chance of an order within 365 days)")
        );
        let (value, due) = lifetime_lines(&predicted(0.04, 5300, 212, Some(euro()), None));
        assert_eq!(value, "Predicted value, next 365 days: €2.12");
        assert_eq!(
            due.as_deref(),
            Some("Another order within 365 days is unlikely (87.4% chance)")
        );
        let (value, _) = lifetime_lines(&predicted(2.3, 5367, 12345, None, next));
        assert_eq!(
            value,
            "Predicted value, next 365 days: about 2.3 orders (their orders are in several \
             currencies: no one amount)"
        );
    }

    #[test]
    fn too_short_a_history_says_why() {
        let short = LifetimeValue::NotEnoughHistory {
            reason: "single_order_day".into(),
            message: "Not enough history for a prediction: has ordered on one day only.".into(),
        };
        assert_eq!(
            lifetime_lines(&short),
            (
                "Not enough history for a prediction: has ordered on one day only.".to_owned(),
                None
            )
        );
    }

    #[test]
    fn drivers_read_in_the_shops_words() {
        let mut recency = Driver {
            feature: "recency_days".into(),
            value: 67.0,
            typical: 31.0,
            effect: 0.12,
            description: "last order 67 days ago, 42 days past their usual 25-day rhythm".into(),
        };
        assert_eq!(
            driver(&recency),
            "last order 67 days ago, 42 days past their usual 25-day rhythm"
        );
        recency.description.clear();
        assert_eq!(driver(&recency), "recency days: 67.0 (typical 31.0)");
    }
}
