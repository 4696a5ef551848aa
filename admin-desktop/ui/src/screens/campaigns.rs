//! Campaigns: retention offers to customers likely to leave, each with a holdout that shows
//! whether the offer paid. The list; the form, with a preview of whom it reaches and what
//! it could prove before launching; and each campaign's results per arm, the uplifts with
//! their 95 % intervals, the cumulative purchase rate drawn per arm, pause, resume and end.

use chrono::NaiveDate;
use console_protocol::campaigns::{CampaignForm, OfferKind, RISK_BANDS, TOO_SMALL_POINTS, marks};
use console_protocol::{
    GetCampaign, LaunchCampaign, ListCampaigns, ListSegments, PreviewCampaign, SetCampaignStatus,
};
use leptos::prelude::*;
use storefront_client::money::{Currency, Money};
use storefront_client::staff::campaigns::{
    ArmResults, AudiencePreview, AudienceRule, Campaign, CampaignDetail, CampaignMode,
    CampaignStatus, Channel, DailyRates, Uplift,
};
use storefront_client::staff::segments::Segment;
use uuid::Uuid;

use crate::app::Frame;
use crate::format;
use crate::invoke::{CommandError, call};
use crate::screens::{Confirmed, Problem, failed};

/// What shows under the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    NewCampaign,
    Results(Uuid),
}

#[component]
pub fn CampaignsScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let panel = RwSignal::new(Panel::NewCampaign);
    let list = LocalResource::new(move || call(ListCampaigns {}));
    // Kept here so that what staff typed survives a look at a campaign's results.
    let form = FormFields::new(&CampaignForm::default());
    view! {
        <h1>"Campaigns"</h1>
        <p class="muted">"Offers to customers the churn model expects to leave. Part of each \
            audience is held out and offered nothing: comparing the two shows whether the offer \
            brought purchases it did not give away."</p>
        <section aria-label="Campaign list">
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.campaigns.is_empty() => view! {
                            <p class="muted" id="no-campaigns">"No campaigns yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table id="campaigns">
                                <thead><tr><th>"Name"</th><th>"Status"</th><th>"Mode"</th><th>"Offer"</th>
                                    <th>"Treated / held out"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.campaigns.into_iter().map(|c| view! { <CampaignRow campaign=c panel/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => failed(frame, error),
                    }
                })}
            </Transition>
            <p><button id="new-campaign" class="secondary" on:click=move |_| panel.set(Panel::NewCampaign)>"New campaign"</button></p>
        </section>
        {move || match panel.get() {
            Panel::NewCampaign => view! {
                <CampaignFormPanel form on_launched=move |id| {
                    panel.set(Panel::Results(id));
                    list.refetch();
                }/>
            }.into_any(),
            Panel::Results(id) => view! { <CampaignResults id on_change=move || list.refetch()/> }.into_any(),
        }}
    }
}

#[component]
fn CampaignRow(campaign: Campaign, panel: RwSignal<Panel>) -> impl IntoView {
    let id = campaign.id;
    view! {
        <tr class="clickable" data-campaign=id.to_string()>
            <td><button class="secondary campaign-open" on:click=move |_| panel.set(Panel::Results(id))>{campaign.name}</button></td>
            <td class="campaign-state">{status_label(campaign.status)}</td>
            <td>{mode_label(campaign.mode)}</td>
            <td>{campaign.offer.headline}</td>
            <td class="campaign-arms">{format!("{} / {}", campaign.treated, campaign.held_out)}</td>
            <td>{format::when(&campaign.created_at)}</td>
        </tr>
    }
}

fn status_label(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Running => "running",
        CampaignStatus::Paused => "paused",
        CampaignStatus::Ended => "ended",
    }
}

fn mode_label(mode: CampaignMode) -> &'static str {
    match mode {
        CampaignMode::OneOff => "once, at launch",
        CampaignMode::Automatic => "after every scoring run",
    }
}

fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "Email (to customers who agreed to marketing)",
        Channel::Web => "Banner in the shop",
    }
}

/// The form: one signal per field.
#[derive(Clone, Copy)]
struct FormFields {
    name: RwSignal<String>,
    bands: RwSignal<Vec<String>>,
    min_probability: RwSignal<String>,
    max_probability: RwSignal<String>,
    min_predicted_value: RwSignal<String>,
    min_days_since_last_order: RwSignal<String>,
    max_days_since_last_order: RwSignal<String>,
    exclude_opted_out: RwSignal<bool>,
    offer_kind: RwSignal<OfferKind>,
    offer_value: RwSignal<String>,
    currency: RwSignal<String>,
    min_spend: RwSignal<String>,
    days_valid: RwSignal<String>,
    channels: RwSignal<Vec<Channel>>,
    holdout_percent: RwSignal<String>,
    frequency_cap_days: RwSignal<String>,
    max_recipients: RwSignal<String>,
    mode: RwSignal<CampaignMode>,
    segment_id: RwSignal<Option<Uuid>>,
}

