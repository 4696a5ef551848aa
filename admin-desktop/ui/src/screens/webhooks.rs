//! Webhooks: the endpoints other systems receive the shop's events at (register one, pause,
//! resume), and each one's delivery log — every attempt's status code, latency and answer —
//! with replay of a delivered or dead message.

use console_protocol::{
    CreateWebhook, GetWebhookDeliveries, ListWebhookTopics, ListWebhooks, ReplayWebhookDelivery,
    SetWebhookEnabled,
};
use leptos::prelude::*;
use storefront_client::staff::webhooks::{DeliveryStatus, WebhookDelivery};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::call;
use crate::screens::{Pager, Problem, failed, page_count};

/// Deliveries per page of the log (as the console asks for them).
const LOG_PAGE: i64 = 25;

#[component]
pub fn WebhooksScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let selected = RwSignal::new(None::<Uuid>);
    let list = LocalResource::new(move || call(ListWebhooks {}));
    view! {
        <h1>"Webhooks"</h1>
        <p class="muted">"Other systems receive the shop's events here: each message at least once, \
            signed (Standard Webhooks), an order's messages in order."</p>
        <div class="split">
            <section aria-label="Endpoints">
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) => view! {
                                <table id="webhooks">
                                    <thead><tr><th>"URL"</th><th>"Topics"</th><th>"State"</th><th>"Waiting"</th></tr></thead>
                                    <tbody>
                                        {list.webhook_endpoints.into_iter().map(|e| {
                                            let id = e.id;
                                            let state = match (&e.disabled_at, &e.disabled_reason) {
                                                (Some(_), Some(reason)) => format!("paused: {reason}"),
                                                (Some(_), None) => "paused".to_owned(),
                                                _ => "active".to_owned(),
                                            };
                                            view! {
                                                <tr class="clickable">
                                                    <td><button class="secondary webhook-open" on:click=move |_| selected.set(Some(id))>{e.url}</button></td>
                                                    <td>{e.topics.join(", ")}</td>
                                                    <td class="webhook-state">{state}</td>
                                                    <td>{e.pending}</td>
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
                <NewEndpointForm on_created=move || list.refetch()/>
            </section>
            <section aria-label="Delivery log">
                {move || selected.get().map(|id| view! { <DeliveryLog id on_change=move || list.refetch()/> })}
            </section>
        </div>
    }
}

/// Registers an endpoint and shows its secret, this once.
#[component]
fn NewEndpointForm(on_created: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let topics = LocalResource::new(move || call(ListWebhookTopics {}));
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None);
    let secret = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let command = CreateWebhook {
            url: url.get_untracked(),
            topics: chosen.get_untracked(),
            description: Some(description.get_untracked()),
        };
        frame.run(command, error, move |created| {
            secret.set(Some(created.secret));
            url.set(String::new());
            description.set(String::new());
            chosen.set(Vec::new());
            on_created();
        });
    };
    view! {
        <form id="new-webhook" class="panel stacked" on:submit=create>
            <h2>"New endpoint"</h2>
            <label for="webhook-url">"URL"</label>
            <input id="webhook-url" type="url" placeholder="https://erp.example.com/hooks" prop:value=url
                on:input=move |ev| url.set(event_target_value(&ev))/>
            <label for="webhook-description">"What it is"</label>
            <input id="webhook-description" prop:value=description
                on:input=move |ev| description.set(event_target_value(&ev))/>
            <fieldset class="topics">
                <legend>"Topics"</legend>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        topics.await.unwrap_or_default().into_iter().map(|topic| {
                            let id = format!("topic-{}", topic.replace('.', "-"));
                            let value = topic.clone();
                            view! {
                                <label>
                                    <input type="checkbox" id=id
                                        prop:checked=move || chosen.with(|c| c.contains(&value))
                                        on:change={
                                            let topic = topic.clone();
                                            move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| {
                                                    c.retain(|t| t != &topic);
                                                    if on { c.push(topic.clone()); }
                                                });
                                            }
                                        }/>
                                    {topic.clone()}
                                </label>
                            }
                        }).collect_view()
                    })}
                </Suspense>
            </fieldset>
            <Problem error/>
            <button id="webhook-create" type="submit">"Register"</button>
            {move || secret.get().map(|secret| view! {
                <p class="notice" role="status">"Signing secret — copy it now, it is not shown again: "
                    <code id="webhook-secret" class="secret">{secret}</code></p>
            })}
        </form>
    }
}

