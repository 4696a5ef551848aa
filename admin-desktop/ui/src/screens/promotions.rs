//! Promotions: the automatic offers the shop's carts get without a code — listed with what
//! each gives, on what, until when and how much of its budget is used, paused and resumed;
//! and the form for a new one.

use console_protocol::catalog::CategoryChoice;
use console_protocol::promotions::{PromotionForm, PromotionKind, TIER_ROWS, describe};
use console_protocol::{CreatePromotion, ListCategories, ListPromotions, SetPromotionActive};
use leptos::prelude::*;
use storefront_client::money::{Currency, Money};
use storefront_client::staff::promotions::{PromotionScope, StaffPromotion};

use crate::app::Frame;
use crate::format;
use crate::invoke::{CommandError, call};
use crate::screens::{Problem, failed};

/// A text input's value and its handler, bound to one field of the form.
macro_rules! bound {
    ($form:expr, $($field:tt)+) => {(
        move || $form.with(|f| f.$($field)+.clone()),
        move |ev| $form.update(|f| f.$($field)+ = event_target_value(&ev)),
    )};
}

#[component]
pub fn PromotionsScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let list = LocalResource::new(move || call(ListPromotions {}));
    let categories = RwSignal::new(Vec::<CategoryChoice>::new());
    let categories_error = RwSignal::new(None::<CommandError>);
    frame.run(ListCategories {}, categories_error, move |c| {
        categories.set(c)
    });
    let error = RwSignal::new(None::<CommandError>);
    let set_active = move |id, active| {
        frame.run(SetPromotionActive { id, active }, error, move |_| {
            list.refetch()
        });
    };
    view! {
        <h1>"Promotions"</h1>
        <p class="muted">"Offers every cart gets on its own, without a code. Promotions that \
            combine apply together; any other stands alone, and the shopper gets whichever \
            costs them less. Budgets hold however many shoppers check out at once."</p>
        <section aria-label="Promotion list">
            <Problem error/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.promotions.is_empty() => view! {
                            <p class="muted" id="no-promotions">"No promotions yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table id="promotions">
                                <thead><tr><th>"Title"</th><th>"Gives"</th><th>"On"</th><th>"Until"</th>
                                    <th>"Budget used"</th><th>"State"</th></tr></thead>
                                <tbody>
                                    {list.promotions.into_iter().map(|p| view! {
                                        <PromotionRow promotion=p categories set_active/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => failed(frame, error),
                    }
                })}
            </Transition>
        </section>
        <NewPromotionForm categories on_created=move || list.refetch()/>
    }
}