impl FormFields {
    fn new(form: &CampaignForm) -> Self {
        Self {
            name: RwSignal::new(form.name.clone()),
            bands: RwSignal::new(form.bands.clone()),
            min_probability: RwSignal::new(form.min_probability.clone()),
            max_probability: RwSignal::new(form.max_probability.clone()),
            min_predicted_value: RwSignal::new(form.min_predicted_value.clone()),
            min_days_since_last_order: RwSignal::new(form.min_days_since_last_order.clone()),
            max_days_since_last_order: RwSignal::new(form.max_days_since_last_order.clone()),
            exclude_opted_out: RwSignal::new(form.exclude_opted_out),
            offer_kind: RwSignal::new(form.offer_kind),
            offer_value: RwSignal::new(form.offer_value.clone()),
            currency: RwSignal::new(form.currency.clone()),
            min_spend: RwSignal::new(form.min_spend.clone()),
            days_valid: RwSignal::new(form.days_valid.clone()),
            channels: RwSignal::new(form.channels.clone()),
            holdout_percent: RwSignal::new(form.holdout_percent.clone()),
            frequency_cap_days: RwSignal::new(form.frequency_cap_days.clone()),
            max_recipients: RwSignal::new(form.max_recipients.clone()),
            mode: RwSignal::new(form.mode),
            segment_id: RwSignal::new(form.segment_id),
        }
    }

    /// The form as typed now (tracked: a view that calls it follows the typing).
    fn typed(self) -> CampaignForm {
        CampaignForm {
            name: self.name.get(),
            bands: self.bands.get(),
            min_probability: self.min_probability.get(),
            max_probability: self.max_probability.get(),
            min_predicted_value: self.min_predicted_value.get(),
            min_days_since_last_order: self.min_days_since_last_order.get(),
            max_days_since_last_order: self.max_days_since_last_order.get(),
            exclude_opted_out: self.exclude_opted_out.get(),
            offer_kind: self.offer_kind.get(),
            offer_value: self.offer_value.get(),
            currency: self.currency.get(),
            min_spend: self.min_spend.get(),
            days_valid: self.days_valid.get(),
            channels: self.channels.get(),
            holdout_percent: self.holdout_percent.get(),
            frequency_cap_days: self.frequency_cap_days.get(),
            max_recipients: self.max_recipients.get(),
            mode: self.mode.get(),
            segment_id: self.segment_id.get(),
        }
    }
}

/// A text input of the form, marked when the last refusal named it.
fn text_field(
    input: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: RwSignal<Option<CommandError>>,
    placeholder: &'static str,
) -> impl IntoView {
    let id = input_id(input);
    let invalid = move || {
        error
            .with(|e| e.as_ref().is_some_and(|e| marks(e, input)))
            .then_some("true")
    };
    view! {
        <label for=id.clone()>{label}</label>
        <input id=id placeholder=placeholder prop:value=value aria-invalid=invalid
            on:input=move |ev| value.set(event_target_value(&ev))/>
    }
}

/// `min_spend` → `#min-spend`.
fn input_id(input: &str) -> String {
    input.replace('_', "-")
}

