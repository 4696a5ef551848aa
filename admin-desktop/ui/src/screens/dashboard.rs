//! The dashboard: sales today and over 30 days, orders waiting, low stock, churn risk.

use console_protocol::GetDashboard;
use leptos::prelude::*;
use storefront_client::staff::dashboard::Dashboard;

use crate::app::{Frame, Screen};
use crate::format;
use crate::invoke::call;

#[component]
pub fn DashboardScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let data = LocalResource::new(|| call(GetDashboard {}));
    view! {
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(dashboard) => view! { <Figures dashboard/> }.into_any(),
                    Err(error) => crate::screens::failed(frame, error),
                }
            })}
        </Suspense>
        <p><button class="secondary" on:click=move |_| data.refetch()>"Refresh"</button></p>
    }
}

#[component]
fn Figures(dashboard: Dashboard) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let revenue = |sales: &[storefront_client::staff::dashboard::Sales]| {
        if sales.is_empty() {
            "—".to_owned()
        } else {
            sales
                .iter()
                .map(|s| format::money(&s.revenue))
                .collect::<Vec<_>>()
                .join(" + ")
        }
    };
    let orders = |sales: &[storefront_client::staff::dashboard::Sales]| {
        sales.iter().map(|s| s.orders).sum::<i64>()
    };
    let peak = dashboard
        .daily
        .iter()
        .map(|d| d.revenue.amount_minor)
        .max()
        .unwrap_or(1)
        .max(1);
    view! {
        <div class="tiles">
            <div class="tile"><div class="label">"Revenue today"</div><div class="value" id="revenue-today">{revenue(&dashboard.today)}</div></div>
            <div class="tile"><div class="label">"Orders today"</div><div class="value">{orders(&dashboard.today)}</div></div>
            <div class="tile"><div class="label">"Revenue, 30 days"</div><div class="value">{revenue(&dashboard.last_30_days)}</div></div>
            <div class="tile"><div class="label">"Orders, 30 days"</div><div class="value">{orders(&dashboard.last_30_days)}</div></div>
            <div class="tile">
                <div class="label">"Waiting for fulfilment"</div>
                <div class="value" id="awaiting">{dashboard.awaiting_fulfilment}</div>
                <button class="secondary" on:click=move |_| frame.screen.set(Screen::Orders)>"Open orders"</button>
            </div>
        </div>
        <h2>"Revenue per day (30 days)"</h2>
        <div class="bars" role="img" aria-label="Revenue per day over the last 30 days">
            {dashboard.daily.iter().map(|d| {
                let height = 100 * d.revenue.amount_minor / peak;
                let label = format!("{}: {} ({} orders)", d.day, format::money(&d.revenue), d.orders);
                view! { <div class="bar" style=format!("height: {height}%") title=label></div> }
            }).collect_view()}
        </div>
        <h2>"Customers by churn risk"</h2>
        {match dashboard.churn_risk.clone() {
            None => view! { <p class="muted">"No risk bands yet: they come with the next scoring of every customer (Score all on the Churn screen, or the daily schedule once a model is deployed)."</p> }.into_any(),
            Some(bands) => {
                let total = (bands.low + bands.medium + bands.high).max(1);
                let row = move |name: &'static str, n: u64| view! {
                    <div class=format!("band {name}")>
                        <span>{name}</span>
                        <span class="fill" style=format!("width: {}%", 100 * n / total)></span>
                        <span>{n}</span>
                    </div>
                };
                view! {
                    <div class="bands" id="risk-bands">
                        {row("high", bands.high)}
                        {row("medium", bands.medium)}
                        {row("low", bands.low)}
                    </div>
                    <p class="muted">{format!("Model {}, scored {}", bands.model_version, format::when(&bands.scored_at))}</p>
                }.into_any()
            }
        }}
        <h2>{format!("Low stock (≤ {} units)", dashboard.low_stock_threshold)}</h2>
        {if dashboard.low_stock.is_empty() {
            view! { <p class="muted">"Nothing is running low."</p> }.into_any()
        } else {
            view! {
                <table id="low-stock">
                    <thead><tr><th>"Product"</th><th>"Variant"</th><th>"SKU"</th><th>"In stock"</th></tr></thead>
                    <tbody>
                        {dashboard.low_stock.iter().map(|v| view! {
                            <tr><td>{v.product_name.clone()}</td><td>{v.variant_title.clone()}</td><td><code>{v.sku.clone()}</code></td><td>{v.stock_on_hand}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
