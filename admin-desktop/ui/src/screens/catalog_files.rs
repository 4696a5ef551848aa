//! The catalog as CSV files: check a file (what importing it would do, and every problem by
//! line and column), import it whole, export the catalog.

use console_protocol::catalog::{ExportedFile, import_summary};
use console_protocol::{CheckCatalogFile, ExportCatalogFile, ImportCatalogFile};
use leptos::prelude::*;
use storefront_client::staff::catalog_import::ImportReport;

use crate::app::Frame;
use crate::screens::{Confirmed, Problem};

/// The import and export pane; `imported` runs after an import changed the catalog.
#[component]
pub fn CatalogFiles(imported: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let frame = expect_context::<Frame>();
    let path = RwSignal::new(String::new());
    let error = RwSignal::new(None);
    let report = RwSignal::new(None::<ImportReport>);
    // The file the last check found importable; a changed path must be checked again.
    let checked = RwSignal::new(None::<String>);
    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        report.set(None);
        checked.set(None);
        let file = path.get_untracked();
        frame.run(CheckCatalogFile { path: file.clone() }, error, move |r| {
            if r.problems.is_empty() {
                checked.set(Some(file));
            }
            report.set(Some(r));
        });
    };
    let import = move || {
        let imported = imported.clone();
        frame.run(
            ImportCatalogFile {
                path: path.get_untracked(),
            },
            error,
            move |r| {
                checked.set(None);
                report.set(Some(r));
                imported();
            },
        );
    };
    let export_path = RwSignal::new("~/nexus-catalog.csv".to_owned());
    let export_error = RwSignal::new(None);
    let exported = RwSignal::new(None::<ExportedFile>);
    let export = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        exported.set(None);
        frame.run(
            ExportCatalogFile {
                path: export_path.get_untracked(),
            },
            export_error,
            move |file| exported.set(Some(file)),
        );
    };
    view! {
        <h2>"Import from CSV"</h2>
        <p class="muted">"One row per variant; slugs and SKUs name what to change, a column left out stays as it is. A stock cell sets stock on hand — leave the column out unless you mean to. Check a file first: nothing is imported while it has a problem."</p>
        <form class="row" id="catalog-check-form" on:submit=check>
            <label for="catalog-file">"File"</label>
            <input id="catalog-file" size="40" placeholder="~/catalog.csv" prop:value=path
                on:input=move |ev| { path.set(event_target_value(&ev)); checked.set(None); }/>
            <button id="catalog-check" type="submit">"Check"</button>
        </form>
        <Problem error/>
        {move || report.get().map(|r| view! {
            <p id="import-summary" role="status">{import_summary(&r)}</p>
            {(!r.problems.is_empty()).then(|| view! {
                <table id="import-problems">
                    <thead><tr><th>"Line"</th><th>"Column"</th><th>"Problem"</th></tr></thead>
                    <tbody>
                        {r.problems.into_iter().map(|p| view! {
                            <tr><td>{p.line}</td><td><code>{p.column}</code></td><td>{p.message}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        })}
        {move || checked.get().is_some().then(|| view! {
            <div class="row">
                <Confirmed id="catalog-import" label="Import" question="Import this file into the catalog now?".into()
                    action=import.clone()/>
            </div>
        })}
        <h2>"Export to CSV"</h2>
        <form class="row" on:submit=export>
            <label for="export-path">"Save as"</label>
            <input id="export-path" size="40" prop:value=export_path
                on:input=move |ev| export_path.set(event_target_value(&ev))/>
            <button id="catalog-export" type="submit">"Export"</button>
        </form>
        <Problem error=export_error/>
        {move || exported.get().map(|file| view! {
            <p id="export-notice" role="status">{format!("Exported {} rows to {}.", file.rows, file.path)}</p>
        })}
    }
}
