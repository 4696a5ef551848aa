//! `churn-lab snapshot`: the live shop written as Parquet files with a manifest.

use churn_lab::shop::{self, ShopSource};

use crate::cli::args::SnapshotArgs;
use crate::cli::exit::Failure;

pub fn snapshot(args: SnapshotArgs) -> Result<(), Failure> {
    let runtime = super::runtime()?;
    let source = ShopSource {
        database_url: args.database_url,
        mongodb_uri: args.mongodb_uri,
        mongodb_database: args.mongodb_database,
    };
    // Reading happens on the runtime; Polars writes the files outside it.
    let (transactions, events) = runtime.block_on(source.read())?;
    let manifest = shop::write_snapshot(&transactions, &events, &source.describe(), &args.out)?;
    let day = |at: Option<chrono::NaiveDateTime>| at.map(|t| t.date().to_string());
    println!(
        "{} transactions of {} customers ({} to {}) and {} events written to {}",
        manifest.transactions.rows,
        manifest.transactions.customers,
        day(manifest.transactions.first_at).unwrap_or_default(),
        day(manifest.transactions.last_at).unwrap_or_default(),
        manifest.events.rows,
        args.out.display()
    );
    Ok(())
}
