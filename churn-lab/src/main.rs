//! `churn-lab`: the analysts' command line. Parses arguments, calls the library, prints tables
//! and maps failures to exit codes scripts can rely on.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use churn_lab::artifact::{ArtifactError, ModelArtifact};
use churn_lab::dataset::DatasetError;
use churn_lab::dataset::LabelledCustomers;
use churn_lab::models::ModelKind;
use churn_lab::report::{self, PREDICTIONS_FILE, ReportData, ReportError};
use churn_lab::scoring::{self, ScoringError};
use churn_lab::training::{
    self, Progress, TestPredictions, TrainingConfig, TrainingError, TrainingSummary,
};
use churn_lab::transactions::{Events, LoadError, Transactions};

const AFTER_HELP: &str = "\
Exit codes: 0 success · 2 bad arguments (also an SQL query that does not run) · 65 bad input data (a file's contents, data that \
cannot answer the question, or a model the API refuses) · 66 an input file is missing or \
unreadable · 69 the API cannot be reached or failed · 70 an internal error · 73 an output cannot \
be written · 77 the API refused the credentials.

Transactions files are CSV or Parquet with customer_id, ordered_at (ISO date or datetime) and \
amount (decimal), optionally quantity and status (cancelled / refunded rows count as such; a \
negative amount is a refund).";

#[derive(Parser)]
#[command(name = "churn-lab", version, about = "Churn analytics for Nexus shops: features, models, reports, scoring", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train every model, pick the best on validation; write model.json, metrics.json and
    /// report.html (with charts/) to --out
    Train(TrainArgs),
    /// Upload a trained model to storefront-api's registry (and with --activate, make it the
    /// model the API scores with, on every instance)
    Deploy(DeployArgs),
    /// Pull the live shop's orders (PostgreSQL) and behaviour events (MongoDB) into
    /// transactions.parquet, events.parquet and manifest.json, to analyse offline
    Snapshot(SnapshotArgs),
    /// Terminal tables: overview, monthly activity, and with --cutoff/--window-days the churn
    /// rate by first-purchase cohort
    Explore(ExploreArgs),
    /// Polars SQL over the tables `transactions` (and `events`), e.g.
    /// "SELECT kind, COUNT(*) AS orders FROM transactions GROUP BY kind"
    ///
    /// transactions: customer_id, ordered_at (datetime), day (days since 1970-01-01), amount
    /// (negative for refunds), quantity, kind (purchase, refund or cancellation).
    /// events: customer_id, day, type. Name aggregates with AS (a bare COUNT(*) is called
    /// `len`).
    Sql(SqlArgs),
    /// Re-draw report.html and charts/ of a trained model directory from its metrics and data
    Report(ReportArgs),
    /// Score every customer with a purchase before --as-of; writes customer_id,churn_probability
    Score(ScoreArgs),
}

#[derive(Args)]
struct DataArgs {
    /// Transactions file (.csv or .parquet)
    #[arg(long, value_name = "FILE")]
    transactions: PathBuf,
    /// Behaviour events file (.csv or .parquet with customer_id, occurred_at, type); adds
    /// engagement features
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Features use only data before this day; the label looks at the days from it on
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    cutoff: NaiveDate,
    /// A customer has churned when they buy nothing in this many days from the cut-off
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    window_days: u32,
    /// Directory for model.json and metrics.json (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed for the split, the search and every model
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Models to train, comma-separated (default: all). Baselines are measured, never shipped.
    #[arg(long, value_delimiter = ',', value_parser = parse_model)]
    models: Vec<ModelKind>,
    /// Skip the cross-validated hyperparameter search and use the defaults
    #[arg(long)]
    no_search: bool,
}

#[derive(Args)]
struct ScoreArgs {
    /// Directory holding model.json (what `train --out` wrote), or the file itself
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Score as of this day: features use the data before it
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    as_of: NaiveDate,
    /// Output CSV
    #[arg(long, value_name = "FILE.csv")]
    out: PathBuf,
}

