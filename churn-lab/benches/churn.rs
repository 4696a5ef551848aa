//! churn-lab benchmarks: `cargo bench -p churn-lab` (release). Prints markdown tables for
//! BENCHMARKS.md and writes the CDNOW feature split to `target/churn-bench/` so that
//! `churn-lab/bench/compare.py` fits scikit-learn, LightGBM and lifetimes on exactly the same
//! customers.
//!
//! - feature build time from synthetic shops of ~1M and ~10M orders (`CHURN_BENCH_SIZES`
//!   overrides, e.g. `1000000`);
//! - fit time and test ROC-AUC of every model on CDNOW (`CHURN_BENCH_CDNOW=path/to/cdnow.csv`,
//!   the file the README's one-liner makes), else on a synthetic shop;
//! - scoring throughput in customers per second, in-process (features + model).
//!
//! Narrower runs while working on one part: `CHURN_BENCH_ONLY=features,fit,scoring` picks the
//! parts, `CHURN_BENCH_MODELS=gradient_boosting,logistic` the models, and
//! `CHURN_BENCH_REPEAT=N` (default 3) how many fits each time is the median of, and
//! `CHURN_BENCH_SEED=N` (default 42) the models' seed, to see how much AUC is the seed's.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use churn_lab::dataset::{FeatureMatrix, LabelledCustomers, stratified_split};
use churn_lab::features::feature_names;
use churn_lab::metrics::roc_auc;
use churn_lab::models::{self, CalibratedModel, Hyperparameters, ModelKind};
use churn_lab::scoring;
use churn_lab::synthetic;
use churn_lab::training::{Silent, TrainingConfig, train};
use churn_lab::transactions::Transactions;

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/churn-bench");
    std::fs::create_dir_all(&out).expect("bench output directory");
    println!(
        "churn-lab benchmarks · {} threads\n",
        rayon::current_num_threads()
    );
    let only = std::env::var("CHURN_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    if wanted("features") {
        feature_build();
    }
    if wanted("fit") {
        fit_times(&out);
    }
    if wanted("scoring") {
        scoring_throughput();
    }
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 1, 1).unwrap()
}

fn feature_build() {
    let sizes: Vec<usize> = std::env::var("CHURN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    println!("## Feature build (synthetic orders, all features but engagement)\n");
    println!("| orders | customers | build frame (s) | features (s) | orders/s (features) |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for orders in sizes {
        // The generator makes ~4.72 rows a customer (measured: 773,540 from 163,229).
        let customers = orders * 100 / 472;
        let records = synthetic::transactions(customers, start(), 730, 1);
        let t = Instant::now();
        let transactions = Transactions::from_records(&records);
        drop(records);
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let features = FeatureMatrix::compute(
            &transactions,
            None,
            start() + Duration::days(700),
            &feature_names(false),
        )
        .expect("features");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| {} | {} | {build:.2} | {secs:.2} | {:.0} |",
            transactions.len(),
            features.len(),
            transactions.len() as f64 / secs
        );
    }
    println!();
}

fn cdnow() -> Option<(Transactions, NaiveDate, u32)> {
    let path = PathBuf::from(std::env::var("CHURN_BENCH_CDNOW").ok()?);
    let tx = Transactions::from_path(&path).expect("CDNOW csv");
    Some((tx, NaiveDate::from_ymd_opt(1997, 10, 1).unwrap(), 180))
}

