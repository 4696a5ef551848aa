//! Churn: train on the shop's current data with progress (and cancel), compare the models,
//! deploy and activate the chosen one, see the model history, roll back, score everyone, and
//! the whole-shop scoring runs (staff's and the schedule's) with the schedule.

use chrono::{DateTime, Utc};
use console_protocol::churn::{TrainedRunView, TrainingOptions, TrainingStep};
use console_protocol::{
    ActivateModel, CancelTraining, DeployLastRun, GetLastRun, GetScoreJob, ListModels,
    ListScoringRuns, RollBackModel, ScoreAll, TRAINING_PROGRESS, Train,
};
use leptos::prelude::*;
use serde_json::Value;
use storefront_client::staff::campaigns::{ScoringRun, ScoringRunList};
use storefront_client::staff::churn::{JobEnvelope, RegisteredModel};

use crate::app::Frame;
use crate::format;
use crate::invoke::{CommandError, call, listen};
use crate::screens::{Confirmed, Problem, failed};

/// A change to the model registry; each answers with the model it concerns.
#[derive(Debug, Clone)]
enum RegistryChange {
    Deploy { activate: bool },
    Activate(String),
    RollBack,
}

async fn change_registry(change: RegistryChange) -> Result<RegisteredModel, CommandError> {
    match change {
        RegistryChange::Deploy { activate } => call(DeployLastRun { activate }).await,
        RegistryChange::Activate(version) => call(ActivateModel { version }).await,
        RegistryChange::RollBack => call(RollBackModel {}).await,
    }
}