#[derive(Args)]
struct ReportArgs {
    /// Directory a `train` run wrote (metrics.json, test_predictions.csv)
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The transactions (and events) the model was trained on
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct DeployArgs {
    /// Directory holding model.json, or the file itself
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Base URL of storefront-api (or the gateway in front of it)
    #[arg(long, env = "NEXUS_API_URL", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// A staff session token; otherwise --email with NEXUS_STAFF_PASSWORD logs in
    #[arg(long, env = "NEXUS_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Staff account to log in with (password from NEXUS_STAFF_PASSWORD)
    #[arg(long, env = "NEXUS_STAFF_EMAIL")]
    email: Option<String>,
    /// Activate the model once uploaded
    #[arg(long)]
    activate: bool,
}

#[derive(Args)]
struct SnapshotArgs {
    /// PostgreSQL URL of the shop (read only)
    #[arg(
        long,
        env = "NEXUS_DATABASE__URL",
        default_value = "postgres://postgres@127.0.0.1:5432/nexus",
        hide_env_values = true
    )]
    database_url: String,
    /// MongoDB URI of the shop
    #[arg(
        long,
        env = "NEXUS_MONGODB__URI",
        default_value = "mongodb://127.0.0.1:27017",
        hide_env_values = true
    )]
    mongodb_uri: String,
    #[arg(long, env = "NEXUS_MONGODB__DATABASE", default_value = "nexus")]
    mongodb_database: String,
    /// Directory for the snapshot (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args)]
struct ExploreArgs {
    #[command(flatten)]
    data: DataArgs,
    /// With --window-days: label churn at this cut-off and show it by cohort
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date, requires = "window_days")]
    cutoff: Option<NaiveDate>,
    /// With --cutoff: a customer with no order in this many days after it has churned
    #[arg(long, value_name = "N", requires = "cutoff")]
    window_days: Option<u32>,
    /// Months of activity to show
    #[arg(long, default_value_t = 24)]
    months: u32,
}

#[derive(Args)]
struct SqlArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The query (Polars SQL)
    query: String,
    /// Also write the whole answer as CSV
    #[arg(long, value_name = "FILE.csv")]
    out: Option<PathBuf>,
    /// Rows to print
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2024-01-31"))
}

fn parse_model(s: &str) -> Result<ModelKind, String> {
    s.trim().parse()
}

/// A failure with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

/// A command line that cannot work (clap exits with it for unknown options too).
const USAGE: u8 = 2;
const DATA_ERROR: u8 = 65;
const NO_INPUT: u8 = 66;
const SOFTWARE: u8 = 70;
const CANNOT_CREATE: u8 = 73;
const UNAVAILABLE: u8 = 69;
const NO_PERMISSION: u8 = 77;

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        let code = match e {
            LoadError::Io { .. } => NO_INPUT,
            _ => DATA_ERROR,
        };
        Self {
            code,
            error: e.into(),
        }
    }
}

impl From<TrainingError> for Failure {
    fn from(e: TrainingError) -> Self {
        let code = match e {
            TrainingError::Data(DatasetError::Polars(_)) => SOFTWARE,
            TrainingError::Data(_) | TrainingError::TooFew(_) | TrainingError::NoCandidate => {
                DATA_ERROR
            }
            TrainingError::Fit(_) | TrainingError::Calibration(..) => SOFTWARE,
            // The CLI never asks to cancel; an interrupted run exits by signal.
            TrainingError::Cancelled => SOFTWARE,
        };
        Self {
            code,
            error: e.into(),
        }
    }
}

impl From<ArtifactError> for Failure {
    fn from(e: ArtifactError) -> Self {
        let code = match e {
            ArtifactError::Io { .. } => NO_INPUT,
            _ => DATA_ERROR,
        };
        Self {
            code,
            error: e.into(),
        }
    }
}

impl From<ScoringError> for Failure {
    fn from(e: ScoringError) -> Self {
        let code = match e {
            ScoringError::EventsRequired(_) => DATA_ERROR,
            ScoringError::Polars(_) => SOFTWARE,
            ScoringError::Io { .. } => CANNOT_CREATE,
        };
        Self {
            code,
            error: e.into(),
        }
    }
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Self {
        let code = match e {
            ReportError::Io { .. } | ReportError::Artifact(_) => CANNOT_CREATE,
            ReportError::Predictions { .. } => NO_INPUT,
            ReportError::Draw { .. } | ReportError::Polars(_) => SOFTWARE,
        };
        Self {
            code,
            error: e.into(),
        }
    }
}