/// Typing, preview and launch of a new campaign. The form's own checks and the API's
/// refusals show above its buttons, with the inputs they name marked.
#[component]
fn CampaignFormPanel(
    form: FormFields,
    on_launched: impl Fn(Uuid) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let error = RwSignal::new(None::<CommandError>);
    // The groups and segments an audience may be narrowed to; a role without the customers
    // permission just sees none.
    let segments = RwSignal::new(Vec::<Segment>::new());
    leptos::task::spawn_local(async move {
        if let Ok(list) = call(ListSegments {}).await {
            segments.set(list.segments);
        }
    });
    // The preview with the form it was made for, so a changed form can say it is stale.
    let previewed = RwSignal::new(None::<(CampaignForm, AudiencePreview)>);
    let preview = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = untrack(move || form.typed());
        previewed.set(None);
        let command = PreviewCampaign {
            form: typed.clone(),
        };
        frame.run(command, error, move |preview| {
            previewed.set(Some((typed, preview)));
        });
    };
    let launch = move || {
        let typed = untrack(move || form.typed());
        frame.run(LaunchCampaign { form: typed }, error, move |campaign| {
            on_launched(campaign.id);
        });
    };
    let marked = move |input: &'static str| {
        move || error.with(|e| e.as_ref().is_some_and(|e| marks(e, input)))
    };
    let currency = move || form.currency.get().trim().to_ascii_uppercase();
    view! {
        <form id="campaign-form" class="panel" on:submit=preview>
            <h2>"New campaign"</h2>
            <div class="stacked">
                {text_field("name", "Name", form.name, error, "Winter win-back")}
            </div>
            <div class="fieldsets">
                <fieldset id="audience" class:invalid=marked("audience")>
                    <legend>"Who qualifies"</legend>
                    <div class="checks" id="bands" class:invalid=marked("bands")>
                        <span class="label">"Risk bands (none ticked: every band)"</span>
                        {RISK_BANDS.map(|band| view! {
                            <label>
                                <input type="checkbox" id=format!("band-{band}")
                                    prop:checked=move || form.bands.with(|b| b.iter().any(|x| x == band))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        form.bands.update(|b| {
                                            b.retain(|x| x != band);
                                            if on { b.push(band.to_owned()); }
                                        });
                                    }/>
                                {band}
                            </label>
                        }).collect_view()}
                    </div>
                    <div class="stacked">
                        {text_field("min_probability", "Churn probability from (%)", form.min_probability, error, "e.g. 60")}
                        {text_field("max_probability", "to (%)", form.max_probability, error, "e.g. 100")}
                        <label for="min-predicted-value">{move || format!("Predicted spend next year, at least ({})", currency())}</label>
                        <input id="min-predicted-value" placeholder="e.g. 50" prop:value=form.min_predicted_value
                            aria-invalid=move || marked("min_predicted_value")().then_some("true")
                            on:input=move |ev| form.min_predicted_value.set(event_target_value(&ev))/>
                        {text_field("min_days_since_last_order", "Days since the last order, at least", form.min_days_since_last_order, error, "e.g. 30")}
                        {text_field("max_days_since_last_order", "at most", form.max_days_since_last_order, error, "e.g. 365")}
                    </div>
                    <div class="stacked">
                        <label for="campaign-segment">"Only members of"</label>
                        <select id="campaign-segment" aria-invalid=move || marked("segment_id")().then_some("true")
                            on:change=move |ev| form.segment_id.set(event_target_value(&ev).parse().ok())>
                            <option value="" selected=move || form.segment_id.get().is_none()>"Everyone the rule finds"</option>
                            {move || segments.get().into_iter().map(|s| {
                                let id = s.id;
                                view! { <option value=id.to_string() selected=move || form.segment_id.get() == Some(id)>{s.name}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <label class="check">
                        <input type="checkbox" id="exclude-opted-out" prop:checked=form.exclude_opted_out
                            on:change=move |ev| form.exclude_opted_out.set(event_target_checked(&ev))/>
                        "Leave out customers who said no to marketing"
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"The offer"</legend>
                    <div class="stacked">
                        <label for="offer-kind">"Kind"</label>
                        <select id="offer-kind" on:change=move |ev| form.offer_kind.set(
                            if event_target_value(&ev) == "fixed" { OfferKind::Fixed } else { OfferKind::Percent })>
                            <option value="percent" selected=move || form.offer_kind.get() == OfferKind::Percent>"Percent off"</option>
                            <option value="fixed" selected=move || form.offer_kind.get() == OfferKind::Fixed>"Amount off"</option>
                        </select>
                        <label for="offer-value">{move || match form.offer_kind.get() {
                            OfferKind::Percent => "Percent off (%)".to_owned(),
                            OfferKind::Fixed => format!("Amount off ({})", currency()),
                        }}</label>
                        <input id="offer-value" placeholder=move || match form.offer_kind.get() {
                                OfferKind::Percent => "e.g. 15",
                                OfferKind::Fixed => "e.g. 5.00",
                            }
                            prop:value=form.offer_value
                            aria-invalid=move || marked("offer_value")().then_some("true")
                            on:input=move |ev| form.offer_value.set(event_target_value(&ev))/>
                        {text_field("currency", "Currency", form.currency, error, "EUR")}
                        <label for="min-spend">{move || format!("Minimum spend ({}; empty for none)", currency())}</label>
                        <input id="min-spend" placeholder="e.g. 40.00" prop:value=form.min_spend
                            aria-invalid=move || marked("min_spend")().then_some("true")
                            on:input=move |ev| form.min_spend.set(event_target_value(&ev))/>
                        {text_field("days_valid", "Days the code is valid (and measured)", form.days_valid, error, "14")}
                    </div>
                </fieldset>
                <fieldset>
                    <legend>"Delivery and measurement"</legend>
                    <div class="checks" id="channels" class:invalid=marked("channels")>
                        {Channel::ALL.map(|channel| view! {
                            <label>
                                <input type="checkbox" id=format!("channel-{}", channel.as_str())
                                    prop:checked=move || form.channels.with(|c| c.contains(&channel))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        form.channels.update(|c| {
                                            c.retain(|x| *x != channel);
                                            if on { c.push(channel); }
                                        });
                                    }/>
                                {channel_label(channel)}
                            </label>
                        }).collect_view()}
                    </div>
                    <div class="stacked">
                        {text_field("holdout_percent", "Held out, offered nothing (%)", form.holdout_percent, error, "10")}
                        {text_field("frequency_cap_days", "No customer gets two offers within (days)", form.frequency_cap_days, error, "30")}
                        {text_field("max_recipients", "At most this many get the offer (empty: all)", form.max_recipients, error, "e.g. 5000")}
                        <label for="mode">"Enrol"</label>
                        <select id="mode" on:change=move |ev| form.mode.set(
                            CampaignMode::parse(&event_target_value(&ev)).unwrap_or(CampaignMode::OneOff))>
                            {[CampaignMode::OneOff, CampaignMode::Automatic].map(|m| view! {
                                <option value=m.as_str() selected=move || form.mode.get() == m>{mode_label(m)}</option>
                            }).collect_view()}
                        </select>
                    </div>
                </fieldset>
            </div>
            <Problem error/>
            <div class="row">
                <button id="campaign-preview-button" type="submit" class="secondary">"Preview"</button>
                <Confirmed id="campaign-launch" label="Launch"
                    question="Launch now? Everyone who qualifies is enrolled at once and the treated get their offer.".into()
                    action=launch/>
            </div>
            {move || previewed.get().map(|(typed, p)| {
                let stale = typed != form.typed();
                view! { <PreviewFigures preview=p stale/> }
            })}
        </form>
    }
}

#[component]
fn PreviewFigures(preview: AudiencePreview, stale: bool) -> impl IntoView {
    let p = preview;
    view! {
        <div id="campaign-preview" class="tint">
            {stale.then(|| view! {
                <p class="error" id="preview-stale">"The form changed since this preview: preview again to see whom it reaches now."</p>
            })}
            <p>
                <strong id="preview-qualifying">{p.qualifying}</strong>" customers qualify: "
                {format!("{} high, {} medium, {} low risk.", p.by_band.high, p.by_band.medium, p.by_band.low)}
            </p>
            <p>
                <strong id="preview-treated">{p.treated}</strong>" would get the offer, "
                <strong id="preview-held-out">{p.held_out}</strong>" held out. "
                {format!("The holdout is expected to buy at {} within the window.", format::percent(p.expected_purchase_rate))}
            </p>
            <p id="preview-detectable" class:error=detection_fails(p.minimum_detectable_uplift_points)>
                {detectable(p.minimum_detectable_uplift_points)}
            </p>
            <p class="muted">{format!("Scores of {} by model {}.", format::when(&p.scored_at), p.model_version)}</p>
        </div>
    }
}

fn detection_fails(points: Option<f64>) -> bool {
    points.is_none_or(|points| points > TOO_SMALL_POINTS)
}

/// What a preview's smallest detectable uplift means for staff.
fn detectable(points: Option<f64>) -> String {
    match points {
        None => "Nobody would be measured: no one qualifies, or one arm would be empty.".to_owned(),
        Some(points) if points > TOO_SMALL_POINTS => format!(
            "Too small to tell whether the offer works: only an uplift above {points:.1} \
             points would show. Widen the audience or hold out more."
        ),
        Some(points) => format!(
            "Smallest uplift it can detect: {points:.1} points (80 % of the time it is real, at \
             5 % significance)."
        ),
    }
}

/// One campaign: how it is set up, its figures per arm and the uplifts, the curve, and
/// pause / resume / end.
#[component]
fn CampaignResults(id: Uuid, on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let loaded = LocalResource::new(move || call(GetCampaign { id }));
    let error = RwSignal::new(None);
    let set_status = move |status: CampaignStatus| {
        frame.run(SetCampaignStatus { id, status }, error, move |_| {
            loaded.refetch();
            on_change();
        });
    };
    view! {
        <div class="panel" id="campaign-results">
            <Problem error/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok(detail) => view! {
                            <ResultsView detail set_status refresh=move || loaded.refetch()/>
                        }.into_any(),
                        Err(error) => failed(frame, error),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn ResultsView(
    detail: CampaignDetail,
    set_status: impl Fn(CampaignStatus) + Copy + Send + Sync + 'static,
    refresh: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let CampaignDetail { campaign, results } = detail;
    let now = format::now();
    let currency = results.treated.revenue.currency;
    let counting = results.final_at.is_some_and(|at| at > now);
    let status = campaign.status;
    let closing = match results.final_at {
        Some(at) if at > now => format!(
            "The last windows close on {}; the figures count until then.",
            format::day(&at)
        ),
        Some(at) => format!(
            "Every window closed by {}: these are the final figures.",
            format::day(&at)
        ),
        None => "No one is enrolled.".to_owned(),
    };
    view! {
        <h2 id="campaign-name">{campaign.name.clone()}</h2>
        <p>
            <strong id="campaign-status" class=format!("status {}", status_label(status))>{status_label(status)}</strong>
            " · enrols " {mode_label(campaign.mode)} " · "
            <span id="campaign-offer">{campaign.offer.headline.clone()}</span>
        </p>
        <p class="muted" id="campaign-setup">{setup(&campaign, currency)}</p>
        <div class="row">
            {(status == CampaignStatus::Running).then(|| view! {
                <button class="secondary" id="campaign-pause" on:click=move |_| set_status(CampaignStatus::Paused)>"Pause"</button>
            })}
            {(status == CampaignStatus::Paused).then(|| view! {
                <button class="secondary" id="campaign-resume" on:click=move |_| set_status(CampaignStatus::Running)>"Resume"</button>
            })}
            {(status != CampaignStatus::Ended).then(|| view! {
                <Confirmed id="campaign-end" label="End" danger=true
                    question="End this campaign for good? No one new is enrolled; codes already sent stay valid until they expire.".into()
                    action=move || set_status(CampaignStatus::Ended)/>
            })}
            <button class="secondary" id="campaign-refresh" on:click=move |_| refresh()>"Refresh"</button>
        </div>
        <p id="uplift-purchase-rate"><strong>"Purchase rate: "</strong>
            <span class="uplift">{uplift_sentence(&results.purchase_rate_uplift, Unit::Points, counting)}</span></p>
        <p id="uplift-net-revenue"><strong>"Net revenue: "</strong>
            <span class="uplift">{uplift_sentence(&results.net_revenue_uplift, Unit::PerCustomer(currency), counting)}</span></p>
        <p class="muted">"Uplift is treated minus held out, with its 95 % interval, counted on the \
            customers whose window has closed. " {closing}</p>
        <div class="results">
            <table id="campaign-arms" class="figures">
                <thead><tr><th></th><th>"Treated"</th><th>"Held out"</th></tr></thead>
                <tbody>
                    {figures(&results.treated, &results.held_out).into_iter().map(|(key, label, treated, held_out)| view! {
                        <tr data-figure=key><th>{label}</th><td class="treated">{treated}</td><td class="held-out">{held_out}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <figure>
                <figcaption>"Cumulative purchase rate"</figcaption>
                <PurchaseRateChart daily=results.daily/>
            </figure>
        </div>
    }
}

/// The arms side by side: (key, label, treated, held out).
fn figures(
    treated: &ArmResults,
    held_out: &ArmResults,
) -> Vec<(&'static str, &'static str, String, String)> {
    let row = |key: &'static str, label: &'static str, figure: &dyn Fn(&ArmResults) -> String| {
        (key, label, figure(treated), figure(held_out))
    };
    vec![
        row("customers", "Customers", &|a| a.customers.to_string()),
        row("emails-sent", "Emails sent", &|a| a.emails_sent.to_string()),
        row("banners-shown", "Banners shown", &|a| {
            a.banners_shown.to_string()
        }),
        row("codes-redeemed", "Codes redeemed", &|a| {
            a.codes_redeemed.to_string()
        }),
        row("buyers", "Buyers", &|a| a.buyers.to_string()),
        row("purchase-rate", "Purchase rate", &|a| {
            format::percent(a.purchase_rate)
        }),
        row("orders", "Orders", &|a| a.orders.to_string()),
        row("revenue", "Revenue (net of refunds)", &|a| {
            format::money(&a.revenue)
        }),
        row("discount-cost", "Discount given", &|a| {
            format::money(&a.discount_cost)
        }),
        row(
            "net-revenue-per-customer",
            "Net revenue per customer",
            &|a| format::money_of(a.net_revenue_per_customer_minor, a.revenue.currency),
        ),
    ]
}

/// How the campaign is set up, in one line.
fn setup(campaign: &Campaign, currency: Currency) -> String {
    let channels: Vec<_> = campaign.channels.iter().map(|c| c.as_str()).collect();
    let cap = campaign
        .max_recipients
        .map(|cap| format!("; at most {cap} offered"))
        .unwrap_or_default();
    format!(
        "{}. Through {}; {} % held out; no one gets two offers within {} days{cap}. Created {}.",
        audience_summary(&campaign.audience, currency),
        channels.join(" and "),
        campaign.holdout_percent,
        campaign.frequency_cap_days,
        format::when(&campaign.created_at),
    )
}

/// Who qualifies, in words: `high, medium risk; churn probability 60.0 %–100.0 %; …`.
fn audience_summary(rule: &AudienceRule, currency: Currency) -> String {
    // Riskiest first, whatever order the API keeps them in.
    let bands: Vec<&str> = RISK_BANDS
        .iter()
        .rev()
        .copied()
        .filter(|band| rule.risk_bands.iter().any(|b| b == band))
        .collect();
    let mut parts = vec![match bands.as_slice() {
        [] => "Every risk band".to_owned(),
        [one] => format!("{} risk", capitalised(one)),
        [first, rest @ ..] => format!("{}, {} risk", capitalised(first), rest.join(", ")),
    }];
    match (rule.min_probability, rule.max_probability) {
        (Some(min), Some(max)) => parts.push(format!(
            "churn probability {}–{}",
            format::percent(min),
            format::percent(max)
        )),
        (Some(min), None) => parts.push(format!(
            "churn probability at least {}",
            format::percent(min)
        )),
        (None, Some(max)) => parts.push(format!(
            "churn probability at most {}",
            format::percent(max)
        )),
        (None, None) => {}
    }
    if let Some(value) = rule.min_predicted_value_minor {
        parts.push(format!(
            "predicted spend next year at least {}",
            Money::new(value, currency).to_shopper_string()
        ));
    }
    match (
        rule.min_days_since_last_order,
        rule.max_days_since_last_order,
    ) {
        (Some(min), Some(max)) => parts.push(format!("last order {min}–{max} days ago")),
        (Some(min), None) => parts.push(format!("last order at least {min} days ago")),
        (None, Some(max)) => parts.push(format!("last order at most {max} days ago")),
        (None, None) => {}
    }
    if rule.exclude_opted_out {
        parts.push("not those who said no to marketing".to_owned());
    }
    if rule.segment_id.is_some() {
        parts.push("members of its customer segment only".to_owned());
    }
    parts.join("; ")
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    /// Percentage points of purchase rate.
    Points,
    /// Minor units of net revenue per customer.
    PerCustomer(Currency),
}

/// An uplift for staff: `+4.1 points (−0.3 to +8.5), not significant yet — …`, or when it
/// can be measured.
fn uplift_sentence(uplift: &Uplift, unit: Unit, still_counting: bool) -> String {
    match uplift {
        Uplift::TooEarly { ready_at: Some(at) } => {
            format!("Too early — first windows close on {}.", format::day(at))
        }
        Uplift::TooEarly { ready_at: None } => "Too early — no one is enrolled yet.".to_owned(),
        Uplift::Measured {
            estimate,
            low,
            high,
            significant,
            treated,
            held_out,
        } => {
            let value = |x: f64| match unit {
                Unit::Points => signed(x, 1),
                Unit::PerCustomer(currency) => signed_money(x, currency),
            };
            let what = match unit {
                Unit::Points => format!("{} points", value(*estimate)),
                Unit::PerCustomer(_) => format!("{} per customer", value(*estimate)),
            };
            let verdict = match (significant, still_counting) {
                (true, _) => "significant",
                (false, true) => "not significant yet",
                (false, false) => "not significant",
            };
            format!(
                "{what} ({} to {}), {verdict} — on {treated} treated and {held_out} held-out \
                 customers whose window has closed.",
                value(*low),
                value(*high)
            )
        }
    }
}

/// `+4.1`, `−0.3` (a true minus sign), `0.0`.
fn signed(x: f64, decimals: usize) -> String {
    let digits = format!("{:.*}", decimals, x.abs());
    if digits.chars().all(|c| c == '0' || c == '.') {
        digits
    } else if x < 0.0 {
        format!("−{digits}")
    } else {
        format!("+{digits}")
    }
}

/// `+€2.50`, `−€0.40`, `€0.00`, from minor units.
fn signed_money(minor: f64, currency: Currency) -> String {
    let minor = minor.round() as i64;
    let amount = Money::new(minor.abs(), currency).to_shopper_string();
    match minor.signum() {
        1 => format!("+{amount}"),
        -1 => format!("−{amount}"),
        _ => amount,
    }
}

// The chart's drawing area, in SVG units (it scales to the panel's width).
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 28.0;

/// The cumulative purchase rate per arm, laid out: each arm's points, and the axes' labels.
#[derive(Debug, Clone, PartialEq)]
struct Chart {
    treated: Vec<(f64, f64)>,
    held_out: Vec<(f64, f64)>,
    /// (y, label) from the bottom.
    y_ticks: Vec<(f64, String)>,
    /// (x, label) from the left.
    x_ticks: Vec<(f64, String)>,
}

fn chart(daily: &[DailyRates]) -> Chart {
    let highest = daily
        .iter()
        .flat_map(|d| [d.treated, d.held_out])
        .fold(0.0, f64::max);
    // A round top a little above the highest rate, so small rates are not drawn flat.
    let top = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
        .into_iter()
        .find(|top| highest <= *top)
        .unwrap_or(1.0);
    let (width, height) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let n = daily.len();
    let x = |i: usize| {
        LEFT + if n <= 1 {
            width / 2.0
        } else {
            width * i as f64 / (n - 1) as f64
        }
    };
    let y = |rate: f64| TOP + height * (1.0 - rate.clamp(0.0, top) / top);
    let line = |rate: fn(&DailyRates) -> f64| -> Vec<(f64, f64)> {
        daily
            .iter()
            .enumerate()
            .map(|(i, d)| (x(i), y(rate(d))))
            .collect()
    };
    let day_tick = |i: usize| (x(i), short_day(daily[i].day));
    let x_ticks = match n {
        0 => Vec::new(),
        1 => vec![day_tick(0)],
        2 => vec![day_tick(0), day_tick(1)],
        _ => vec![day_tick(0), day_tick(n / 2), day_tick(n - 1)],
    };
    Chart {
        treated: line(|d| d.treated),
        held_out: line(|d| d.held_out),
        y_ticks: [0.0, top / 2.0, top]
            .into_iter()
            .map(|rate| (y(rate), tick_percent(rate)))
            .collect(),
        x_ticks,
    }
}

fn short_day(day: NaiveDate) -> String {
    day.format("%-d %b").to_string()
}

/// `0 %`, `2.5 %`, `10 %`.
fn tick_percent(rate: f64) -> String {
    let percent = rate * 100.0;
    if (percent - percent.round()).abs() < 1e-9 {
        format!("{percent:.0} %")
    } else {
        format!("{percent:.1} %")
    }
}

fn points(line: &[(f64, f64)]) -> String {
    line.iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drawn by the view itself (no script, no image): two lines over the days, axes, a legend.
#[component]
fn PurchaseRateChart(daily: Vec<DailyRates>) -> impl IntoView {
    if daily.is_empty() {
        return view! { <p class="muted" id="campaign-chart">"Nothing to draw until someone is enrolled."</p> }
            .into_any();
    }
    let chart = chart(&daily);
    // A day or two is a dot, not a line: mark each day while they are few.
    let dots = daily.len() <= 31;
    let axis_y = HEIGHT - BOTTOM;
    view! {
        <svg id="campaign-chart" class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
            aria-label="Cumulative purchase rate per arm, by day">
            {chart.y_ticks.iter().map(|(y, label)| view! {
                <line class="grid" x1=LEFT y1=*y x2={WIDTH - RIGHT} y2=*y/>
                <text class="tick-y" x={LEFT - 6.0} y={*y + 4.0}>{label.clone()}</text>
            }).collect_view()}
            <line class="axis" x1=LEFT y1=TOP x2=LEFT y2=axis_y/>
            <line class="axis" x1=LEFT y1=axis_y x2={WIDTH - RIGHT} y2=axis_y/>
            {chart.x_ticks.iter().map(|(x, label)| view! {
                <text class="tick-x" x=*x y={axis_y + 18.0}>{label.clone()}</text>
            }).collect_view()}
            <polyline class="treated" points=points(&chart.treated)/>
            <polyline class="held-out" points=points(&chart.held_out)/>
            {dots.then(|| view! {
                {chart.treated.iter().map(|(x, y)| view! { <circle class="treated" cx=*x cy=*y r=3.0/> }).collect_view()}
                {chart.held_out.iter().map(|(x, y)| view! { <circle class="held-out" cx=*x cy=*y r=3.0/> }).collect_view()}
            })}
            <g class="legend">
                <line class="treated" x1={LEFT + 8.0} y1=10.0 x2={LEFT + 32.0} y2=10.0/>
                <text x={LEFT + 38.0} y=14.0>"Treated"</text>
                <line class="held-out" x1={LEFT + 110.0} y1=10.0 x2={LEFT + 134.0} y2=10.0/>
                <text x={LEFT + 140.0} y=14.0>"Held out"</text>
            </g>
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn euro() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn measured(estimate: f64, low: f64, high: f64, significant: bool) -> Uplift {
        Uplift::Measured {
            estimate,
            low,
            high,
            significant,
            treated: 120,
            held_out: 30,
        }
    }

    #[test]
    fn uplifts_read_as_staff_say_them() {
        assert_eq!(
            uplift_sentence(&measured(4.08, -0.3, 8.46, false), Unit::Points, true),
            "+4.1 points (−0.3 to +8.5), not significant yet — on 120 treated and 30 held-out \
             customers whose window has closed."
        );
        assert!(
            uplift_sentence(&measured(4.1, 1.2, 7.0, true), Unit::Points, true)
                .starts_with("+4.1 points (+1.2 to +7.0), significant —")
        );
        assert!(
            uplift_sentence(&measured(-0.02, -3.0, 3.0, false), Unit::Points, false)
                .starts_with("0.0 points (−3.0 to +3.0), not significant —")
        );
        assert!(
            uplift_sentence(
                &measured(250.4, -40.0, 510.0, false),
                Unit::PerCustomer(euro()),
                true
            )
            .starts_with("+€2.50 per customer (−€0.40 to +€5.10), not significant yet")
        );
        let ready_at = Utc.with_ymd_and_hms(2026, 12, 22, 9, 30, 0).unwrap();
        assert_eq!(
            uplift_sentence(
                &Uplift::TooEarly {
                    ready_at: Some(ready_at)
                },
                Unit::Points,
                true
            ),
            "Too early — first windows close on 22 Dec 2026."
        );
        assert_eq!(
            uplift_sentence(&Uplift::TooEarly { ready_at: None }, Unit::Points, true),
            "Too early — no one is enrolled yet."
        );
    }

    #[test]
    fn an_audience_too_small_to_answer_is_told_so() {
        assert!(detectable(Some(14.26)).starts_with("Too small to tell"));
        assert!(detectable(Some(14.26)).contains("14.3 points"));
        assert!(detectable(Some(6.2)).starts_with("Smallest uplift it can detect: 6.2 points"));
        assert!(detection_fails(None) && detection_fails(Some(10.5)));
        assert!(!detection_fails(Some(9.9)));
    }

    #[test]
    fn the_chart_spans_the_days_and_a_round_top() {
        let day = |d: u32, treated, held_out| DailyRates {
            day: NaiveDate::from_ymd_opt(2026, 12, d).unwrap(),
            treated,
            held_out,
        };
        let drawn = chart(&[day(1, 0.0, 0.0), day(2, 0.04, 0.02), day(3, 0.12, 0.05)]);
        let bottom = HEIGHT - BOTTOM;
        assert_eq!(drawn.treated[0], (LEFT, bottom));
        assert_eq!(drawn.treated[2].0, WIDTH - RIGHT);
        // 12 % is drawn under a 20 % top: 60 % of the way up.
        let up = (bottom - drawn.treated[2].1) / (bottom - TOP);
        assert!((up - 0.6).abs() < 1e-9, "{up}");
        assert!(
            drawn.held_out[2].1 > drawn.treated[2].1,
            "held out drawn lower"
        );
        let labels: Vec<_> = drawn.y_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0 %", "10 %", "20 %"]);
        let days: Vec<_> = drawn.x_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(days, ["1 Dec", "2 Dec", "3 Dec"]);

        // One day is one point in the middle; nobody bought yet is drawn on the floor.
        let first = chart(&[day(8, 0.0, 0.0)]);
        assert_eq!(
            first.treated,
            [(LEFT + (WIDTH - LEFT - RIGHT) / 2.0, bottom)]
        );
        assert_eq!(first.y_ticks[2].1, "5 %");
        assert_eq!(points(&first.held_out), "296.0,192.0");
    }

    #[test]
    fn an_audience_reads_as_a_sentence() {
        let rule = AudienceRule {
            risk_bands: vec!["medium".into(), "high".into()],
            min_probability: Some(0.6),
            min_predicted_value_minor: Some(5000),
            min_days_since_last_order: Some(30),
            max_days_since_last_order: Some(365),
            ..AudienceRule::default()
        };
        assert_eq!(
            audience_summary(&rule, euro()),
            "High, medium risk; churn probability at least 60.0%; predicted spend next year at \
             least €50.00; last order 30–365 days ago; not those who said no to marketing"
        );
        let everyone = AudienceRule {
            exclude_opted_out: false,
            ..AudienceRule::default()
        };
        assert_eq!(audience_summary(&everyone, euro()), "Every risk band");
    }

    #[test]
    fn signs_are_written_out() {
        assert_eq!(signed(8.46, 1), "+8.5");
        assert_eq!(signed(-0.26, 1), "−0.3");
        assert_eq!(signed(-0.04, 1), "0.0");
        assert_eq!(signed_money(-40.4, euro()), "−€0.40");
        assert_eq!(signed_money(0.3, euro()), "€0.00");
    }
}
