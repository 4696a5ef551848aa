//! Returns on the shopper's side: `/account/orders/{id}/return`, the form that asks to send
//! back units of a delivered order's lines, and the order page's list of its returns. The API
//! decides what may be returned (delivered, within the window, units not in other returns)
//! and says why not.

use crate::csrf::CsrfField;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use storefront_client::orders::{Order, OrderStatus};
use storefront_client::returns::{OrderReturn, ReturnReason, ReturnStatus};

use crate::components::{ApiProblem, FormError};
use crate::pages::account::{LogInFirst, order_of_route};
use crate::pages::not_found::NotFound;

#[component]
pub fn ReturnPage() -> impl IntoView {
    let order = order_of_route();
    view! {
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some((order, now))) => view! { <ReturnForm order now/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(error) if error.is_not_found() => view! { <NotFound/> }.into_any(),
                    Err(error) if error.status() == Some(401) => view! {
                        <Title text="Return items"/>
                        <LogInFirst next="/account" message="Log in to return items of an order."/>
                    }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReturnForm(order: Order, now: DateTime<Utc>) -> impl IntoView {
    let note = use_query_map()
        .get_untracked()
        .get("note")
        .unwrap_or_default();
    let back = format!("/account/orders/{}", order.id);
    let title = format!("Return items of order #{}", order.number);
    if !order.may_return_at(now) {
        let something_left = order
            .lines
            .iter()
            .any(|l| order.returnable_quantity(l.line_number) > 0);
        let why = match order.returnable_until {
            _ if order.status == OrderStatus::Refunded => {
                "This order has been refunded; there is nothing left to return.".to_owned()
            }
            Some(until) if order.status == OrderStatus::Delivered && something_left => format!(
                "The return window of this order closed on {}.",
                until.format("%-d %B %Y")
            ),
            Some(_) if order.status == OrderStatus::Delivered => {
                "Every item of this order is already in a return.".to_owned()
            }
            _ => "Items can be returned once the order has been delivered.".to_owned(),
        };
        return view! {
            <Title text=title.clone()/>
            <section class="narrow">
                <h1>{title}</h1>
                <p class="form-error" role="alert">{why}</p>
                <p><A href=back>"← Back to the order"</A></p>
            </section>
        }
        .into_any();
    }
    let until = order
        .returnable_until
        .map(|until| until.format("%-d %B %Y").to_string())
        .unwrap_or_default();
    let lines = order
        .lines
        .iter()
        .map(|line| (line.clone(), order.returnable_quantity(line.line_number)))
        .filter(|(_, left)| *left > 0)
        .collect::<Vec<_>>();
    view! {
        <Title text=title.clone()/>
        <section class="narrow">
            <h1>{title}</h1>
            <p>{format!("Choose what to send back and why; you can return items until {until}. We refund them once they arrive.")}</p>
            <FormError/>
            <form class="stacked return-form" method="post" action="/returns">
                <CsrfField/>
                <input type="hidden" name="order_id" value=order.id.to_string()/>
                {lines.into_iter().map(|(line, left)| {
                    let n = line.line_number;
                    view! {
                        <fieldset class="return-line" data-line=n.to_string()>
                            <legend>{format!("{} — {}", line.product_name, line.variant_title)}</legend>
                            <label for=format!("quantity-{n}")>{format!("How many to return (of {left})")}</label>
                            <select id=format!("quantity-{n}") name=format!("quantity_{n}")>
                                {(0..=left).map(|q| view! { <option value=q.to_string()>{q}</option> }).collect_view()}
                            </select>
                            <label for=format!("reason-{n}")>"Why"</label>
                            <select id=format!("reason-{n}") name=format!("reason_{n}")>
                                {ReturnReason::ALL.into_iter().map(|reason| view! {
                                    <option value=reason.as_str()>{reason.label()}</option>
                                }).collect_view()}
                            </select>
                        </fieldset>
                    }
                }).collect_view()}
                <label for="return-note">"Anything we should know (optional)"</label>
                <textarea id="return-note" name="note" rows="3" maxlength="2000">{note}</textarea>
                <button type="submit">"Ask to return"</button>
            </form>
            <p><A href=back>"← Back to the order"</A></p>
        </section>
    }
    .into_any()
}

/// An order's returns, for its page: each with its number, where it stands and what it
/// refunded.
#[component]
pub fn OrderReturns(order: Order, now: DateTime<Utc>) -> impl IntoView {
    let just_asked = use_query_map().get_untracked().get("return");
    let may_return = order.may_return_at(now);
    let until = order
        .returnable_until
        .map(|until| until.format("%-d %B %Y").to_string());
    let link = format!("/account/orders/{}/return", order.id);
    let returns = order.returns;
    (may_return || !returns.is_empty()).then(move || view! {
        <section class="order-returns">
            <h2>"Returns"</h2>
            {just_asked.map(|number| view! {
                <p class="confirmation" role="status">{format!("Return {number} is requested. We will email you when we have looked at it.")}</p>
            })}
            <ul>
                {returns.into_iter().map(|r| view! { <ReturnItem r/> }).collect_view()}
            </ul>
            {may_return.then(|| view! {
                <p>
                    <A href=link attr:class="return-items">"Return items"</A>
                    {until.map(|until| format!(" — possible until {until}"))}
                </p>
            })}
        </section>
    })
}

#[component]
fn ReturnItem(r: OrderReturn) -> impl IntoView {
    let refund = match r.status {
        ReturnStatus::Refunded => r
            .refunded
            .map(|money| format!(" · refunded {}", money.to_shopper_string())),
        _ => None,
    };
    view! {
        <li class="order-return" data-testid="order-return">
            <strong>{format!("Return {}", r.number)}</strong>
            " · " <span class="return-status">{r.status.label()}</span>
            {refund}
            <ul>
                {r.lines.into_iter().map(|line| view! {
                    <li>{format!("{} × {} ({}) — {}", line.quantity, line.product_name, line.variant_title, line.reason.label())}</li>
                }).collect_view()}
            </ul>
            {r.refusal_reason.map(|why| view! { <p class="refusal">{format!("Why we could not accept it: {why}")}</p> })}
        </li>
    }
}