fn fit_times(out: &Path) {
    let (transactions, cutoff, window, source) = match cdnow() {
        Some((tx, cutoff, window)) => (tx, cutoff, window, "CDNOW master (23,570 customers)"),
        None => (
            Transactions::from_records(&synthetic::transactions(20_000, start(), 700, 2)),
            start() + Duration::days(450),
            180,
            "synthetic (20,000 customers; set CHURN_BENCH_CDNOW for CDNOW)",
        ),
    };
    let customers = LabelledCustomers::build(&transactions, None, cutoff, window).expect("labels");
    let split = stratified_split(&customers.churned, 42);
    let train_part = customers.rows(&split.train);
    let validation = customers.rows(&split.validation);
    let test = customers.rows(&split.test);
    export(out, "train", &train_part);
    export(out, "test", &test);

    let names = &customers.features.names;
    println!("## Fit time and test ROC-AUC — {source}\n");
    println!(
        "Split 60/20/20 stratified, seed 42: {} train, {} validation, {} test; {} features.\n",
        train_part.churned.len(),
        validation.churned.len(),
        test.churned.len(),
        names.len()
    );
    println!("| model | parameters | fit (s), median | test ROC-AUC |");
    println!("| --- | --- | ---: | ---: |");
    // The models' seed (bagging, feature sampling); the split's stays 42.
    let seed = std::env::var("CHURN_BENCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let hp = Hyperparameters::defaults(seed);
    let mut linfa_300 = hp;
    linfa_300.linfa_random_forest.trees = 300;
    let mut forest_full = hp;
    forest_full.random_forest.max_depth = 40;
    forest_full.random_forest.min_samples_leaf = 1;
    let runs: Vec<(ModelKind, Hyperparameters, String)> = vec![
        (ModelKind::Recency, hp, "recency only".into()),
        (ModelKind::BgNbd, hp, "MLE, Nelder–Mead".into()),
        (ModelKind::Logistic, hp, format!("L2 {}", hp.logistic_l2)),
        (
            ModelKind::LinfaRandomForest,
            hp,
            params(&hp.linfa_random_forest),
        ),
        (
            ModelKind::LinfaRandomForest,
            linfa_300,
            params(&linfa_300.linfa_random_forest),
        ),
        (ModelKind::LinfaAdaboost, hp, params(&hp.linfa_adaboost)),
        (ModelKind::Adaboost, hp, params(&hp.adaboost)),
        (ModelKind::RandomForest, hp, params(&hp.random_forest)),
        (
            ModelKind::RandomForest,
            forest_full,
            params(&forest_full.random_forest),
        ),
        (
            ModelKind::GradientBoosting,
            hp,
            params(&hp.gradient_boosting),
        ),
    ];
    let models = std::env::var("CHURN_BENCH_MODELS").unwrap_or_default();
    let repeat: usize = std::env::var("CHURN_BENCH_REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    for (kind, hp, described) in runs {
        if !models.is_empty() && !models.split(',').any(|m| m.trim() == kind.to_string()) {
            continue;
        }
        let mut times = Vec::with_capacity(repeat);
        let mut fitted = None;
        for _ in 0..repeat {
            let t = Instant::now();
            let model = models::fit(
                kind,
                &train_part.features.values,
                &train_part.churned,
                names,
                window,
                &hp,
            )
            .expect("fit");
            times.push(t.elapsed().as_secs_f64());
            fitted = Some(model);
        }
        times.sort_by(f64::total_cmp);
        let secs = times[times.len() / 2];
        let model = fitted.expect("at least one fit");
        let calibrated =
            CalibratedModel::calibrate(model, &validation.features.values, &validation.churned)
                .expect("calibration");
        let auc = roc_auc(
            &test.churned,
            &calibrated.probabilities(&test.features.values).to_vec(),
        );
        println!("| {kind} | {described} | {secs:.3} | {auc:.4} |");
    }
    println!();
}

fn params(p: &impl serde::Serialize) -> String {
    serde_json::to_string(p)
        .unwrap_or_default()
        .replace(['{', '}', '"'], "")
        .replace(',', ", ")
}

/// `churned,<features…>` for the Python comparison.
fn export(out: &Path, name: &str, part: &LabelledCustomers) {
    let mut csv = String::from("churned,");
    csv.push_str(&part.features.names.join(","));
    csv.push('\n');
    for (row, churned) in part.features.values.rows().into_iter().zip(&part.churned) {
        csv.push_str(if *churned { "1" } else { "0" });
        for v in row {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    std::fs::write(out.join(format!("{name}.csv")), csv).expect("export");
}

fn scoring_throughput() {
    let records = synthetic::transactions(160_000, start(), 730, 3);
    let transactions = Transactions::from_records(&records);
    let mut config = TrainingConfig::new(start() + Duration::days(500), 180);
    config.search = false;
    config.models = vec![ModelKind::Recency, ModelKind::GradientBoosting];
    let artifact = train(&transactions, None, &config, &Silent)
        .expect("train")
        .artifact;
    let as_of = start() + Duration::days(730);
    let t = Instant::now();
    let scores = scoring::score(&artifact, &transactions, None, as_of).expect("score");
    let all = t.elapsed().as_secs_f64();
    let features = FeatureMatrix::compute(&transactions, None, as_of, &artifact.feature_names)
        .expect("features");
    let t = Instant::now();
    let p = artifact.probabilities(&features.values);
    let model_only = t.elapsed().as_secs_f64();
    assert_eq!(p.len(), scores.len());
    println!(
        "## Scoring throughput (gradient boosting, {} trees)\n",
        artifact.training.hyperparameters["gradient_boosting"]["trees"]
    );
    println!("| what | customers | seconds | customers/s |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| features + model ({} orders) | {} | {all:.3} | {:.0} |",
        transactions.len(),
        scores.len(),
        scores.len() as f64 / all
    );
    println!(
        "| model only (features ready) | {} | {model_only:.3} | {:.0} |",
        p.len(),
        p.len() as f64 / model_only
    );
}