/// One endpoint's deliveries, newest first, with every attempt; pause, resume, replay.
#[component]
fn DeliveryLog(id: Uuid, on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let status = RwSignal::new(None::<DeliveryStatus>);
    let page = RwSignal::new(1i64);
    let error = RwSignal::new(None);
    let log = LocalResource::new(move || {
        call(GetWebhookDeliveries {
            id,
            status: status.get(),
            page: page.get(),
        })
    });
    let set_enabled = move |enabled: bool| {
        frame.run(SetWebhookEnabled { id, enabled }, error, move |_| {
            on_change()
        });
    };
    let replay = move |delivery_id: i64| {
        frame.run(
            ReplayWebhookDelivery { id, delivery_id },
            error,
            move |_| {
                log.refetch();
                on_change();
            },
        );
    };
    view! {
        <div class="panel" id="webhook-log">
            <h2>"Delivery log"</h2>
            <div class="row">
                <label for="delivery-status">"Show"</label>
                <select id="delivery-status" on:change=move |ev| {
                    status.set(DeliveryStatus::parse(&event_target_value(&ev)));
                    page.set(1);
                }>
                    <option value="">"every delivery"</option>
                    {DeliveryStatus::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
                <button class="secondary" id="webhook-pause" on:click=move |_| set_enabled(false)>"Pause"</button>
                <button class="secondary" id="webhook-resume" on:click=move |_| set_enabled(true)>"Resume"</button>
                <button class="secondary" id="webhook-refresh" on:click=move |_| log.refetch()>"Refresh"</button>
            </div>
            <Problem error/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(log) => {
                            let pages = page_count(log.meta.total, LOG_PAGE);
                            view! {
                                <p class="muted">{format!("{} deliveries", log.meta.total)}</p>
                                <table id="deliveries">
                                    <thead><tr><th>"Message"</th><th>"State"</th><th>"Attempts"</th><th></th></tr></thead>
                                    <tbody>
                                        {log.deliveries.into_iter().map(|d| view! { <DeliveryRow delivery=d replay/> }).collect_view()}
                                    </tbody>
                                </table>
                                <Pager page pages/>
                            }.into_any()
                        }
                        Err(error) => failed(frame, error),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn DeliveryRow(delivery: WebhookDelivery, replay: impl Fn(i64) + Copy + 'static) -> impl IntoView {
    let id = delivery.id;
    let replayable = delivery.status != DeliveryStatus::Pending;
    let state = match (delivery.status, delivery.next_attempt_at) {
        (DeliveryStatus::Pending, Some(next)) => {
            format!("pending · next try {}", format::when(&next))
        }
        (status, _) => status.as_str().to_owned(),
    };
    view! {
        <tr class="delivery">
            <td><strong>{delivery.topic}</strong><div class="muted"><code>{delivery.message_id.to_string()}</code></div></td>
            <td class="delivery-state">{state}
                {delivery.last_error.map(|e| view! { <div class="muted">{e}</div> })}</td>
            <td>
                <ol class="attempts">
                    {delivery.attempt_log.into_iter().map(|a| view! {
                        <li>{format::when(&a.attempted_at)} " · "
                            {a.status_code.map_or_else(|| "no answer".to_owned(), |c| c.to_string())}
                            {format!(" · {} ms", a.latency_ms)}
                            {(!a.response_excerpt.is_empty()).then(|| view! { <div class="muted"><code>{a.response_excerpt.clone()}</code></div> })}
                            {a.error.map(|e| view! { <div class="muted">{e}</div> })}
                        </li>
                    }).collect_view()}
                </ol>
            </td>
            <td>{replayable.then(|| view! {
                <button class="secondary delivery-replay" on:click=move |_| replay(id)>"Replay"</button>
            })}</td>
        </tr>
    }
}
