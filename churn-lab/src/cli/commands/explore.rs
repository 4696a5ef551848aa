//! `churn-lab explore`: the first look at a data set, as terminal tables.

use churn_lab::dataset::LabelledCustomers;
use churn_lab::explore;

use crate::cli::args::ExploreArgs;
use crate::cli::exit::{Code, Failure};
use crate::cli::table::print_frame;

pub fn explore(args: ExploreArgs) -> Result<(), Failure> {
    let internal = Failure::with(Code::Software);
    let (transactions, _) = args.data.load()?;
    print_frame(
        "Overview",
        &explore::overview(&transactions).map_err(&internal)?,
        1,
    );
    let monthly = explore::monthly(&transactions, args.months).map_err(&internal)?;
    print_frame("Purchases by month", &monthly, args.months as usize);
    if let (Some(cutoff), Some(window)) = (args.cutoff, args.window_days) {
        let customers = LabelledCustomers::build(&transactions, None, cutoff, window)?;
        println!(
            "Churn at {cutoff}: {:.1}% of {} customers bought nothing in the next {window} days\n",
            100.0 * customers.churn_rate(),
            customers.churned.len()
        );
        let cohorts = explore::cohort_churn(&transactions, cutoff, window).map_err(&internal)?;
        print_frame("Churn by first-purchase month", &cohorts, 60);
    }
    Ok(())
}
