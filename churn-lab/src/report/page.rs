//! The report's HTML page: the summary, the charts inline, no scripts, no network.

use std::fmt::Write as _;

use super::*;

pub(super) fn page(data: &ReportData, sections: &[(ReportChart, String)]) -> String {
    let s = &data.summary;
    let d = &s.data;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Churn report — {chosen}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}}\
         table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}tr.chosen{{background:#eaf4ea;font-weight:600}}\
         figure{{margin:1.5rem 0}}figcaption{{font-weight:600;margin-bottom:.4rem}}.note{{color:#555}}</style></head><body>\
         <h1>Churn report</h1>\
         <p>Model <strong>{version}</strong> chosen on validation ROC-AUC.</p>\
         <p class=\"note\">Data: {source} ({rows} rows, {customers_all} customers, sha256 {sha}). \
         Cut-off {cutoff}; churned = no purchase in the {window} days from it. {customers} customers known before the cut-off, \
         churn rate {rate:.1}%; split {train}/{val}/{test} (train/validation/test, stratified, seed {seed}).</p>",
        chosen = s.chosen,
        version = escape(&s.chosen_version),
        source = escape(&d.transactions.source),
        rows = d.transactions.rows,
        customers_all = d.transactions.customers,
        sha = d.transactions.sha256.as_deref().unwrap_or("-"),
        cutoff = d.cutoff,
        window = d.window_days,
        customers = d.customers,
        rate = 100.0 * d.churn_rate,
        train = d.train_customers,
        val = d.validation_customers,
        test = d.test_customers,
        seed = d.seed,
    );
    html.push_str(
        "<h2>Models</h2><table><tr><th>model</th><th>validation ROC-AUC</th><th>test ROC-AUC</th>\
         <th>PR-AUC</th><th>Brier</th><th>log-loss</th><th>lift top 10%</th><th>lift top 20%</th><th>fit (s)</th></tr>",
    );
    for m in &s.models {
        let class = if m.model == s.chosen {
            " class=\"chosen\""
        } else {
            ""
        };
        let note = if m.baseline { " (baseline)" } else { "" };
        let _ = write!(
            html,
            "<tr{class}><td>{}{note}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            m.model,
            m.validation.roc_auc,
            m.test.roc_auc,
            m.test.pr_auc,
            m.test.brier,
            m.test.log_loss,
            m.test.lift_top_10,
            m.test.lift_top_20,
            m.fit_seconds
        );
    }
    html.push_str("</table><p class=\"note\">All but the validation column are measured on test customers no model or calibration saw.</p>");
    if let Some(chosen) = s.models.iter().find(|m| m.model == s.chosen) {
        let c = chosen.test.confusion;
        let _ = write!(
            html,
            "<h2>At the chosen threshold ({t:.3}, best F1 on validation)</h2><table>\
             <tr><th></th><th>predicted churn</th><th>predicted stay</th></tr>\
             <tr><td>churned</td><td>{tp}</td><td>{fn_}</td></tr><tr><td>stayed</td><td>{fp}</td><td>{tn}</td></tr></table>\
             <p>Precision {p:.1}% · recall {r:.1}% on test. Risk bands: medium from {m:.3}, high from {h:.3} \
             (the top 50% and 20% of validation customers).</p>",
            t = s.threshold,
            tp = c.true_positive,
            fn_ = c.false_negative,
            fp = c.false_positive,
            tn = c.true_negative,
            p = 100.0 * c.precision(),
            r = 100.0 * c.recall(),
            m = s.risk_bands.medium,
            h = s.risk_bands.high,
        );
    }
    html.push_str("<h2>Charts</h2>");
    for (chart, svg) in sections {
        let _ = write!(
            html,
            "<figure><figcaption>{}</figcaption>{svg}</figure>",
            escape(chart.title)
        );
    }
    if !s.search.is_empty() {
        html.push_str("<h2>Hyperparameter search (3-fold CV on the training customers)</h2><table><tr><th>model</th><th>mean ROC-AUC</th><th>parameters</th></tr>");
        for t in &s.search {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{:.4}</td><td style=\"text-align:left\">{}</td></tr>",
                t.model,
                t.cv_roc_auc,
                escape(&t.params.to_string())
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>\n");
    html
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
