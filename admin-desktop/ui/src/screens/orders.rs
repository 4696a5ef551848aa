//! Orders: a list filtered by status, days, customer and total; the returns waiting for an
//! answer or a refund; the detail with lines, returns, payments, notes and the audit trail;
//! fulfil, ship, deliver, cancel, refund, notes and each step of a return, each confirmed
//! first.

use console_protocol::orders::{OrderAction, OrderFilter, OrderView};
use console_protocol::{ActOnOrder, FindOrders, FindReturns, GetOrder};
use leptos::prelude::*;
use storefront_client::orders::OrderStatus;
use storefront_client::returns::{OrderReturn, ReturnStatus};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::CommandError;
use crate::screens::{Confirmed, Pager, Problem, failed, page_count};

/// The filter form: one signal per field.
#[derive(Clone, Copy)]
struct FilterForm {
    status: RwSignal<Option<OrderStatus>>,
    placed_from: RwSignal<String>,
    placed_to: RwSignal<String>,
    customer: RwSignal<String>,
    min_total: RwSignal<String>,
    max_total: RwSignal<String>,
    currency: RwSignal<String>,
}

impl FilterForm {
    fn new(filter: &OrderFilter) -> Self {
        let form = Self {
            status: RwSignal::new(None),
            placed_from: RwSignal::new(String::new()),
            placed_to: RwSignal::new(String::new()),
            customer: RwSignal::new(String::new()),
            min_total: RwSignal::new(String::new()),
            max_total: RwSignal::new(String::new()),
            currency: RwSignal::new(String::new()),
        };
        form.fill(filter);
        form
    }

    fn fill(self, filter: &OrderFilter) {
        self.status.set(filter.status);
        self.placed_from.set(filter.placed_from.clone());
        self.placed_to.set(filter.placed_to.clone());
        self.customer.set(filter.customer.clone());
        self.min_total.set(filter.min_total.clone());
        self.max_total.set(filter.max_total.clone());
        self.currency.set(filter.currency.clone());
    }

    fn typed(self) -> OrderFilter {
        OrderFilter {
            status: self.status.get_untracked(),
            placed_from: self.placed_from.get_untracked(),
            placed_to: self.placed_to.get_untracked(),
            customer: self.customer.get_untracked(),
            min_total: self.min_total.get_untracked(),
            max_total: self.max_total.get_untracked(),
            currency: self.currency.get_untracked(),
            page: 1,
        }
    }
}

/// What staff see first: paid orders, waiting to be fulfilled.
fn waiting_orders() -> OrderFilter {
    OrderFilter {
        status: Some(OrderStatus::Paid),
        ..every_order()
    }
}

fn every_order() -> OrderFilter {
    OrderFilter {
        currency: "EUR".into(),
        ..OrderFilter::default()
    }
}

fn field(
    id: &'static str,
    kind: &'static str,
    size: &'static str,
    placeholder: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <input id=id type=kind size=size placeholder=placeholder prop:value=value
            on:input=move |ev| value.set(event_target_value(&ev))/>
    }
}

