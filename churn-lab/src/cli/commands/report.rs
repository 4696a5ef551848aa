//! `churn-lab report`: redraw a saved run's report.

use churn_lab::run::SavedRunRecord;

use crate::cli::args::ReportArgs;
use crate::cli::exit::Failure;

pub fn report(args: ReportArgs) -> Result<(), Failure> {
    let run = SavedRunRecord::read(&args.model)?;
    let (transactions, events) = args.data.load()?;
    let report = run.redraw_report(&args.model, &transactions, events.as_ref())?;
    println!("report   {}", report.page.display());
    Ok(())
}
