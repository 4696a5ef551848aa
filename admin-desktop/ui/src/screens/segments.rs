//! Customer groups and segments: every one by name with what decides its members, a new
//! group (staff add members) or segment (a rule decides), the members of one now — a
//! customer taken out of a group — and the members written to a CSV file. A customer is added
//! to a group from their detail ([`AddToGroup`]).

use console_protocol::campaigns::RISK_BANDS;
use console_protocol::catalog::ExportedFile;
use console_protocol::segments::{SegmentForm, describe};
use console_protocol::{
    AddToGroup as AddToGroupCommand, CreateSegment, ExportSegmentFile, GetSegmentMembers,
    ListSegments, RemoveFromGroup,
};
use leptos::prelude::*;
use storefront_client::money::{Currency, Money};
use storefront_client::staff::segments::{Segment, SegmentKind};
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::call;
use crate::screens::{Pager, Problem, failed, page_count};

fn shop_currency() -> Currency {
    Currency::parse("EUR").unwrap_or(Currency::NONE)
}

/// The groups and segments pane of the customers screen.
#[component]
pub fn GroupsPane() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let list = LocalResource::new(move || call(ListSegments {}));
    let selected = RwSignal::new(None::<Segment>);
    view! {
        <div class="panel" id="groups">
            <h2>"Groups and segments"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! {
                            <table id="segments">
                                <thead><tr><th>"Name"</th><th>"Who is in"</th></tr></thead>
                                <tbody>
                                    {list.segments.into_iter().map(|s| {
                                        let about = describe(&s, shop_currency());
                                        let name = s.name.clone();
                                        view! {
                                            <tr class="clickable">
                                                <td><button class="secondary segment-open" on:click=move |_| selected.set(Some(s.clone()))>{name}</button></td>
                                                <td>{about}</td>
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
            {move || selected.get().map(|segment| view! { <Members segment/> })}
            <NewSegmentForm created=move |segment| { selected.set(Some(segment)); list.refetch(); }/>
        </div>
    }
}

/// A segment's members now, a page at a time; a group's can be taken out one by one.
#[component]
fn Members(segment: Segment) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let id = segment.id;
    let is_group = segment.kind == SegmentKind::Static;
    let page = RwSignal::new(1i64);
    let members = LocalResource::new(move || {
        call(GetSegmentMembers {
            id,
            page: page.get(),
        })
    });
    let error = RwSignal::new(None);
    let remove = move |account_id: Uuid| {
        frame.run(RemoveFromGroup { id, account_id }, error, move |()| {
            members.refetch()
        });
    };
    // A file name from the segment's: letters and digits kept, anything else a dash.
    let file_name: String = segment
        .name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let export_path = RwSignal::new(format!("~/{file_name}.csv"));
    let export_error = RwSignal::new(None);
    let exported = RwSignal::new(None::<ExportedFile>);
    let export = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        exported.set(None);
        frame.run(
            ExportSegmentFile {
                id,
                path: export_path.get_untracked(),
            },
            export_error,
            move |file| exported.set(Some(file)),
        );
    };
    view! {
        <h3 id="segment-name">{segment.name.clone()}</h3>
        <Problem error/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(list) => {
                        let pages = page_count(list.meta.total, list.meta.limit);
                        view! {
                            <p class="muted" id="segment-count">{match list.meta.total {
                                1 => "1 member".to_owned(),
                                n => format!("{n} members"),
                            }}</p>
                            <table id="segment-members">
                                <thead><tr><th>"Customer"</th><th>"Orders"</th><th>"Spent"</th><th>"Risk"</th><th></th></tr></thead>
                                <tbody>
                                    {list.members.into_iter().map(|m| {
                                        let account_id = m.account_id;
                                        view! {
                                            <tr>
                                                <td>{format!("{} · {}", m.full_name, m.email)}</td>
                                                <td>{m.orders}</td>
                                                <td>{format::money(&Money::new(m.spent_minor, shop_currency()))}</td>
                                                <td>{m.risk_band.unwrap_or_default()}</td>
                                                <td>{is_group.then(|| view! {
                                                    <button class="secondary member-remove" on:click=move |_| remove(account_id)>"Take out"</button>
                                                })}</td>
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
        <form class="row" on:submit=export>
            <label for="segment-export-path">"Export to"</label>
            <input id="segment-export-path" size="30" prop:value=export_path
                on:input=move |ev| export_path.set(event_target_value(&ev))/>
            <button id="segment-export" type="submit">"Export CSV"</button>
        </form>
        <Problem error=export_error/>
        {move || exported.get().map(|file| view! {
            <p id="segment-export-notice" role="status">{format!("Exported {} members to {}.", file.rows, file.path)}</p>
        })}
    }
}

/// A new group (a name) or segment (a name and a rule).
#[component]
fn NewSegmentForm(created: impl Fn(Segment) + Clone + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let form = RwSignal::new(SegmentForm::default());
    let error = RwSignal::new(None);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let created = created.clone();
        frame.run(
            CreateSegment {
                form: form.get_untracked(),
            },
            error,
            move |segment| {
                form.set(SegmentForm::default());
                created(segment);
            },
        );
    };
    let text = move |id: &'static str,
                     label: &'static str,
                     get: fn(&SegmentForm) -> String,
                     set: fn(&mut SegmentForm, String)| {
        view! {
            <label for=id>{label}</label>
            <input id=id size="8" prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))/>
        }
    };
    view! {
        <h3>"New group or segment"</h3>
        <form class="stacked" id="segment-form" on:submit=submit>
            <label for="segment-new-name">"Name"</label>
            <input id="segment-new-name" prop:value=move || form.with(|f| f.name.clone())
                on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))/>
            <label>
                <input type="checkbox" id="segment-dynamic" prop:checked=move || form.with(|f| f.dynamic)
                    on:change=move |ev| form.update(|f| f.dynamic = event_target_checked(&ev))/>
                " Members decided by a rule (otherwise staff add them)"
            </label>
            {move || form.with(|f| f.dynamic).then(|| view! {
                <fieldset>
                    <legend>"Rule"</legend>
                    <div class="row">
                        {RISK_BANDS.into_iter().map(|band| view! {
                            <label>
                                <input type="checkbox" class="segment-band" value=band
                                    prop:checked=move || form.with(|f| f.bands.iter().any(|b| b == band))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        form.update(|f| {
                                            f.bands.retain(|b| b != band);
                                            if on { f.bands.push(band.to_owned()); }
                                        });
                                    }/>
                                {format!(" {band} risk")}
                            </label>
                        }).collect_view()}
                    </div>
                    <div class="row">
                        {text("segment-min-value", "Predicted value at least", |f| f.min_predicted_value.clone(), |f, v| f.min_predicted_value = v)}
                        {text("segment-min-orders", "Orders at least", |f| f.min_orders.clone(), |f, v| f.min_orders = v)}
                        {text("segment-min-spent", "Spent at least", |f| f.min_spent.clone(), |f, v| f.min_spent = v)}
                    </div>
                    <div class="row">
                        {text("segment-min-days", "Last order at least (days ago)", |f| f.min_days_since_last_order.clone(), |f, v| f.min_days_since_last_order = v)}
                        {text("segment-max-days", "at most", |f| f.max_days_since_last_order.clone(), |f, v| f.max_days_since_last_order = v)}
                    </div>
                </fieldset>
            })}
            <Problem error/>
            <button id="segment-create" type="submit">"Create"</button>
        </form>
    }
}

/// "Add to group" on a customer's detail: the static groups, and a button.
#[component]
pub fn AddToGroup(customer: Uuid) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let groups = RwSignal::new(Vec::<Segment>::new());
    let error = RwSignal::new(None);
    frame.run(ListSegments {}, error, move |list| {
        groups.set(
            list.segments
                .into_iter()
                .filter(|s| s.kind == SegmentKind::Static)
                .collect(),
        )
    });
    let chosen = RwSignal::new(String::new());
    let added = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        added.set(None);
        let Ok(id) = chosen.get_untracked().parse::<Uuid>() else {
            added.set(Some("Choose a group first.".to_owned()));
            return;
        };
        let name = groups.with_untracked(|groups| {
            groups
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.clone())
                .unwrap_or_default()
        });
        frame.run(
            AddToGroupCommand {
                id,
                account_id: customer,
            },
            error,
            move |answer| {
                added.set(Some(if answer.added == 0 {
                    format!("Already in {name}.")
                } else {
                    format!("Added to {name}.")
                }))
            },
        );
    };
    view! {
        <form class="row" id="add-to-group-form" on:submit=add>
            <label for="add-to-group">"Add to group"</label>
            <select id="add-to-group" on:change=move |ev| chosen.set(event_target_value(&ev))>
                <option value="">"Choose a group"</option>
                {move || groups.get().into_iter().map(|g| view! {
                    <option value=g.id.to_string()>{g.name}</option>
                }).collect_view()}
            </select>
            <button id="add-to-group-button" type="submit">"Add"</button>
        </form>
        <Problem error/>
        {move || added.get().map(|text| view! { <p id="add-to-group-notice" role="status">{text}</p> })}
    }
}
