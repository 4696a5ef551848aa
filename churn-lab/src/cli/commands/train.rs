//! `churn-lab train`: fit, compare and save; print the comparison.

use churn_lab::artifact::ModelArtifact;
use churn_lab::run::{self, SavedRun};
use churn_lab::training::{self, TrainingConfig, TrainingSummary};

use crate::cli::args::TrainArgs;
use crate::cli::exit::{Code, Failure};
use crate::cli::progress::Bars;

pub fn train(args: TrainArgs) -> Result<(), Failure> {
    let mut config = TrainingConfig::new(args.cutoff, args.window_days);
    config.seed = args.seed;
    config.search = !args.no_search;
    if !args.models.is_empty() {
        config.models = args.models;
    }
    // A usage error, before any data is read.
    config.check().map_err(Failure::with(Code::Usage))?;
    let (transactions, events) = args.data.load()?;
    let outcome = training::train(&transactions, events.as_ref(), &config, &Bars::default())?;
    let saved = run::save_run(&outcome, &transactions, &args.out)?;
    print_summary(&outcome.summary, &outcome.artifact, &saved);
    Ok(())
}

fn print_summary(s: &TrainingSummary, artifact: &ModelArtifact, saved: &SavedRun) {
    println!(
        "{} customers before {} · churn rate {:.1}% in the next {} days · train/validation/test {}/{}/{}",
        s.data.customers,
        s.data.cutoff,
        100.0 * s.data.churn_rate,
        s.data.window_days,
        s.data.train_customers,
        s.data.validation_customers,
        s.data.test_customers
    );
    println!();
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "model", "val AUC", "test AUC", "PR-AUC", "Brier", "logloss", "lift@10", "fit (s)"
    );
    for m in &s.models {
        let marker = if m.model == s.chosen {
            "*"
        } else if m.baseline {
            "~"
        } else {
            " "
        };
        println!(
            "{:<20} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.2} {:>9.2}",
            format!("{marker}{}", m.model),
            m.validation.roc_auc,
            m.test.roc_auc,
            m.test.pr_auc,
            m.test.brier,
            m.test.log_loss,
            m.test.lift_top_10,
            m.fit_seconds
        );
    }
    println!(
        "(* chosen on validation ROC-AUC, ~ baseline; other columns are on the test customers)"
    );
    println!();
    match (&artifact.lifetime, &s.lifetime_not_fitted) {
        (Some(m), _) => println!(
            "lifetime value: BG/NBD r {:.3} α {:.3} a {:.3} b {:.3} on {} customers · \
             Gamma-Gamma p {:.3} q {:.3} γ {:.3} on {} repeat customers",
            m.orders.r,
            m.orders.alpha,
            m.orders.a,
            m.orders.b,
            m.customers,
            m.spend.p,
            m.spend.q,
            m.spend.gamma,
            m.repeat_customers
        ),
        (None, Some(why)) => println!("lifetime value: not fitted, {why}"),
        (None, None) => {}
    }
    println!("model    {}", saved.model.display());
    println!("metrics  {}", saved.metrics.display());
    println!("report   {}", saved.report.page.display());
}
