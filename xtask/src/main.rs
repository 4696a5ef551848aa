//! `cargo xtask`: project chores for the Nexus workspace.
//!
//! * `up [--debug] [--instances N]` brings the local stack up (PostgreSQL, Redis, a
//!   MongoDB-wire server, `storefront-api serve` and the web shop), idempotently; with
//!   `--instances N`, N API instances behind the nginx gateway over HTTPS.
//! * `console [--release]` builds the staff console and opens it (log in against `up`'s API).
//! * `down` stops exactly what `up` and `test` started, nothing else.
//! * `test [-- ARGS]` installs what the checks need when it is missing (Debian packages, Rust
//!   components, wasm-bindgen-cli, tauri-driver), ensures the backing services, then runs fmt,
//!   clippy, the tests, the compose-file check and `infra-check`.
//! * `infra-check` checks the deployment in `infrastructure/` offline: the Kubernetes overlays
//!   rendered, validated against the schemas and policy-scanned, the Dockerfiles and deploy.sh
//!   linted, deploy.sh run dry; each validator must refuse its broken fixture.
//! * `shop-build [--debug]` builds the web shop (server binary and site directory) and prints
//!   where they are; the container image uses it.
//! * `fuzz [TARGET…] [--seconds N]` runs the `cargo fuzz` targets of the parsers that take
//!   untrusted bytes, each for a bounded time.
//! * `sqlx-prepare` regenerates the sqlx offline query metadata in `storefront-api/.sqlx`.
//! * `bench` measures the public catalog reads and the shop's pages of a release build with wrk,
//!   checkouts and MongoDB-backed staff reads with storefront-client's load generator, the
//!   shop's bundle and page weights and the outbox relay; with `--instances N`, reads and
//!   checkouts through the gateway too.

mod api;
mod bench;
mod bench_import;
mod bench_load;
mod bench_relay;
mod checks;
mod cmd;
mod console;
mod down;
mod fuzz;
mod gateway;
mod infra;
mod prerequisites;
mod process;
mod services;
mod shop;
mod sqlx_prepare;
mod stack;
mod workspace;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::workspace::Workspace;

/// Project chores for the Nexus workspace.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring the local stack up: PostgreSQL, Redis, MongoDB-wire server, storefront-api, web shop.
    Up {
        /// Build and serve debug builds of storefront-api and the shop instead of release builds.
        #[arg(long)]
        debug: bool,
        /// Run this many API instances (2 to 8) behind the nginx gateway of
        /// infrastructure/nginx, on https://localhost:8443, as the containers run.
        #[arg(long, default_value_t = 1)]
        instances: usize,
    },
    /// Build the staff console (its window and the Tauri app) and open it.
    Console {
        /// An optimised build (slower to build).
        #[arg(long)]
        release: bool,
    },
    /// Stop exactly what `up` and `test` started (processes with a pid file in .nexus/run).
    Down,
    /// Install what the checks need, ensure the backing services, then run fmt, clippy, the
    /// workspace tests, the compose check and the deployment check.
    Test {
        /// Extra arguments passed through to `cargo test --workspace`.
        #[arg(last = true)]
        cargo_test_args: Vec<String>,
    },
    /// Check the deployment offline: render the Kubernetes overlays, validate them against the
    /// schemas, scan them with checkov, lint the Dockerfiles and deploy.sh, dry-run deploy.sh.
    InfraCheck,
    /// Build the web shop (server binary, wasm bundle, assets) and print where they are.
    ShopBuild {
        /// A debug build instead of a release build.
        #[arg(long)]
        debug: bool,
    },
    /// Fuzz the parsers that take untrusted bytes (`cargo fuzz`, libFuzzer), each for a while.
    Fuzz {
        /// Targets to run (all when none): churn_csv, churn_artifact, event_batch, money.
        targets: Vec<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u32,
    },
    /// Regenerate the sqlx offline query metadata in storefront-api/.sqlx.
    SqlxPrepare,
    /// Bring the stack up (release) and measure the API's reads, checkouts, the shop's pages
    /// and the outbox relay.
    Bench {
        /// Seconds per scenario.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: u32,
        /// Run this many API instances behind the gateway, and measure reads and checkouts
        /// through it as well.
        #[arg(long, default_value_t = 1)]
        instances: usize,
        /// Measure only this part (`import`: the catalog import of 10,000 products).
        #[arg(long)]
        only: Option<bench::Part>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let ws = Workspace::locate();
    match cli.command {
        Command::Up { debug, instances } => api::up(&ws, debug, instances),
        Command::Console { release } => console::console(&ws, release),
        Command::Down => down::down(&ws),
        Command::Test { cargo_test_args } => checks::test(&ws, &cargo_test_args),
        Command::InfraCheck => infra::check(&ws),
        Command::ShopBuild { debug } => {
            let build = shop::build(&ws, !debug)?;
            println!("server binary: {}", build.binary.display());
            println!("site root:     {}", build.site_root.display());
            Ok(())
        }
        Command::Fuzz { targets, seconds } => fuzz::fuzz(&ws, &targets, seconds),
        Command::SqlxPrepare => sqlx_prepare::prepare(&ws),
        Command::Bench {
            seconds,
            connections,
            instances,
            only,
        } => bench::bench(&ws, seconds, connections, instances, only),
    }
}