#[component]
pub fn OrdersScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    // Paid orders waiting, unless another screen asked for one customer's orders.
    let first = match frame.orders_of.try_update(Option::take).flatten() {
        Some(customer) => OrderFilter {
            customer,
            ..every_order()
        },
        None => waiting_orders(),
    };
    let form = FilterForm::new(&first);
    // The list shows the form's values as last applied.
    let applied = RwSignal::new(first);
    let page = RwSignal::new(1i64);
    let selected = RwSignal::new(None::<Uuid>);
    // Bumped by every action on an order, so the returns queue shows what it left.
    let acted = RwSignal::new(0u64);
    let list = LocalResource::new(move || {
        let filter = OrderFilter {
            page: page.get(),
            ..applied.get()
        };
        crate::invoke::call(FindOrders { filter })
    });
    view! {
        <h1>"Orders"</h1>
        <form id="order-filters" class="row" role="search" on:submit=move |ev| {
            ev.prevent_default();
            page.set(1);
            applied.set(form.typed());
        }>
            <label for="order-status-filter">"Status"</label>
            <select id="order-status-filter" on:change=move |ev| form.status.set(OrderStatus::parse(&event_target_value(&ev)))>
                <option value="" selected=move || form.status.get().is_none()>"Any"</option>
                {OrderStatus::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || form.status.get() == Some(s)>{s.label()}</option>
                }).collect_view()}
            </select>
            <label for="placed-from">"Placed from"</label>
            {field("placed-from", "date", "10", "", form.placed_from)}
            <label for="placed-to">"to"</label>
            {field("placed-to", "date", "10", "", form.placed_to)}
            <label for="order-customer">"Customer"</label>
            {field("order-customer", "search", "18", "email or name", form.customer)}
            <label for="min-total">"Total from"</label>
            {field("min-total", "text", "6", "0.00", form.min_total)}
            <label for="max-total">"to"</label>
            {field("max-total", "text", "6", "", form.max_total)}
            <label class="muted" for="total-currency">"in"</label>
            {field("total-currency", "text", "3", "EUR", form.currency)}
            <button type="submit" id="apply-filters">"Filter"</button>
            <button type="button" class="secondary" id="clear-filters" on:click=move |_| {
                form.fill(&every_order());
                applied.set(every_order());
                page.set(1);
            }>"Show all"</button>
        </form>
        <ReturnsQueue selected acted/>
        <div class="split">
            <section aria-label="Order list">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) => {
                                let pages = page_count(list.meta.total, list.meta.limit);
                                view! {
                                    <p class="muted" id="order-count">{format!("{} orders", list.meta.total)}</p>
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
                                                        <td class="order-total">{format::money(&o.total)}</td>
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
                {move || selected.get().map(|id| view! { <OrderDetail id on_change=move || {
                    list.refetch();
                    acted.update(|n| *n += 1);
                }/> })}
            </section>
        </div>
    }
}

