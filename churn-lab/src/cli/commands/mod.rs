//! One module per command: each reads its arguments, calls the library and prints the answer.

mod deploy;
mod explore;
mod report;
mod score;
mod snapshot;
mod sql;
mod train;

use super::args::Command;
use super::exit::{Code, Failure};

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Train(args) => train::train(args),
        Command::Score(args) => score::score(args),
        Command::Report(args) => report::report(args),
        Command::Explore(args) => explore::explore(args),
        Command::Snapshot(args) => snapshot::snapshot(args),
        Command::Sql(args) => sql::sql(args),
        Command::Deploy(args) => deploy::deploy(args),
    }
}

/// The runtime of the commands that talk to servers (deploy, snapshot): one thread is plenty.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::with(Code::Software))
}