fn cannot_create(e: anyhow::Error) -> Failure {
    Failure {
        code: CANNOT_CREATE,
        error: e,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(args),
        Command::Score(args) => score(args),
        Command::Report(args) => report(args),
        Command::Explore(args) => explore(args),
        Command::Snapshot(args) => snapshot(args),
        Command::Sql(args) => sql(args),
        Command::Deploy(args) => deploy(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", message(&failure.error));
            ExitCode::from(failure.code)
        }
    }
}

/// The error and its causes, each once: most of our errors already quote their cause (`cannot
/// read FILE: No such file or directory`), and printing the chain again would repeat it.
fn message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

fn load(data: &DataArgs) -> Result<(Transactions, Option<Events>), Failure> {
    let transactions = Transactions::from_path(&data.transactions)?;
    let events = data.events.as_deref().map(Events::from_path).transpose()?;
    Ok((transactions, events))
}

/// indicatif bars for the library's progress reports (hidden when stderr is not a terminal).
struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn begin(&self, task: &str, steps: u64) {
        let bar = ProgressBar::new(steps).with_prefix(task.to_owned());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn advance(&self, message: &str) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.set_message(message.to_owned());
            bar.inc(1);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_with_message("done");
        }
    }
}

fn train(args: TrainArgs) -> Result<(), Failure> {
    if !args.models.is_empty() && args.models.iter().all(|m| m.is_baseline()) {
        return Err(Failure {
            code: USAGE,
            error: TrainingError::NoCandidate.into(),
        });
    }
    let (transactions, events) = load(&args.data)?;
    let mut config = TrainingConfig::new(args.cutoff, args.window_days);
    config.seed = args.seed;
    config.search = !args.no_search;
    if !args.models.is_empty() {
        config.models = args.models.clone();
    }
    let bars = Bars {
        bar: Mutex::new(None),
    };
    let outcome = training::train(&transactions, events.as_ref(), &config, &bars)?;
    let saved = churn_lab::run::save_run(&outcome, &transactions, &args.out)?;

    let s = &outcome.summary;
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
    println!("model    {}", saved.model.display());
    println!("metrics  {}", saved.metrics.display());
    println!("report   {}", saved.report.page.display());
    Ok(())
}

fn report(args: ReportArgs) -> Result<(), Failure> {
    let metrics_path = args.model.join("metrics.json");
    let summary: TrainingSummary = std::fs::read(&metrics_path)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| Ok(serde_json::from_slice(&bytes)?))
        .with_context(|| format!("reading {}", metrics_path.display()))
        .map_err(|error| Failure {
            code: NO_INPUT,
            error,
        })?;
    let test = TestPredictions::read_csv(&args.model.join(PREDICTIONS_FILE))?;
    let (transactions, events) = load(&args.data)?;
    let trained_on = summary.data.transactions.sha256.as_deref();
    if trained_on.is_some() && trained_on != transactions.manifest().sha256.as_deref() {
        return Err(Failure {
            code: DATA_ERROR,
            error: anyhow::anyhow!(
                "{} is not the file this model was trained on ({}, sha256 {})",
                args.data.transactions.display(),
                summary.data.transactions.source,
                trained_on.unwrap_or_default()
            ),
        });
    }
    let customers = LabelledCustomers::build(
        &transactions,
        events.as_ref(),
        summary.data.cutoff,
        summary.data.window_days,
    )
    .map_err(|e| Failure::from(TrainingError::from(e)))?;
    let data = ReportData::gather(&summary, &test, &customers, &transactions)?;
    let report = report::write(&data, &args.model)?;
    println!("report   {}", report.page.display());
    Ok(())
}

