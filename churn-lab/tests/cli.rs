//! The analyst's command line, run as a process: the CDNOW data end to end, and the errors and
//! exit codes a script sees when something is wrong.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use churn_lab::artifact::ModelArtifact;
use serde_json::Value;

mod common;

fn churn_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_churn-lab"))
        .args(args)
        .output()
        .expect("churn-lab runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn model_auc(metrics: &Value, name: &str) -> f64 {
    metrics["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == name)
        .unwrap_or_else(|| panic!("{name} in metrics.json"))["test"]["roc_auc"]
        .as_f64()
        .unwrap()
}

#[test]
fn cdnow_trains_end_to_end_beats_the_baselines_and_scores_every_customer() {
    let csv = common::cdnow_csv().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let trained = churn_lab(&[
        "train",
        "--transactions",
        csv,
        "--cutoff",
        "1997-10-01",
        "--window-days",
        "180",
        "--out",
        dir,
    ]);
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let printed = text(&trained.stdout);
    assert!(
        printed.contains("23570 customers before 1997-10-01"),
        "{printed}"
    );
    assert!(printed.contains("lifetime value: BG/NBD r "), "{printed}");

    let metrics: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).unwrap()).unwrap();
    let chosen = metrics["chosen"].as_str().unwrap();
    assert!(
        !["recency", "bg_nbd"].contains(&chosen),
        "a baseline was shipped"
    );
    let best = model_auc(&metrics, chosen);
    assert!(best > model_auc(&metrics, "recency"), "{best} vs recency");
    assert!(best > model_auc(&metrics, "bg_nbd"), "{best} vs BG/NBD");
    assert!(best > 0.74, "test ROC-AUC {best}");
    for kind in [
        "logistic",
        "linfa_random_forest",
        "linfa_adaboost",
        "adaboost",
        "random_forest",
        "gradient_boosting",
    ] {
        assert!(model_auc(&metrics, kind) > 0.7, "{kind}");
    }
    assert!(!metrics["search"].as_array().unwrap().is_empty());
    assert_eq!(
        metrics["permutation_importance"][0]["feature"]
            .as_str()
            .map(str::is_empty),
        Some(false)
    );

    // The report: one page with every chart inline, and each chart as SVG and PNG.
    let report = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(report.matches("<svg").count(), 8, "eight charts inline");
    for chart in [
        "roc",
        "pr",
        "calibration",
        "cumulative_gain",
        "feature_importance",
        "cohort_churn",
        "cohort_retention",
        "feature_distributions",
    ] {
        let png = std::fs::read(out.path().join(format!("charts/{chart}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{chart}.png is a PNG");
        assert!(png.len() > 5_000, "{chart}.png has content");
        assert!(report.contains("1997-01"), "cohorts are labelled by month");
    }
    std::fs::remove_file(out.path().join("report.html")).unwrap();
    let redrawn = churn_lab(&["report", "--model", dir, "--transactions", csv]);
    assert!(redrawn.status.success(), "{}", text(&redrawn.stderr));
    assert!(out.path().join("report.html").exists());
    let other = write(
        out.path(),
        "other.csv",
        "customer_id,ordered_at,amount\nc1,1997-01-01,5\n",
    );
    let refused = churn_lab(&["report", "--model", dir, "--transactions", &other]);
    assert_eq!(refused.status.code(), Some(65));
    assert!(text(&refused.stderr).contains("is not the file this model was trained on"));

    let artifact = ModelArtifact::load(out.path()).unwrap();
    assert_eq!(artifact.kind.name(), chosen);
    assert_eq!(artifact.training.customers, 23570);
    assert!(artifact.risk_bands.medium < artifact.risk_bands.high);
    let lifetime = artifact.lifetime.expect("CDNOW has repeat customers");
    assert_eq!(lifetime.customers, artifact.training.train_customers);

    let score_as_of = |as_of: &str, out: &Path| {
        churn_lab(&[
            "score",
            "--model",
            dir,
            "--transactions",
            csv,
            "--as-of",
            as_of,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let scores = out.path().join("scores.csv");
    let scored = score_as_of("1998-07-01", &scores);
    assert!(scored.status.success(), "{}", text(&scored.stderr));
    let body = std::fs::read_to_string(&scores).unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "customer_id,churn_probability,lifetime,expected_orders_365,expected_order_value,\
             value_365,order_chance_365,next_order_by"
        )
    );
    let fields: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let rows: Vec<(String, f64)> = fields
        .iter()
        .map(|f| (f[0].to_owned(), f[1].parse().unwrap()))
        .collect();
    assert_eq!(
        rows.len(),
        23570,
        "every customer with a purchase before as-of"
    );
    assert!(rows.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
    // Customer 00001 bought once, on 1997-01-01: by mid-1998 they look gone.
    let first = rows.iter().find(|(id, _)| id == "00001").unwrap().1;
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    assert!(first > mean, "{first} vs mean {mean}");
    // Lifetime value: a one-time buyer has too little history, a repeat customer a value.
    let lifetime_of = |id: &str| fields.iter().find(|f| f[0] == id).unwrap()[2..].to_vec();
    assert_eq!(
        lifetime_of("00001"),
        ["single_order_day", "", "", "", "", ""]
    );
    let predicted: Vec<&Vec<&str>> = fields.iter().filter(|f| f[2] == "predicted").collect();
    assert!(predicted.len() > 5000, "{} predicted", predicted.len());
    for f in &predicted {
        let value: f64 = f[5].parse().unwrap();
        let chance: f64 = f[6].parse().unwrap();
        assert!(value >= 0.0 && (0.0..=1.0).contains(&chance), "{f:?}");
        // A next order is due exactly when the chance of one within the year is even or
        // better (printed to four places).
        let due = !f[7].is_empty();
        assert!(if due { chance >= 0.5 } else { chance <= 0.5 }, "{f:?}");
    }
    assert!(
        fields
            .iter()
            .all(|f| ["predicted", "single_order_day", "new_customer"].contains(&f[2]))
    );
    assert!(
        text(&scored.stdout).contains("lifetime value of"),
        "{}",
        text(&scored.stdout)
    );

    // Before the first purchase there is no one to score: an error, not an empty file.
    let early = out.path().join("early.csv");
    let run = score_as_of("1990-01-01", &early);
    assert_eq!(run.status.code(), Some(65));
    assert!(
        text(&run.stderr).contains(
            "no transaction before --as-of 1990-01-01: the data runs from 1997-01-01 to 1998-06-30"
        ),
        "{}",
        text(&run.stderr)
    );
    assert!(!early.exists());
    // Long after the data ends: scored, with a warning; the output folder is made.
    let late = out.path().join("later/scores.csv");
    let run = score_as_of("1999-07-01", &late);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("the transactions end on 1998-06-30, 366 days before"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&late).unwrap().lines().count(),
        23571
    );
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn bad_input_gets_a_clear_message_and_a_script_friendly_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let train = |file: &str, cutoff: &str| {
        churn_lab(&[
            "train",
            "--transactions",
            file,
            "--cutoff",
            cutoff,
            "--window-days",
            "30",
            "--out",
            out,
        ])
    };

    let bad_amount = write(
        dir.path(),
        "a.csv",
        "customer_id,ordered_at,amount\nc1,2024-01-01,9.99\nc2,2024-01-02,12.50 EUR\n",
    );
    let run = train(&bad_amount, "2024-01-02");
    assert_eq!(run.status.code(), Some(65));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("line 3, column `amount`: not a decimal number"),
        "{stderr}"
    );

    let bad_date = write(
        dir.path(),
        "d.csv",
        "customer_id,ordered_at,amount\nc1,01/02/2024,9.99\n",
    );
    let run = train(&bad_date, "2024-01-02");
    assert_eq!(run.status.code(), Some(65));
    assert!(
        text(&run.stderr).contains("line 2, column `ordered_at`"),
        "{}",
        text(&run.stderr)
    );

    let missing_column = write(
        dir.path(),
        "m.csv",
        "customer_id,date,amount\nc1,2024-01-01,9.99\n",
    );
    let run = train(&missing_column, "2024-01-02");
    assert_eq!(run.status.code(), Some(65));
    assert!(
        text(&run.stderr).contains("missing column `ordered_at`"),
        "{}",
        text(&run.stderr)
    );

    let run = train(dir.path().join("nope.csv").to_str().unwrap(), "2024-01-02");
    assert_eq!(run.status.code(), Some(66));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("nope.csv"));
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );

    let short = write(
        dir.path(),
        "s.csv",
        "customer_id,ordered_at,amount\nc1,2024-01-01,9.99\nc2,2024-01-10,5\n",
    );
    let run = train(&short, "2024-01-05");
    assert_eq!(run.status.code(), Some(65));
    assert!(
        text(&run.stderr).contains("label window ends on 2024-02-03"),
        "{}",
        text(&run.stderr)
    );

    let run = churn_lab(&[
        "train",
        "--transactions",
        &short,
        "--cutoff",
        "5 Jan",
        "--window-days",
        "30",
        "--out",
        out,
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("not a date like 2024-01-31"));

    // Baselines alone leave nothing to choose: a usage error, before any data is read.
    let run = churn_lab(&[
        "train",
        "--transactions",
        &short,
        "--cutoff",
        "2024-01-05",
        "--window-days",
        "30",
        "--models",
        "recency,bg_nbd",
        "--out",
        out,
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("choose at least one model that is not a baseline"),
        "{}",
        text(&run.stderr)
    );

    let run = churn_lab(&[
        "score",
        "--model",
        dir.path().to_str().unwrap(),
        "--transactions",
        &short,
        "--as-of",
        "2024-02-01",
        "--out",
        out,
    ]);
    assert_eq!(run.status.code(), Some(66));
    assert!(text(&run.stderr).contains("model.json"));

    let help = churn_lab(&["--help"]);
    assert!(help.status.success());
    for word in ["train", "score", "Exit codes"] {
        assert!(text(&help.stdout).contains(word));
    }
}

#[test]
fn deploy_says_what_is_missing_and_when_the_api_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let run = churn_lab(&[
        "deploy",
        "--model",
        dir.path().to_str().unwrap(),
        "--token",
        "t",
    ]);
    assert_eq!(
        run.status.code(),
        Some(66),
        "no model.json: {}",
        text(&run.stderr)
    );

    // A real artifact, trained quickly on a synthetic shop.
    let csv = write(dir.path(), "t.csv", &synthetic_csv());
    let out = dir.path().join("model");
    let trained = churn_lab(&[
        "train",
        "--transactions",
        &csv,
        "--cutoff",
        "2023-12-01",
        "--window-days",
        "90",
        "--out",
        out.to_str().unwrap(),
        "--models",
        "recency,gradient_boosting",
        "--no-search",
    ]);
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let model = out.to_str().unwrap();

    let run = Command::new(env!("CARGO_BIN_EXE_churn-lab"))
        .args(["deploy", "--model", model])
        .env_remove("NEXUS_API_TOKEN")
        .env_remove("NEXUS_STAFF_EMAIL")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(77));
    assert!(
        text(&run.stderr).contains("--token"),
        "{}",
        text(&run.stderr)
    );

    // Nothing listens on port 9 of loopback.
    let run = churn_lab(&[
        "deploy",
        "--model",
        model,
        "--token",
        "t",
        "--api",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(run.status.code(), Some(69), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("cannot reach the API at http://127.0.0.1:9"));
}

fn synthetic_csv() -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let mut csv = String::from("customer_id,ordered_at,amount,quantity\n");
    for t in churn_lab::synthetic::transactions(600, start, 500, 3) {
        if t.kind == churn_lab::transactions::TransactionKind::Purchase {
            csv.push_str(&format!(
                "{},{},{},{}\n",
                t.customer_id,
                t.ordered_at.format("%Y-%m-%dT%H:%M:%S"),
                t.amount,
                t.quantity
            ));
        }
    }
    csv
}

