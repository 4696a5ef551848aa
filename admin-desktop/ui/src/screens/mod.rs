pub mod campaigns;
pub mod catalog;
pub mod catalog_files;
pub mod churn;
pub mod customers;
pub mod dashboard;
pub mod login;
pub mod orders;
pub mod promotions;
pub mod segments;
pub mod webhooks;

use leptos::prelude::*;

use crate::invoke::CommandError;

/// A command's refusal, where the action was, with each field the API named.
#[component]
pub fn Problem(error: RwSignal<Option<CommandError>>) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            {move || error.get().map(|e| {
                // The console's own checks name one field, already in the message.
                let fields = if e.kind == console_protocol::ErrorKind::Refused { e.fields } else { Vec::new() };
                view! {
                    <p>{e.message}</p>
                    {(!fields.is_empty()).then(|| view! {
                        <ul>{fields.into_iter().map(|f| view! {
                            <li>{format!("{}: {}", f.field.replace('_', " "), f.message)}</li>
                        }).collect_view()}</ul>
                    })}
                }
            })}
        </div>
    }
}

/// A button that asks "are you sure?" in place before it acts. Its buttons never submit a
/// form they sit in: the question comes first.
#[component]
pub fn Confirmed(
    #[prop(into)] id: String,
    label: &'static str,
    question: String,
    #[prop(optional)] danger: bool,
    action: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    view! {
        {move || if asking.get() {
            let action = action.clone();
            let id = id.clone();
            view! {
                <span class="confirm" role="group" aria-label="Confirm">
                    {question.clone()} " "
                    <button type="button" id=format!("{id}-yes") class:danger=danger on:click=move |_| { asking.set(false); action(); }>"Yes"</button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| asking.set(false)>"No"</button>
                </span>
            }.into_any()
        } else {
            view! { <button type="button" id=id.clone() class:danger=danger on:click=move |_| asking.set(true)>{label}</button> }.into_any()
        }}
    }
}

/// Previous / next over numbered pages.
#[component]
pub fn Pager(page: RwSignal<i64>, pages: i64) -> impl IntoView {
    view! {
        <div class="row">
            // Comparisons sit in braces: a bare `>` would end the tag.
            <button class="secondary page-previous" disabled=move || { page.get() <= 1 } on:click=move |_| page.update(|p| *p -= 1)>"← Previous"</button>
            <span class="page-number">{move || format!("Page {} of {}", page.get(), pages.max(1))}</span>
            <button class="secondary page-next" disabled=move || { page.get() >= pages } on:click=move |_| page.update(|p| *p += 1)>"Next →"</button>
        </div>
    }
}

/// A screen's data could not be loaded: say why (and go back to login if the session ended).
pub fn failed(frame: crate::app::Frame, error: CommandError) -> AnyView {
    frame.check(&error);
    view! { <p class="error" role="alert">{error.message}</p> }.into_any()
}

/// How many pages `total` items fill at `limit` per page.
pub fn page_count(total: i64, limit: i64) -> i64 {
    (total + limit - 1) / limit.max(1)
}