fn score(args: ScoreArgs) -> Result<(), Failure> {
    let artifact = ModelArtifact::load(&args.model)?;
    // Before the scoring, not after it: a typo in the folder should not cost the run.
    if let Some(folder) = args.out.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| {
            cannot_create(anyhow::Error::new(e).context(format!("creating {}", folder.display())))
        })?;
    }
    let (transactions, events) = load(&args.data)?;
    if events.is_some() && !artifact.uses_events() {
        eprintln!(
            "warning: {} was trained without events; --events is not used",
            artifact.version
        );
    }
    let manifest = transactions.manifest();
    let (first, last) = (
        manifest.first_at.map(|t| t.date()),
        manifest.last_at.map(|t| t.date()),
    );
    if let (Some(first), Some(last)) = (first, last) {
        if args.as_of <= first {
            return Err(Failure {
                code: DATA_ERROR,
                error: anyhow::anyhow!(
                    "no transaction before --as-of {}: the data runs from {first} to {last}",
                    args.as_of
                ),
            });
        }
        let gap = (args.as_of - last).num_days();
        if gap > 30 {
            eprintln!(
                "warning: the transactions end on {last}, {gap} days before --as-of {}; \
                 customers are scored as if none of them bought since",
                args.as_of
            );
        }
    }
    let scores = scoring::score(&artifact, &transactions, events.as_ref(), args.as_of)?;
    scoring::write_csv(&scores, &args.out)?;
    let count = |band| scores.iter().filter(|s| s.band == band).count();
    use churn_lab::artifact::RiskBand::*;
    println!(
        "scored {} customers as of {} with {} · high risk {} · medium {} · low {}",
        scores.len(),
        args.as_of,
        artifact.version,
        count(High),
        count(Medium),
        count(Low)
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

fn deploy(args: DeployArgs) -> Result<(), Failure> {
    use churn_lab::deploy::{Credentials, DeployError};
    let artifact = ModelArtifact::load(&args.model)?;
    let credentials = match (args.token, args.email) {
        (Some(token), _) => Credentials::Token(token),
        (None, Some(email)) => {
            let password = std::env::var("NEXUS_STAFF_PASSWORD").map_err(|_| Failure {
                code: NO_PERMISSION,
                error: anyhow::anyhow!("set NEXUS_STAFF_PASSWORD to log in as {email}"),
            })?;
            Credentials::Login { email, password }
        }
        (None, None) => {
            return Err(Failure {
                code: NO_PERMISSION,
                error: anyhow::anyhow!(
                    "give --token (or NEXUS_API_TOKEN), or --email with NEXUS_STAFF_PASSWORD"
                ),
            });
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: SOFTWARE,
            error: e.into(),
        })?;
    let deployed = runtime
        .block_on(churn_lab::deploy::deploy(
            &args.api,
            &credentials,
            &artifact,
            args.activate,
        ))
        .map_err(|e| {
            let code = match e {
                DeployError::Unreachable { .. } | DeployError::Failed { .. } => UNAVAILABLE,
                DeployError::Unauthorized(_) => NO_PERMISSION,
                DeployError::Rejected(_) => DATA_ERROR,
            };
            Failure {
                code,
                error: e.into(),
            }
        })?;
    println!(
        "{} {} to {}{}",
        deployed.version,
        if deployed.uploaded {
            "uploaded"
        } else {
            "was already registered"
        },
        args.api,
        if deployed.activated {
            "; now active"
        } else {
            ""
        }
    );
    Ok(())
}

fn polars_failure(code: u8) -> impl Fn(polars::prelude::PolarsError) -> Failure {
    move |e| Failure {
        code,
        error: e.into(),
    }
}

/// Prints a frame as a terminal table (at most `limit` rows).
fn print_frame(title: &str, frame: &polars::prelude::DataFrame, limit: usize) {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(frame.get_column_names().iter().map(|n| n.as_str()));
    for i in 0..frame.height().min(limit) {
        table.add_row(frame.columns().iter().map(|c| match c.get(i) {
            Ok(polars::prelude::AnyValue::Float64(v)) => format!("{v:.2}"),
            Ok(polars::prelude::AnyValue::String(s)) => s.to_owned(),
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        }));
    }
    println!("{title}");
    println!("{table}");
    if frame.height() > limit {
        println!("({} rows, {limit} shown)", frame.height());
    }
    println!();
}

fn explore(args: ExploreArgs) -> Result<(), Failure> {
    use churn_lab::explore;
    let (transactions, _) = load(&args.data)?;
    print_frame(
        "Overview",
        &explore::overview(&transactions).map_err(polars_failure(SOFTWARE))?,
        1,
    );
    let monthly = explore::monthly(&transactions, args.months).map_err(polars_failure(SOFTWARE))?;
    print_frame("Purchases by month", &monthly, args.months as usize);
    if let (Some(cutoff), Some(window)) = (args.cutoff, args.window_days) {
        let customers = LabelledCustomers::build(&transactions, None, cutoff, window)
            .map_err(|e| Failure::from(TrainingError::from(e)))?;
        println!(
            "Churn at {cutoff}: {:.1}% of {} customers bought nothing in the next {window} days\n",
            100.0 * customers.churn_rate(),
            customers.churned.len()
        );
        let cohorts = explore::cohort_churn(&transactions, cutoff, window)
            .map_err(polars_failure(SOFTWARE))?;
        print_frame("Churn by first-purchase month", &cohorts, 60);
    }
    Ok(())
}

fn sql(args: SqlArgs) -> Result<(), Failure> {
    let (transactions, events) = load(&args.data)?;
    let mut answer = churn_lab::explore::sql(&transactions, events.as_ref(), &args.query)
        .map_err(polars_failure(USAGE))?;
    print_frame("", &answer, args.limit);
    if let Some(path) = &args.out {
        use polars::prelude::SerWriter;
        let file = std::fs::File::create(path)
            .with_context(|| format!("creating {}", path.display()))
            .map_err(cannot_create)?;
        polars::prelude::CsvWriter::new(file)
            .finish(&mut answer)
            .map_err(polars_failure(CANNOT_CREATE))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `host:port/database` of a URL, never its credentials.
fn without_credentials(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or_default().to_owned()
}

fn snapshot(args: SnapshotArgs) -> Result<(), Failure> {
    let unavailable = |error: anyhow::Error| Failure {
        code: UNAVAILABLE,
        error,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: SOFTWARE,
            error: e.into(),
        })?;
    // Reading happens on the runtime; Polars writes the files outside it.
    let (transactions, events) = runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(&args.database_url)
            .await
            .with_context(|| {
                format!(
                    "connecting to PostgreSQL at {}",
                    without_credentials(&args.database_url)
                )
            })
            .map_err(unavailable)?;
        let transactions = churn_lab::shop::orders(&pool, None)
            .await
            .context("reading orders")
            .map_err(unavailable)?;
        let mut options = mongodb::options::ClientOptions::parse(&args.mongodb_uri)
            .await
            .context("reading the MongoDB URI")
            .map_err(|error| Failure { code: USAGE, error })?;
        options.server_selection_timeout = Some(std::time::Duration::from_secs(10));
        let client = mongodb::Client::with_options(options)
            .context("connecting to MongoDB")
            .map_err(unavailable)?;
        let events = churn_lab::shop::events(&client.database(&args.mongodb_database), None)
            .await
            .with_context(|| {
                format!(
                    "reading events from MongoDB at {}",
                    without_credentials(&args.mongodb_uri)
                )
            })
            .map_err(unavailable)?;
        Ok::<_, Failure>((transactions, events))
    })?;
    let source = format!(
        "postgres {} · mongodb {}/{}",
        without_credentials(&args.database_url),
        without_credentials(&args.mongodb_uri),
        args.mongodb_database
    );
    let manifest = churn_lab::shop::write_snapshot(&transactions, &events, &source, &args.out)?;
    println!(
        "{} transactions of {} customers ({} to {}) and {} events written to {}",
        manifest.transactions.rows,
        manifest.transactions.customers,
        manifest
            .transactions
            .first_at
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        manifest
            .transactions
            .last_at
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        manifest.events.rows,
        args.out.display()
    );
    Ok(())
}
