//! The command line's shape: clap types for every command and their value parsers.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use churn_lab::models::ModelKind;
use churn_lab::transactions::{self, Events, LoadError, Transactions};

use super::exit;

const DATA_FORMAT_HELP: &str = "\
Transactions files are CSV or Parquet with customer_id, ordered_at (ISO date or datetime) and \
amount (decimal), optionally quantity and status (cancelled / refunded rows count as such; a \
negative amount is a refund).";

fn after_help() -> String {
    format!("{}\n\n{DATA_FORMAT_HELP}", exit::HELP)
}

#[derive(Parser)]
#[command(name = "churn-lab", version, about = "Churn analytics for Nexus shops: features, models, reports, scoring", after_help = after_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// and, from models that carry them, the next 365 days' expected orders, value and next
    /// order day
    Score(ScoreArgs),
}

#[derive(Args)]
pub struct DataArgs {
    /// Transactions file (.csv or .parquet)
    #[arg(long, value_name = "FILE")]
    pub transactions: PathBuf,
    /// Behaviour events file (.csv or .parquet with customer_id, occurred_at, type); adds
    /// engagement features
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
}

impl DataArgs {
    pub fn load(&self) -> Result<(Transactions, Option<Events>), LoadError> {
        transactions::load(&self.transactions, self.events.as_deref())
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Features use only data before this day; the label looks at the days from it on
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub cutoff: NaiveDate,
    /// A customer has churned when they buy nothing in this many days from the cut-off
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub window_days: u32,
    /// Directory for model.json and metrics.json (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed for the split, the search and every model
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Models to train, comma-separated (default: all). Baselines are measured, never shipped.
    #[arg(long, value_delimiter = ',', value_parser = parse_model)]
    pub models: Vec<ModelKind>,
    /// Skip the cross-validated hyperparameter search and use the defaults
    #[arg(long)]
    pub no_search: bool,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// Directory holding model.json (what `train --out` wrote), or the file itself
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Score as of this day: features use the data before it
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: NaiveDate,
    /// Output CSV
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Directory a `train` run wrote (metrics.json, test_predictions.csv)
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// The transactions (and events) the model was trained on
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args)]
pub struct DeployArgs {
    /// Directory holding model.json, or the file itself
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Base URL of storefront-api (or the gateway in front of it)
    #[arg(long, env = "NEXUS_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// A staff session token; otherwise --email with NEXUS_STAFF_PASSWORD logs in
    #[arg(long, env = "NEXUS_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Staff account to log in with (password from NEXUS_STAFF_PASSWORD)
    #[arg(long, env = "NEXUS_STAFF_EMAIL")]
    pub email: Option<String>,
    /// Activate the model once uploaded
    #[arg(long)]
    pub activate: bool,
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// PostgreSQL URL of the shop (read only)
    #[arg(
        long,
        env = "NEXUS_DATABASE__URL",
        default_value = "postgres://postgres@127.0.0.1:5432/nexus",
        hide_env_values = true
    )]
    pub database_url: String,
    /// MongoDB URI of the shop
    #[arg(
        long,
        env = "NEXUS_MONGODB__URI",
        default_value = "mongodb://127.0.0.1:27017",
        hide_env_values = true
    )]
    pub mongodb_uri: String,
    #[arg(long, env = "NEXUS_MONGODB__DATABASE", default_value = "nexus")]
    pub mongodb_database: String,
    /// Directory for the snapshot (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// With --window-days: label churn at this cut-off and show it by cohort
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date, requires = "window_days")]
    pub cutoff: Option<NaiveDate>,
    /// With --cutoff: a customer with no order in this many days after it has churned
    #[arg(long, value_name = "N", requires = "cutoff")]
    pub window_days: Option<u32>,
    /// Months of activity to show
    #[arg(long, default_value_t = 24)]
    pub months: u32,
}

#[derive(Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The query (Polars SQL)
    pub query: String,
    /// Also write the whole answer as CSV
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Rows to print
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2024-01-31"))
}

fn parse_model(s: &str) -> Result<ModelKind, String> {
    s.trim().parse()
}
