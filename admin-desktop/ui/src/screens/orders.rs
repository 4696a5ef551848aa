//! Orders: a list filtered by status; the detail with lines, payments, notes and the audit
//! trail; fulfil, ship, deliver, cancel, refund and notes, each confirmed first.

use leptos::prelude::*;
use serde_json::json;
use storefront_client::orders::OrderStatus;
use storefront_client::staff::orders::{StaffOrder, StaffOrderList, StaffOrderListParams};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::{UiError, call};
use crate::screens::{Confirmed, Pager, Problem, failed, page_count};

#[component]
pub fn OrdersScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let status = RwSignal::new("paid".to_owned());
    let page = RwSignal::new(1i64);
    let selected = RwSignal::new(None::<Uuid>);
    let list = LocalResource::new(move || {
        let filter = StaffOrderListParams {
            status: OrderStatus::parse(&status.get()),
            page: Some(page.get()),
            limit: Some(25),
            ..StaffOrderListParams::default()
        };
        call::<StaffOrderList>("orders", json!({ "filter": filter }))
    });
    view! {
        <h1>"Orders"</h1>
        <div class="row">
            <label for="order-status-filter">"Status"</label>
            <select id="order-status-filter" on:change=move |ev| { status.set(event_target_value(&ev)); page.set(1); }>
                <option value="">"Any"</option>
                {OrderStatus::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=s == OrderStatus::Paid>{s.label()}</option>
                }).collect_view()}
            </select>
        </div>
        <div class="split">
            <section aria-label="Order list">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) => {
                                let pages = page_count(list.meta.total, list.meta.limit);
                                view! {
                                    <p class="muted">{format!("{} orders", list.meta.total)}</p>
                                    <table id="orders">
                                        <thead><tr><th>"Order"</th><th>"Placed"</th><th>"Status"</th><th>"Total"</th></tr></thead>
                                        <tbody>
                                            {list.orders.into_iter().map(|o| {
                                                let id = o.id;
                                                view! {
                                                    <tr class="clickable">
                                                        <td><button class="secondary order-open" on:click=move |_| selected.set(Some(id))>{format!("#{}", o.number)}</button></td>
                                                        <td>{format::when(&o.placed_at)}</td>
                                                        <td>{o.status.label()}</td>
                                                        <td>{format::money(&o.total)}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <Pager page pages/>
                                }.into_any()
                            }
                            Err(error) => failed(frame, error),
                        }
                    })}
                </Transition>
            </section>
            <section aria-label="Order">
                {move || selected.get().map(|id| view! { <OrderDetail id on_change=move || list.refetch()/> })}
            </section>
        </div>
    }
}

