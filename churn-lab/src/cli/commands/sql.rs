//! `churn-lab sql`: a Polars SQL query, printed and optionally written as CSV.

use anyhow::Context;
use polars::prelude::{CsvWriter, SerWriter};

use churn_lab::explore;

use crate::cli::args::SqlArgs;
use crate::cli::exit::{Code, Failure};
use crate::cli::table::print_frame;

pub fn sql(args: SqlArgs) -> Result<(), Failure> {
    let (transactions, events) = args.data.load()?;
    // A query that does not run is the analyst's to fix: a usage error.
    let mut answer = explore::sql(&transactions, events.as_ref(), &args.query)
        .map_err(Failure::with(Code::Usage))?;
    print_frame("", &answer, args.limit);
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path)
            .with_context(|| format!("creating {}", path.display()))
            .map_err(Failure::with(Code::CannotCreate))?;
        CsvWriter::new(file)
            .finish(&mut answer)
            .map_err(Failure::with(Code::CannotCreate))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
