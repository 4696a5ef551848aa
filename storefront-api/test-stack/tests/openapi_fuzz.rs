//! Property-based fuzzing of every operation in the API's OpenAPI document with schemathesis
//! (from PyPI; `cargo xtask test` installs it and sets `NEXUS_SCHEMATHESIS`), once with the
//! demo staff account's token (it archives products and moves orders, in a database of its
//! own), once with a customer's, and once with the demo admin's (webhooks, staff). Each run
//! is bounded in time and seeded. It fails
//! on any 5xx, and on any answer that breaks the document: an undeclared status code, a body
//! that does not match its schema, a wrong content type.
//!
//! The JSON reports land in `target/schemathesis/`; the counts are printed for the notes.

use std::path::{Path, PathBuf};
use std::process::Command;

use api_test_stack::{
    ApiStack, admin_token, checkout_dir, customer_token, env_or, required, staff_token,
};
use serde_json::Value;

/// Seconds each run may fuzz; `NEXUS_FUZZ_SECONDS` overrides it (a longer local hunt).
const DEFAULT_SECONDS: &str = "150";

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_survives_fuzzing_with_staff_customer_and_admin_tokens() {
    let schemathesis = required("NEXUS_SCHEMATHESIS");
    let api = ApiStack::start(20).await;
    let reports = checkout_dir().join("target/schemathesis");
    std::fs::create_dir_all(&reports).unwrap();

    // Every token is taken before any run: the runs' random logins soon exhaust the
    // failed-login allowance of this client address. The admin runs last: only it reaches
    // the webhook and staff operations (`integrations`, `staff_management`), and what it may
    // change cannot disturb the runs before it.
    let staff = staff_token(&api.url).await;
    let customer = customer_token(&api.url, "fuzzed.customer@nexus.test").await;
    let admin = admin_token(&api.url).await;
    let mut problems = Vec::new();
    for (who, token) in [
        ("staff", &staff),
        ("customer", &customer),
        ("admin", &admin),
    ] {
        let report = reports.join(format!("{who}.json"));
        let _ = std::fs::remove_file(&report);
        let run = fuzz(&schemathesis, &api.url, token, &report);
        let summary = summarise(&report);
        println!(
            "schemathesis with the {who} token: {summary}; the token works afterwards: {}",
            still_works(&api.url, token).await
        );
        if !run.status.success() {
            problems.push(format!(
                "--- with the {who} token ({summary}):\n{}\n{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn fuzz(schemathesis: &str, api_url: &str, token: &str, report: &Path) -> std::process::Output {
    let seconds = env_or("NEXUS_FUZZ_SECONDS", DEFAULT_SECONDS);
    Command::new(schemathesis)
        .arg("run")
        .arg(format!("{api_url}/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Ending its own session would leave the rest of the run unauthenticated.
        .args(["--exclude-path-regex", "/auth/logout"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-time", &seconds])
        .args(["--seed", "20261206"])
        // One worker: with two, CPython 3.11's AST validator (hypothesis parses a lambda's
        // source to name it) now and then fails with "AST constructor recursion depth
        // mismatch" when both threads parse at once (python/cpython#106905) — an error of the
        // tool, not of the API, that failed the run all the same.
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .args(["--report", "json"])
        .arg("--report-json-path")
        .arg(report)
        .env("NO_COLOR", "1")
        // Its own cache (`.schemathesis/`) goes beside the reports, not into the crate.
        .current_dir(report.parent().expect("reports live in a directory"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {schemathesis}: {e}"))
}

/// Operations tested, cases generated and failures, from schemathesis's JSON report.
/// Whether `token` still opens `GET /api/v1/me` (what a run did to its own session).
async fn still_works(api_url: &str, token: &str) -> bool {
    reqwest::Client::new()
        .get(format!("{api_url}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

fn summarise(report: &PathBuf) -> String {
    let Ok(text) = std::fs::read_to_string(report) else {
        return "no report written".to_owned();
    };
    let report: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let failures: Vec<String> = report["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|failure| format!("{} {}", failure["code"], failure["title"]))
        .collect();
    format!(
        "{} of {} operations tested, {} cases generated, {} with failures {failures:?}, \
         {:.0} s (stopped: {})",
        report["operations"]["tested"],
        report["operations"]["total"],
        report["test_cases"]["generated"],
        report["test_cases"]["with_failures"],
        report["running_time"].as_f64().unwrap_or_default(),
        report["stop_reason"],
    )
}