#[component]
fn PromotionRow(
    promotion: StaffPromotion,
    categories: RwSignal<Vec<CategoryChoice>>,
    set_active: impl Fn(uuid::Uuid, bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = promotion.id;
    let active = promotion.active;
    let currency = Currency::parse(&promotion.currency).unwrap_or(Currency::NONE);
    let money = move |minor: i64| Money::new(minor, currency).to_shopper_string();
    let scope = promotion.scope.clone();
    let on = move || match &scope {
        PromotionScope::All => "everything".to_owned(),
        PromotionScope::Products { product_ids } => format!("{} products", product_ids.len()),
        PromotionScope::Categories { category_ids } => categories.with(|choices| {
            category_ids
                .iter()
                .map(|id| {
                    choices
                        .iter()
                        .find(|choice| choice.id == *id)
                        .map_or_else(|| id.to_string(), |choice| choice.label.clone())
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
    };
    let mut budget = Vec::new();
    match promotion.budget_uses {
        Some(limit) => budget.push(format!("{} of {limit} orders", promotion.used_uses)),
        None => budget.push(format!("{} orders", promotion.used_uses)),
    }
    match promotion.budget_minor {
        Some(limit) => budget.push(format!(
            "{} of {}",
            money(promotion.used_minor),
            money(limit)
        )),
        None => budget.push(money(promotion.used_minor)),
    }
    let state = if active { "running" } else { "paused" };
    view! {
        <tr class="promotion">
            <td><strong>{promotion.title}</strong>
                {promotion.combines.then(|| view! { <div class="muted">"combines"</div> })}</td>
            <td>{describe(&promotion.rule, currency)}</td>
            <td>{on}</td>
            <td>{promotion.ends_at.map_or_else(|| "no end".to_owned(), |end| format::when(&end))}</td>
            <td class="promotion-budget">{budget.join(" · ")}</td>
            <td>
                <span class="promotion-state">{state}</span>" "
                <button class="secondary promotion-toggle" on:click=move |_| set_active(id, !active)>
                    {if active { "Pause" } else { "Resume" }}
                </button>
            </td>
        </tr>
    }
}

/// The form for a new promotion: what it gives (the inputs of its kind), on what, whether it
/// combines, its budget and its last day.
#[component]
fn NewPromotionForm(
    categories: RwSignal<Vec<CategoryChoice>>,
    on_created: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let form = RwSignal::new(PromotionForm::default());
    let error = RwSignal::new(None::<CommandError>);
    let created = RwSignal::new(None::<String>);
    let kind = move || form.with(|f| f.kind);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let command = CreatePromotion {
            form: form.get_untracked(),
        };
        frame.run(command, error, move |promotion| {
            created.set(Some(promotion.title));
            form.set(PromotionForm::default());
            on_created();
        });
    };
    let (title, set_title) = bound!(form, title);
    let (buy, set_buy) = bound!(form, buy);
    let (get, set_get) = bound!(form, get);
    let (percent_off, set_percent_off) = bound!(form, percent_off);
    let (min_spend, set_min_spend) = bound!(form, min_spend);
    let (budget_uses, set_budget_uses) = bound!(form, budget_uses);
    let (budget_amount, set_budget_amount) = bound!(form, budget_amount);
    let (ends_on, set_ends_on) = bound!(form, ends_on);
    view! {
        <form id="new-promotion" class="panel stacked" on:submit=create>
            <h2>"New promotion"</h2>
            <label for="promotion-title">"Title shoppers see"</label>
            <input id="promotion-title" placeholder="3 for 2 on socks" prop:value=title on:input=set_title/>
            <label for="promotion-kind">"Gives"</label>
            <select id="promotion-kind" on:change=move |ev| {
                if let Some(kind) = PromotionKind::parse(&event_target_value(&ev)) {
                    form.update(|f| f.kind = kind);
                }
            }>
                {PromotionKind::ALL.map(|k| view! {
                    <option value=k.as_str() selected=move || kind() == k>{k.label()}</option>
                }).collect_view()}
            </select>
            {move || match kind() {
                PromotionKind::BuyXGetY => view! {
                    <div class="row">
                        <label for="promotion-buy">"Buy"</label>
                        <input id="promotion-buy" inputmode="numeric" size="3" prop:value=buy on:input=set_buy/>
                        <label for="promotion-get">"get"</label>
                        <input id="promotion-get" inputmode="numeric" size="3" prop:value=get on:input=set_get/>
                        <label for="promotion-percent-off">"at % off"</label>
                        <input id="promotion-percent-off" inputmode="decimal" size="5" prop:value=percent_off on:input=set_percent_off/>
                    </div>
                }.into_any(),
                PromotionKind::QuantityTiers | PromotionKind::SpendTiers => view! {
                    <fieldset class="tiers">
                        <legend>{if kind() == PromotionKind::SpendTiers {
                            "From an amount spent: 10 % or 5.00 off"
                        } else {
                            "From a number of units: % off each"
                        }}</legend>
                        {(0..TIER_ROWS).map(|n| view! {
                            <div class="row">
                                <label for=format!("tier-{n}-threshold")>"From"</label>
                                <input id=format!("tier-{n}-threshold") size="8"
                                    prop:value=move || form.with(|f| f.tiers.get(n).map(|t| t.threshold.clone()).unwrap_or_default())
                                    on:input=move |ev| form.update(|f| if let Some(t) = f.tiers.get_mut(n) { t.threshold = event_target_value(&ev) })/>
                                <label for=format!("tier-{n}-off")>"off"</label>
                                <input id=format!("tier-{n}-off") size="8"
                                    prop:value=move || form.with(|f| f.tiers.get(n).map(|t| t.off.clone()).unwrap_or_default())
                                    on:input=move |ev| form.update(|f| if let Some(t) = f.tiers.get_mut(n) { t.off = event_target_value(&ev) })/>
                            </div>
                        }).collect_view()}
                    </fieldset>
                }.into_any(),
                PromotionKind::FreeShipping => view! {
                    <div class="row">
                        <label for="promotion-min-spend">"From (spent)"</label>
                        <input id="promotion-min-spend" inputmode="decimal" size="8" prop:value=min_spend on:input=set_min_spend/>
                        <label>
                            <input type="checkbox" id="promotion-express"
                                prop:checked=move || form.with(|f| f.include_express)
                                on:change=move |ev| form.update(|f| f.include_express = event_target_checked(&ev))/>
                            "express too"
                        </label>
                    </div>
                }.into_any(),
            }}
            <label for="promotion-category">"On"</label>
            <select id="promotion-category" on:change=move |ev| {
                let id = event_target_value(&ev).parse().ok();
                form.update(|f| f.category_id = id);
            }>
                <option value="" selected=move || form.with(|f| f.category_id.is_none())>"Every product"</option>
                {move || categories.get().into_iter().map(|c| {
                    let id = c.id;
                    view! {
                        <option value=id.to_string() selected=move || form.with(|f| f.category_id == Some(id))>{c.label}</option>
                    }
                }).collect_view()}
            </select>
            <label>
                <input type="checkbox" id="promotion-combines"
                    prop:checked=move || form.with(|f| f.combines)
                    on:change=move |ev| form.update(|f| f.combines = event_target_checked(&ev))/>
                "Combines with other promotions"
            </label>
            <div class="row">
                <label for="promotion-budget-uses">"At most (orders)"</label>
                <input id="promotion-budget-uses" inputmode="numeric" size="6" prop:value=budget_uses on:input=set_budget_uses/>
                <label for="promotion-budget-amount">"At most (given)"</label>
                <input id="promotion-budget-amount" inputmode="decimal" size="8" prop:value=budget_amount on:input=set_budget_amount/>
            </div>
            <label for="promotion-ends-on">"Last day"</label>
            <input id="promotion-ends-on" type="date" prop:value=ends_on on:input=set_ends_on/>
            <Problem error/>
            <button id="promotion-create" type="submit">"Start promotion"</button>
            {move || created.get().map(|title| view! {
                <p class="notice" role="status" id="promotion-created">{format!("“{title}” is running.")}</p>
            })}
        </form>
    }
}