#[component]
fn OrderDetail(id: Uuid, on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let order = RwSignal::new(None::<StaffOrder>);
    let error = RwSignal::new(None::<UiError>);
    let notice = RwSignal::new(String::new());
    leptos::task::spawn_local(async move {
        match call::<StaffOrder>("order", json!({ "id": id })).await {
            Ok(o) => order.set(Some(o)),
            Err(e) => {
                frame.check(&e);
                error.set(Some(e));
            }
        }
    });
    let act = move |action: serde_json::Value, done: &'static str| {
        error.set(None);
        notice.set(String::new());
        leptos::task::spawn_local(async move {
            match call::<StaffOrder>("act_on_order", json!({ "id": id, "action": action })).await {
                Ok(o) => {
                    order.set(Some(o));
                    notice.set(done.to_owned());
                    on_change();
                }
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let tracking = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let refund = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    view! {
        <div class="panel" id="order-detail">
            <Problem error/>
            <p class="notice" role="status" id="order-notice">{move || notice.get()}</p>
            {move || order.get().map(|o| {
                let status = o.order.status;
                view! {
                    <h2>{format!("Order #{}", o.order.number)}</h2>
                    <p>"Status: " <strong id="order-status">{status.label()}</strong>
                        {o.order.tracking_number.clone().map(|t| view! { " · tracking " <code>{t}</code> })}</p>
                    <table>
                        <thead><tr><th>"Item"</th><th>"Qty"</th><th>"Total"</th></tr></thead>
                        <tbody>
                            {o.order.lines.iter().map(|l| view! {
                                <tr><td>{l.product_name.clone()}<div class="muted">{l.variant_title.clone()}</div></td>
                                    <td>{l.quantity}</td><td>{format::money(&l.line_total)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p>"Total " <strong>{format::money(&o.order.totals.total)}</strong>
                        {(o.order.totals.refunded.amount_minor > 0).then(|| format!(" · refunded {}", format::money(&o.order.totals.refunded)))}</p>
                    <div class="stacked">
                        {(status == OrderStatus::Paid).then(|| view! {
                            <Confirmed id="fulfil" label="Mark fulfilled" question="Mark this order fulfilled?".into()
                                action=move || act(json!({ "action": "fulfil" }), "Marked fulfilled.")/>
                        })}
                        {(status == OrderStatus::Fulfilled).then(|| view! {
                            <div class="row">
                                <label for="tracking">"Tracking number"</label>
                                <input id="tracking" prop:value=tracking on:input=move |ev| tracking.set(event_target_value(&ev))/>
                                <Confirmed id="ship" label="Ship" question="Ship with this tracking number?".into()
                                    action=move || act(json!({ "action": "ship", "tracking_number": tracking.get_untracked() }), "Shipped.")/>
                            </div>
                        })}
                        {(status == OrderStatus::Shipped).then(|| view! {
                            <Confirmed id="deliver" label="Mark delivered" question="Mark this order delivered?".into()
                                action=move || act(json!({ "action": "deliver" }), "Marked delivered.")/>
                        })}
                        {matches!(status, OrderStatus::Paid | OrderStatus::Fulfilled | OrderStatus::PendingPayment).then(|| view! {
                            <div class="row">
                                <label for="cancel-reason">"Cancel because"</label>
                                <input id="cancel-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <Confirmed id="cancel" label="Cancel order" danger=true question="Cancel, restock and refund in full?".into()
                                    action=move || act(json!({ "action": "cancel", "reason": reason.get_untracked() }), "Cancelled.")/>
                            </div>
                        })}
                        {matches!(status, OrderStatus::Paid | OrderStatus::Fulfilled | OrderStatus::Shipped | OrderStatus::Delivered).then(|| view! {
                            <div class="row">
                                <label for="refund-amount">"Refund"</label>
                                <input id="refund-amount" size="8" placeholder="12.50" prop:value=refund on:input=move |ev| refund.set(event_target_value(&ev))/>
                                <label for="refund-reason">"because"</label>
                                <input id="refund-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <Confirmed id="refund" label="Refund" danger=true question="Refund this amount to the card?".into()
                                    action=move || act(json!({ "action": "refund", "amount": refund.get_untracked(), "reason": reason.get_untracked() }), "Refunded.")/>
                            </div>
                        })}
                    </div>
                    <h2>"Notes"</h2>
                    <ul>{o.notes.iter().map(|n| view! { <li>{n.body.clone()} <span class="muted">{format::when(&n.created_at)}</span></li> }).collect_view()}</ul>
                    <form class="row" on:submit=move |ev| { ev.prevent_default(); act(json!({ "action": "note", "body": note.get_untracked() }), "Note added."); note.set(String::new()); }>
                        <label for="note">"Note"</label>
                        <input id="note" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))/>
                        <button type="submit">"Add note"</button>
                    </form>
                    <h2>"Payments"</h2>
                    <ul>{o.order.payments.iter().map(|p| view! { <li>{format!("{} {} {}", p.kind, p.outcome, format::money(&p.amount))}</li> }).collect_view()}</ul>
                    <h2>"Audit trail"</h2>
                    <ul id="audit-trail">{o.audit_trail.iter().map(|a| view! { <li>{a.action.clone()} <span class="muted">{format::when(&a.at)}</span></li> }).collect_view()}</ul>
                }
            })}
        </div>
    }
}
