//! `churn-lab`: the analysts' command line. Parses arguments, runs one command and exits with
//! a code scripts can rely on. Everything the commands decide about data is in the library;
//! `cli/` (compiled into this binary only) parses, prints, draws progress and picks exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::args::Cli::parse();
    match cli::commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
