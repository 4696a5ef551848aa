//! `churn-lab score`: score every customer as of a day into a CSV.

use anyhow::Context;

use churn_lab::artifact::ModelArtifact;
use churn_lab::lifetime::{Lifetime, NextOrder};
use churn_lab::scoring::{self, BandCounts, CustomerScore};

use crate::cli::args::ScoreArgs;
use crate::cli::exit::{Code, Failure};

pub fn score(args: ScoreArgs) -> Result<(), Failure> {
    let artifact = ModelArtifact::load(&args.model)?;
    // Before the scoring, not after it: a typo in the folder should not cost the run.
    if let Some(folder) = args.out.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))
            .map_err(Failure::with(Code::CannotCreate))?;
    }
    let (transactions, events) = args.data.load()?;
    if let Some(warning) = scoring::unused_events(&artifact, events.as_ref()) {
        eprintln!("warning: {warning}");
    }
    if let Some(warning) = scoring::check_as_of(&transactions, args.as_of)? {
        eprintln!("warning: {warning}");
    }
    let scores = scoring::score(&artifact, &transactions, events.as_ref(), args.as_of)?;
    scoring::write_csv(&scores, &args.out)?;
    let bands = BandCounts::of(&scores);
    println!(
        "scored {} customers as of {} with {} · high risk {} · medium {} · low {}",
        scores.len(),
        args.as_of,
        artifact.version,
        bands.high,
        bands.medium,
        bands.low
    );
    if let Some(line) = lifetime_summary(&scores) {
        println!("{line}");
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

/// How many customers got a lifetime prediction and what they are worth together; `None` for
/// a model without lifetime models.
fn lifetime_summary(scores: &[CustomerScore]) -> Option<String> {
    let mut predicted = 0;
    let mut due = 0;
    let mut value = 0.0;
    let mut short = 0;
    for lifetime in scores.iter().filter_map(|s| s.lifetime.as_ref()) {
        match lifetime {
            Lifetime::Predicted {
                value_365,
                next_order,
                ..
            } => {
                predicted += 1;
                value += value_365;
                due += usize::from(matches!(next_order, NextOrder::ExpectedBy { .. }));
            }
            Lifetime::NotEnoughHistory { .. } => short += 1,
        }
    }
    (predicted + short > 0).then(|| {
        format!(
            "lifetime value of {predicted} customers over the next 365 days {value:.2} · next \
             order due within the year for {due} · {short} with too little history"
        )
    })
}