#[component]
pub fn ChurnScreen() -> impl IntoView {
    let frame = expect_context::<Frame>();
    let window_days = RwSignal::new("90".to_owned());
    let search = RwSignal::new(false);
    let training = RwSignal::new(false);
    let step = RwSignal::new(None::<TrainingStep>);
    let run = RwSignal::new(None::<TrainedRunView>);
    let error = RwSignal::new(None::<CommandError>);
    let notice = RwSignal::new(String::new());
    let models = LocalResource::new(|| call(ListModels {}));
    let runs = LocalResource::new(|| call(ListScoringRuns {}));
    listen(TRAINING_PROGRESS, move |s: TrainingStep| step.set(Some(s)));
    leptos::task::spawn_local(async move {
        if let Ok(Some(last)) = call(GetLastRun {}).await {
            run.set(Some(last));
        }
    });
    let train = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(days) = window_days.get_untracked().trim().parse::<u32>() else {
            error.set(Some(CommandError::invalid(
                "Churn window: write a number of days, e.g. 90.",
            )));
            return;
        };
        training.set(true);
        error.set(None);
        notice.set(String::new());
        let options = TrainingOptions {
            window_days: days,
            search: search.get_untracked(),
            ..TrainingOptions::default()
        };
        leptos::task::spawn_local(async move {
            match call(Train { options }).await {
                Ok(result) => run.set(Some(result)),
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
            training.set(false);
            step.set(None);
        });
    };
    let cancel = move |_| {
        leptos::task::spawn_local(async move {
            let _ = call(CancelTraining {}).await;
        });
    };
    // Runs a registry command, then shows the registry again.
    let registry = move |change: RegistryChange, done: String| {
        error.set(None);
        notice.set(String::new());
        leptos::task::spawn_local(async move {
            match change_registry(change).await {
                Ok(model) => notice.set(format!("{done} {}", model.version)),
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
            models.refetch();
        });
    };
    let job = RwSignal::new(None::<JobEnvelope>);
    let score_all = move || {
        error.set(None);
        leptos::task::spawn_local(async move {
            match call(ScoreAll {}).await {
                Ok(started) => {
                    let id = started.job.id;
                    job.set(Some(started));
                    // Follow the job until it ends; the window stays usable meanwhile.
                    loop {
                        gloo_sleep(500).await;
                        match call(GetScoreJob { id }).await {
                            Ok(now) => {
                                let running = now.job.status == "running";
                                job.set(Some(now));
                                if !running {
                                    break;
                                }
                            }
                            Err(e) => {
                                error.set(Some(e));
                                break;
                            }
                        }
                    }
                    // The job is a scoring run, recorded with how it ended.
                    runs.refetch();
                }
                Err(e) => {
                    frame.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <h1>"Churn"</h1>
        <form class="row" on:submit=train>
            <label for="window-days">"Churned after (days without an order)"</label>
            <input id="window-days" size="4" prop:value=window_days on:input=move |ev| window_days.set(event_target_value(&ev))/>
            <input id="search" type="checkbox" prop:checked=search on:change=move |ev| search.set(event_target_checked(&ev))/>
            <label for="search">"Search hyperparameters (slower)"</label>
            <button id="train" type="submit" disabled=training>"Train on the shop's data"</button>
            {move || training.get().then(|| view! { <button id="cancel-training" type="button" class="secondary" on:click=cancel>"Cancel"</button> })}
        </form>
        {move || step.get().map(|s| view! {
            <div id="training-progress">
                <progress max=s.steps.max(1) value=s.done></progress>
                <p class="muted">{format!("{} {}/{} {}", s.task, s.done, s.steps, s.message)}</p>
            </div>
        })}
        <Problem error/>
        <p class="notice" role="status" id="churn-notice">{move || notice.get()}</p>
        {move || run.get().map(|run| view! { <RunResults run registry/> })}
        <h2>"Model history"</h2>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match models.await {
                    Ok(list) => view! {
                        <p>"Active: " <strong id="active-model">{list.meta.active.clone().unwrap_or_else(|| "none".into())}</strong></p>
                        <table id="models">
                            <thead><tr><th>"Version"</th><th>"Kind"</th><th>"Test ROC-AUC"</th><th>"Uploaded"</th><th></th></tr></thead>
                            <tbody>
                                {list.models.into_iter().map(|m| {
                                    let version = m.version.clone();
                                    let auc = m.metrics.pointer("/test/roc_auc").and_then(Value::as_f64);
                                    view! {
                                        <tr>
                                            <td><code>{m.version.clone()}</code></td>
                                            <td>{m.kind.clone()}</td>
                                            <td>{auc.map(|a| format!("{a:.3}"))}</td>
                                            <td>{format::when(&m.uploaded_at)}</td>
                                            <td>{if m.active {
                                                view! { <strong>"active"</strong> }.into_any()
                                            } else {
                                                view! {
                                                    <Confirmed id="activate" label="Activate" question=format!("Score with {version} from now on?")
                                                        action=move || registry(RegistryChange::Activate(version.clone()), "Active now:".into())/>
                                                }.into_any()
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
        <div class="row">
            <Confirmed id="roll-back" label="Roll back" question="Return to the model active before the latest activation?".into()
                action=move || registry(RegistryChange::RollBack, "Rolled back to".into())/>
            <Confirmed id="score-all" label="Score every customer" question="Score every customer with the active model now?".into()
                action=score_all/>
        </div>
        {move || job.get().map(|j| view! {
            <div id="score-job">
                <progress max=j.job.total.max(1) value=j.job.done></progress>
                <p class="muted">{format!("Scoring with {}: {} of {} — {}", j.job.model_version, j.job.done, j.job.total, j.job.status)}</p>
            </div>
        })}
        <h2>"Scoring runs"</h2>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match runs.await {
                    Ok(list) => view! { <ScoringRuns list/> }.into_any(),
                    Err(e) => failed(frame, e),
                }
            })}
        </Transition>
    }
}

/// The latest scoring run in a sentence, the schedule, and the recent runs.
#[component]
fn ScoringRuns(list: ScoringRunList) -> impl IntoView {
    view! {
        <p id="last-scoring-run">{last_run(list.runs.first())}</p>
        <p id="scoring-schedule" class="muted">{schedule(&list, format::now())}</p>
        {(!list.runs.is_empty()).then(|| view! {
            <table id="scoring-runs">
                <thead><tr><th>"Started"</th><th>"By"</th><th>"Model"</th><th>"Outcome"</th><th>"Customers scored"</th><th>"Enrolled in campaigns"</th></tr></thead>
                <tbody>
                    {list.runs.iter().map(|run| view! {
                        <tr data-run=run.id.to_string()>
                            <td>{format::when(&run.started_at)}</td>
                            <td>{run.trigger.clone()}</td>
                            <td><code>{run.model_version.clone()}</code></td>
                            <td class="run-outcome">{outcome(run)}</td>
                            <td class="run-customers">{run.customers.map(|n| n.to_string())}</td>
                            <td class="run-enrolled">{run.enrolled.map(|n| n.to_string())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

/// `finished`, `running`, or `failed: <why>`.
fn outcome(run: &ScoringRun) -> String {
    match &run.error {
        Some(error) if run.status == "failed" => format!("failed: {error}"),
        _ => run.status.clone(),
    }
}

/// `Last scoring run: 6 Dec 2026 21:14, finished, 187 customers`.
fn last_run(run: Option<&ScoringRun>) -> String {
    let Some(run) = run else {
        return "No scoring run yet.".to_owned();
    };
    let customers = match run.customers {
        Some(1) => ", 1 customer".to_owned(),
        Some(n) => format!(", {n} customers"),
        None => String::new(),
    };
    format!(
        "Last scoring run: {}, {}{customers}",
        format::when(&run.started_at),
        outcome(run)
    )
}

/// When every customer is scored again by the schedule, as the API says.
fn schedule(list: &ScoringRunList, now: DateTime<Utc>) -> String {
    let schedule = list.schedule;
    if !schedule.enabled {
        return "Scheduled scoring is off.".to_owned();
    }
    let due = match schedule.next_due_at {
        None => "once a churn model is active".to_owned(),
        Some(due) if due > now => format::when(&due),
        Some(_) => "now".to_owned(),
    };
    format!(
        "Re-scored every {} h; next run due {due}.",
        schedule.every_hours
    )
}

#[component]
fn RunResults(
    run: TrainedRunView,
    registry: impl Fn(RegistryChange, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let s = run.summary;
    let chosen = s["chosen"].as_str().unwrap_or_default().to_owned();
    let models = s["models"].as_array().cloned().unwrap_or_default();
    let number = |v: &Value, path: &str| {
        v.pointer(path)
            .and_then(Value::as_f64)
            .map(|x| format!("{x:.3}"))
            .unwrap_or_default()
    };
    view! {
        <h2>"Last training run"</h2>
        <p>{format!(
            "{} customers before {}; {} churned in the next {} days.",
            s.pointer("/data/customers").and_then(Value::as_u64).unwrap_or(0),
            s.pointer("/data/cutoff").and_then(Value::as_str).unwrap_or(""),
            s.pointer("/data/churn_rate").and_then(Value::as_f64).map(format::percent).unwrap_or_default(),
            s.pointer("/data/window_days").and_then(Value::as_u64).unwrap_or(0),
        )}</p>
        <table id="run-models">
            <thead><tr><th>"Model"</th><th>"Validation ROC-AUC"</th><th>"Test ROC-AUC"</th><th>"PR-AUC"</th><th>"Brier"</th><th>"Lift @10%"</th><th>"Fit (s)"</th></tr></thead>
            <tbody>
                {models.iter().map(|m| {
                    let name = m["model"].as_str().unwrap_or_default().to_owned();
                    let marker = if name == chosen { " (chosen)" } else if m["baseline"].as_bool() == Some(true) { " (baseline)" } else { "" };
                    view! {
                        <tr>
                            <td>{format!("{name}{marker}")}</td>
                            <td>{number(m, "/validation/roc_auc")}</td>
                            <td>{number(m, "/test/roc_auc")}</td>
                            <td>{number(m, "/test/pr_auc")}</td>
                            <td>{number(m, "/test/brier")}</td>
                            <td>{number(m, "/test/lift_top_10")}</td>
                            <td>{number(m, "/fit_seconds")}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="row">
            <Confirmed id="deploy" label="Deploy and activate" question=format!("Upload {chosen} and score with it from now on?")
                action=move || registry(RegistryChange::Deploy { activate: true }, "Deployed and active:".into())/>
            <Confirmed id="deploy-only" label="Deploy only" question="Upload without activating?".into()
                action=move || registry(RegistryChange::Deploy { activate: false }, "Uploaded:".into())/>
        </div>
        <h3>"Charts"</h3>
        <div id="run-charts" class="charts">
            {run.charts.into_iter().map(|chart| view! {
                <figure data-chart=chart.name>
                    <figcaption>{chart.title.clone()}</figcaption>
                    <img alt=chart.title src=svg_image(&chart.svg)/>
                </figure>
            }).collect_view()}
        </div>
        <p class="muted">"The whole report, with the confusion matrix and the search: " <code>{run.report.display().to_string()}</code></p>
    }
}

/// A `data:` address for an SVG drawing: shown as an image, so nothing in it runs.
fn svg_image(svg: &str) -> String {
    format!(
        "data:image/svg+xml;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(svg))
    )
}

/// Waits `ms` milliseconds without blocking the window.
async fn gloo_sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use storefront_client::lists::CountMeta;
    use storefront_client::staff::campaigns::ScoringSchedule;
    use uuid::Uuid;

    use super::*;

    fn run(status: &str, customers: Option<i32>, error: Option<&str>) -> ScoringRun {
        ScoringRun {
            id: Uuid::nil(),
            trigger: "staff".into(),
            model_version: "logistic-20261206".into(),
            status: status.into(),
            customers,
            enrolled: customers.map(|_| 0),
            error: error.map(str::to_owned),
            started_at: Utc.with_ymd_and_hms(2026, 12, 6, 21, 14, 0).unwrap(),
            finished_at: None,
        }
    }

    fn runs(enabled: bool, next_due_at: Option<DateTime<Utc>>) -> ScoringRunList {
        let runs = vec![run("finished", Some(187), None)];
        ScoringRunList {
            meta: CountMeta::of(&runs),
            runs,
            schedule: ScoringSchedule {
                enabled,
                every_hours: 24,
                next_due_at,
            },
        }
    }

    #[test]
    fn the_last_run_reads_as_a_sentence() {
        assert_eq!(
            last_run(Some(&run("finished", Some(187), None))),
            "Last scoring run: 6 Dec 2026 21:14, finished, 187 customers"
        );
        assert_eq!(
            last_run(Some(&run("finished", Some(1), None))),
            "Last scoring run: 6 Dec 2026 21:14, finished, 1 customer"
        );
        assert_eq!(
            last_run(Some(&run("running", None, None))),
            "Last scoring run: 6 Dec 2026 21:14, running"
        );
        assert_eq!(
            last_run(Some(&run("failed", None, Some("MongoDB is down")))),
            "Last scoring run: 6 Dec 2026 21:14, failed: MongoDB is down"
        );
        assert_eq!(last_run(None), "No scoring run yet.");
    }

    #[test]
    fn the_schedule_says_when_the_api_will_run_it_next() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 22, 14, 0).unwrap();
        let due = Utc.with_ymd_and_hms(2026, 12, 7, 21, 14, 0).unwrap();
        assert_eq!(
            schedule(&runs(true, Some(due)), now),
            "Re-scored every 24 h; next run due 7 Dec 2026 21:14."
        );
        // Due already: the next check starts it.
        assert_eq!(
            schedule(&runs(true, Some(due)), due + Duration::minutes(1)),
            "Re-scored every 24 h; next run due now."
        );
        assert_eq!(
            schedule(&runs(true, None), now),
            "Re-scored every 24 h; next run due once a churn model is active."
        );
        assert_eq!(
            schedule(&runs(false, None), now),
            "Scheduled scoring is off."
        );
    }
}