#[test]
fn explore_and_sql_answer_in_terminal_tables() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "t.csv", &synthetic_csv());
    let run = churn_lab(&[
        "explore",
        "--transactions",
        &csv,
        "--cutoff",
        "2023-12-01",
        "--window-days",
        "90",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let shown = text(&run.stdout);
    for heading in [
        "Overview",
        "Purchases by month",
        "Churn at 2023-12-01",
        "Churn by first-purchase month",
        "2023-01",
    ] {
        assert!(shown.contains(heading), "{heading} in {shown}");
    }

    let answer = dir.path().join("answer.csv");
    let run = churn_lab(&[
        "sql",
        "--transactions",
        &csv,
        "--out",
        answer.to_str().unwrap(),
        "SELECT customer_id, COUNT(*) AS orders FROM transactions GROUP BY customer_id ORDER BY orders DESC, customer_id LIMIT 3",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let written = std::fs::read_to_string(&answer).unwrap();
    assert_eq!(written.lines().count(), 4, "{written}");
    assert!(written.starts_with("customer_id,orders"));

    let run = churn_lab(&[
        "sql",
        "--transactions",
        &csv,
        "SELECT nope FROM transactions",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("nope"));
}

#[test]
fn snapshot_says_when_the_shop_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback.
    let run = churn_lab(&[
        "snapshot",
        "--database-url",
        "postgres://reader:secret@127.0.0.1:9/nexus",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(69), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("127.0.0.1:9/nexus"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "credentials never printed: {stderr}"
    );
}