#[component]
fn OrderDetail(id: Uuid, on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let order = RwSignal::new(None::<OrderView>);
    let error = RwSignal::new(None::<CommandError>);
    let notice = RwSignal::new(String::new());
    frame.run(GetOrder { id }, error, move |o| order.set(Some(o)));
    let act = move |action: OrderAction, done: &'static str| {
        notice.set(String::new());
        frame.run(ActOnOrder { id, action }, error, move |o: OrderView| {
            order.set(Some(o));
            notice.set(done.to_owned());
            on_change();
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
            {move || order.get().map(|view| {
                let OrderView { detail: o, customer } = view;
                let status = o.order.status;
                view! {
                    <h2>{format!("Order #{}", o.order.number)}</h2>
                    <p>"Status: " <strong id="order-status">{status.label()}</strong>
                        {o.order.tracking_number.clone().map(|t| view! { " · tracking " <code>{t}</code> })}</p>
                    <p id="order-customer-line">"Placed " {format::when(&o.order.placed_at)} " by "
                        {match customer {
                            Some(c) => view! { <strong>{c.full_name}</strong> " · " {c.email} }.into_any(),
                            None => view! { <span class="muted">"a deleted account"</span> }.into_any(),
                        }}</p>
                    <p class="muted">"Ship to " {format::address(&o.order.shipping_address)} " · " {o.order.shipping_method.clone()}</p>
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
                                action=move || act(OrderAction::Fulfil, "Marked fulfilled.")/>
                        })}
                        {(status == OrderStatus::Fulfilled).then(|| view! {
                            <div class="row">
                                <label for="tracking">"Tracking number"</label>
                                <input id="tracking" prop:value=tracking on:input=move |ev| tracking.set(event_target_value(&ev))/>
                                <Confirmed id="ship" label="Ship" question="Ship with this tracking number?".into()
                                    action=move || act(OrderAction::Ship { tracking_number: tracking.get_untracked() }, "Shipped.")/>
                            </div>
                        })}
                        {(status == OrderStatus::Shipped).then(|| view! {
                            <Confirmed id="deliver" label="Mark delivered" question="Mark this order delivered?".into()
                                action=move || act(OrderAction::Deliver, "Marked delivered.")/>
                        })}
                        {(status == OrderStatus::Paid).then(|| view! {
                            <div class="row">
                                <label for="cancel-reason">"Cancel because"</label>
                                <input id="cancel-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <Confirmed id="cancel" label="Cancel order" danger=true question="Cancel, restock and refund in full?".into()
                                    action=move || act(OrderAction::Cancel { reason: reason.get_untracked() }, "Cancelled.")/>
                            </div>
                        })}
                        {matches!(status, OrderStatus::Paid | OrderStatus::Fulfilled | OrderStatus::Shipped | OrderStatus::Delivered).then(|| view! {
                            <div class="row">
                                <label for="refund-amount">"Refund"</label>
                                <input id="refund-amount" size="8" placeholder="12.50" prop:value=refund on:input=move |ev| refund.set(event_target_value(&ev))/>
                                <label for="refund-reason">"because"</label>
                                <input id="refund-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                                <Confirmed id="refund" label="Refund" danger=true question="Refund this amount to the card?".into()
                                    action=move || act(OrderAction::Refund { amount: refund.get_untracked(), reason: reason.get_untracked() }, "Refunded.")/>
                            </div>
                        })}
                    </div>
                    {(!o.order.returns.is_empty()).then(|| view! {
                        <h2>"Returns"</h2>
                        <ul id="order-returns">
                            {o.order.returns.clone().into_iter().map(|r| view! { <ReturnSteps r act/> }).collect_view()}
                        </ul>
                    })}
                    <h2>"Notes"</h2>
                    <ul>{o.notes.iter().map(|n| view! { <li>{n.body.clone()} <span class="muted">{format::when(&n.created_at)}</span></li> }).collect_view()}</ul>
                    <form class="row" on:submit=move |ev| { ev.prevent_default(); act(OrderAction::Note { body: note.get_untracked() }, "Note added."); note.set(String::new()); }>
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

/// Returns waiting for staff, by status: `requested` to answer, `received` to refund. A return
/// opens its order.
#[component]
fn ReturnsQueue(selected: RwSignal<Option<Uuid>>, acted: RwSignal<u64>) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let status = RwSignal::new(Some(ReturnStatus::Requested));
    let page = RwSignal::new(1i64);
    let list = LocalResource::new(move || {
        acted.track();
        crate::invoke::call(FindReturns {
            status: status.get(),
            page: page.get(),
        })
    });
    view! {
        <details class="panel" id="returns-queue" open>
            <summary>"Returns"</summary>
            <div class="row">
                <label for="return-status-filter">"Status"</label>
                <select id="return-status-filter" on:change=move |ev| {
                    page.set(1);
                    status.set(ReturnStatus::parse(&event_target_value(&ev)));
                }>
                    {ReturnStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || status.get() == Some(s)>{s.as_str()}</option>
                    }).collect_view()}
                    <option value="" selected=move || status.get().is_none()>"any"</option>
                </select>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.returns.is_empty() => view! { <p class="muted" id="return-count">"No returns."</p> }.into_any(),
                        Ok(list) => {
                            let pages = page_count(list.meta.total, list.meta.limit);
                            view! {
                                <p class="muted" id="return-count">{format!("{} returns", list.meta.total)}</p>
                                <table id="returns">
                                    <thead><tr><th>"Return"</th><th>"Order"</th><th>"Customer"</th><th>"Items"</th><th>"Asked"</th><th>"Status"</th></tr></thead>
                                    <tbody>
                                        {list.returns.into_iter().map(|r| {
                                            let order_id = r.order_id;
                                            view! {
                                                <tr>
                                                    <td><button class="secondary return-open" on:click=move |_| selected.set(Some(order_id))>{r.number}</button></td>
                                                    <td>{format!("#{}", r.order_number)}</td>
                                                    <td>{r.customer_email.unwrap_or_default()}</td>
                                                    <td>{r.item_count}</td>
                                                    <td>{format::when(&r.requested_at)}</td>
                                                    <td>{r.status.as_str()}</td>
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
        </details>
    }
}

/// One return of the order and the step it waits for: approve or refuse a request, receive
/// the items (each line back on the shelf unless ticked damaged), refund what it is worth.
#[component]
fn ReturnSteps(
    r: OrderReturn,
    act: impl Fn(OrderAction, &'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let return_id = r.id;
    let number = r.number;
    let reason = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let written_off = RwSignal::new(Vec::<i32>::new());
    let lines = r.lines.clone();
    view! {
        <li class="order-return" data-status=r.status.as_str()>
            <strong>{format!("Return {}", number)}</strong> " · " {r.status.label()}
            {r.refunded.map(|money| format!(" · refunded {}", format::money(&money)))}
            <ul>
                {r.lines.iter().map(|line| view! {
                    <li>{format!("{} × {} ({}) — {}", line.quantity, line.product_name, line.variant_title, line.reason.label())}
                        {line.restocked.map(|back| if back { " · back on the shelf" } else { " · written off" })}</li>
                }).collect_view()}
            </ul>
            {r.customer_note.map(|note| view! { <p class="muted">{format!("Customer: {note}")}</p> })}
            {r.refusal_reason.map(|why| view! { <p class="muted">{format!("Refused: {why}")}</p> })}
            {(r.status == ReturnStatus::Requested).then(|| view! {
                <div class="row">
                    <Confirmed id=format!("approve-return-{}", number) label="Approve" question="Approve this return?".into()
                        action=move || act(OrderAction::ApproveReturn { return_id }, "Return approved.")/>
                    <label for=format!("refuse-reason-{}", number)>"or refuse because"</label>
                    <input id=format!("refuse-reason-{}", number) prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                    <Confirmed id=format!("refuse-return-{}", number) label="Refuse" danger=true question="Refuse this return?".into()
                        action=move || act(OrderAction::RefuseReturn { return_id, reason: reason.get_untracked() }, "Return refused.")/>
                </div>
            })}
            {(r.status == ReturnStatus::Approved).then(|| view! {
                <div class="row">
                    {lines.into_iter().map(|line| {
                        let n = line.line_number;
                        let id = format!("damaged-{}-{n}", number);
                        view! {
                            <input type="checkbox" id=id.clone() on:change=move |ev| {
                                let ticked = event_target_checked(&ev);
                                written_off.update(|lines| {
                                    lines.retain(|l| *l != n);
                                    if ticked { lines.push(n); }
                                });
                            }/>
                            <label for=id>{format!("{} damaged", line.sku)}</label>
                        }
                    }).collect_view()}
                    <Confirmed id=format!("receive-return-{}", number) label="Items received" question="Mark the items received (undamaged ones back on the shelf)?".into()
                        action=move || act(OrderAction::ReceiveReturn { return_id, written_off: written_off.get_untracked() }, "Return received.")/>
                </div>
            })}
            {(r.status == ReturnStatus::Received).then(|| {
                let due = r.refund_due.map(|due| format::money(&due)).unwrap_or_default();
                view! {
                    <div class="row">
                        <label for=format!("return-refund-amount-{}", number)>"Refund"</label>
                        <input id=format!("return-refund-amount-{}", number) size="8" placeholder=due.clone() prop:value=amount on:input=move |ev| amount.set(event_target_value(&ev))/>
                        <span class="muted">{format!("due {due}")}</span>
                        <Confirmed id=format!("refund-return-{}", number) label="Refund return" danger=true question="Refund this return to the card?".into()
                            action=move || act(OrderAction::RefundReturn { return_id, amount: amount.get_untracked() }, "Return refunded.")/>
                    </div>
                }
            })}
        </li>
    }
}
