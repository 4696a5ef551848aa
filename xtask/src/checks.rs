//! `cargo xtask test`: installs what the checks need when it is missing (`prerequisites`),
//! ensures the backing services exactly as `up` does (plus the
//! `secantusd-py` the readiness test starts on its own), drops leftover test databases, then
//! runs, stopping at the first failure: rustfmt, clippy (host, the fuzz targets and the
//! shop's wasm32 side), the workspace tests (the browser tests with the API and shop binaries
//! built first), the fuzz targets for a few seconds each, the docker-compose file check and
//! the deployment check (`infra`).

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::services::{self, mongo, postgres};
use crate::stack::TEST_ENV;
use crate::workspace::Workspace;
use crate::{cmd, console, fuzz, prerequisites, shop};

/// Databases the tests create for themselves (`_` escaped: it is a LIKE wildcard).
const TEST_DATABASES_QUERY: &str =
    r"SELECT datname FROM pg_database WHERE datname LIKE 'nexus\_test\_%' ORDER BY datname";

pub fn test(ws: &Workspace, cargo_test_args: &[String]) -> Result<()> {
    prerequisites::ensure_for_tests(ws)?;
    services::ensure_all(ws)?;
    mongo::ensure_venv(ws)?;
    drop_test_databases()?;
    drop_test_mongo_databases(ws);
    let total = 7;
    let step = |index: usize, title: &str, mut command: Command| -> Result<()> {
        println!("==> [{index}/{total}] {title}");
        let started = Instant::now();
        cmd::run(&mut command).with_context(|| format!("the {title} step failed"))?;
        println!("==> {title} passed in {} s", started.elapsed().as_secs());
        Ok(())
    };
    step(1, "rustfmt", rustfmt_check(ws, None))?;
    step(
        1,
        "rustfmt (fuzz targets)",
        rustfmt_check(ws, Some("fuzz/Cargo.toml")),
    )?;
    step(2, "clippy", clippy(ws, None))?;
    step(
        2,
        "clippy (fuzz targets)",
        clippy(ws, Some("fuzz/Cargo.toml")),
    )?;
    step(
        3,
        "clippy (web shop and console window, wasm32)",
        clippy_wasm(ws),
    )?;
    // The browser tests run the real binaries: the shop with its wasm bundle and the console
    // with its window, built here, and
    // storefront-api, which `cargo test --workspace` builds for the API's own integration
    // tests (building it separately would compile its dependencies a second time, with the
    // features of a single package). A narrower test run builds it first.
    let started = Instant::now();
    println!("==> [4/{total}] tests (building the shop and the console for the e2e tests first)");
    if !cargo_test_args.is_empty() {
        cmd::run(&mut cargo(
            ws,
            &[
                "build",
                "-p",
                "storefront-api",
                "--bin",
                "storefront-api",
                "--features",
                FAIL_POINTS,
            ],
        ))
        .context("building storefront-api for the browser tests failed")?;
    }
    let shop = shop::build(ws, false)?;
    // The console's window test drives the built app through tauri-driver, in a display.
    let console = console::build_app(ws, false)?;
    let mut tests = cargo_test(ws, cargo_test_args);
    tests
        .env(
            "NEXUS_TEST_API_BIN",
            ws.target_dir().join("debug/storefront-api"),
        )
        .env("NEXUS_E2E_SHOP_BIN", &shop.binary)
        .env("NEXUS_E2E_SITE_ROOT", &shop.site_root)
        .env("NEXUS_CONSOLE_BIN", &console);
    cmd::run(&mut console::with_display(tests)).context("the tests step failed")?;
    println!("==> tests passed in {} s", started.elapsed().as_secs());
    println!("==> [5/{total}] fuzz targets ({FUZZ_SECONDS} s each)");
    let started = Instant::now();
    fuzz::fuzz(ws, &[], FUZZ_SECONDS)?;
    println!(
        "==> fuzz targets passed in {} s",
        started.elapsed().as_secs()
    );
    println!("==> [6/{total}] docker-compose.yml");
    check_compose_file(ws)?;
    println!("==> [{total}/{total}] the deployment (infrastructure/)");
    crate::infra::check(ws)?;
    println!("all checks passed");
    Ok(())
}

/// Clippy on the workspace, or on the fuzz targets' own workspace at `manifest` (their
/// plain build, without the fuzzer's instrumentation: lints do not depend on it).
fn clippy(ws: &Workspace, manifest: Option<&str>) -> Command {
    let mut args = vec!["clippy"];
    match manifest {
        Some(manifest) => args.extend(["--manifest-path", manifest, "--bins"]),
        None => args.extend(["--workspace", "--all-targets"]),
    }
    args.extend(["--", "-D", "warnings"]);
    cargo(ws, &args)
}

/// Clippy on the shop's browser side, which the workspace run (a host build) never compiles.
fn clippy_wasm(ws: &Workspace) -> Command {
    let front = ws.target_dir().join("front");
    let front = front.to_string_lossy();
    cargo(
        ws,
        &[
            "clippy",
            "-p",
            "web-shop",
            "-p",
            "admin-ui",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
            "--features",
            "web-shop/hydrate",
            "--target-dir",
            &front,
            "--",
            "-D",
            "warnings",
        ],
    )
}

/// The API's fail points, which its crash tests trigger (compiled in for tests only).
const FAIL_POINTS: &str = "storefront-api/failpoints";

/// `cargo test --workspace` with the API's fail points, plus whatever followed `--` on the
/// xtask command line.
fn cargo_test(ws: &Workspace, extra_args: &[String]) -> Command {
    let mut command = cargo(ws, &["test", "--workspace", "--features", FAIL_POINTS]);
    command.args(extra_args);
    command
}

/// How long each fuzz target runs in `test` (`cargo xtask fuzz` runs longer).
const FUZZ_SECONDS: u32 = 20;

/// `cargo fmt --all -- --check` of the workspace, or of the workspace whose manifest is
/// given (the fuzz targets'), without colours when cargo's are off (CI logs).
fn rustfmt_check(ws: &Workspace, manifest: Option<&str>) -> Command {
    let mut command = cargo(ws, &["fmt", "--all"]);
    if let Some(manifest) = manifest {
        command.args(["--manifest-path", manifest]);
    }
    command.args(["--", "--check"]);
    if std::env::var("CARGO_TERM_COLOR").is_ok_and(|color| color == "never") {
        command.args(["--color", "never"]);
    }
    command
}

/// A cargo command with the test environment: offline sqlx metadata and the local services.
fn cargo(ws: &Workspace, args: &[&str]) -> Command {
    let mut command = cmd::cargo(ws.root());
    command.args(args).env("SQLX_OFFLINE", "true");
    for (key, value) in TEST_ENV {
        cmd::env_default(&mut command, key, value);
    }
    cmd::env_default(&mut command, "NEXUS_TEST_SECANTUSD", ws.secantusd());
    cmd::env_default(&mut command, "NEXUS_SCHEMATHESIS", ws.schemathesis());
    cmd::env_default(
        &mut command,
        "NEXUS_TEST_MAILDEV",
        crate::services::mail::maildev(ws),
    );
    command
}

/// Drops the databases earlier (interrupted) test runs left behind.
fn drop_test_databases() -> Result<()> {
    let listing = cmd::output(postgres::psql("postgres").args(["-At", "-c", TEST_DATABASES_QUERY]))
        .context("cannot list leftover test databases")?;
    for name in listing
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let drop = format!("DROP DATABASE {} WITH (FORCE)", postgres::quote_ident(name));
        cmd::run(postgres::psql("postgres").args(["-c", &drop]))
            .with_context(|| format!("cannot drop the leftover test database {name}"))?;
    }
    Ok(())
}

/// What `drop_test_mongo_databases` runs with the MongoDB-wire server's own Python (its venv
/// has pymongo): every `nexus_test_*` database dropped.
const DROP_TEST_MONGO_DATABASES: &str = r#"
import sys
import pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=30000)
names = [name for name in client.list_database_names() if name.startswith("nexus_test_")]
for name in names:
    client.drop_database(name)
print(f"dropped {len(names)} leftover MongoDB test databases")
"#;

/// Drops the MongoDB databases earlier test runs left behind: the tests make one each and
/// the MongoDB-wire server keeps them all, slower with every run (163 had piled up here).
/// Best effort: a server that cannot be cleaned now still serves the tests.
fn drop_test_mongo_databases(ws: &Workspace) {
    let python = ws.mongo_venv().join("bin").join("python3");
    let mut command = Command::new(python);
    command.args(["-c", DROP_TEST_MONGO_DATABASES, crate::stack::MONGO_URI]);
    if let Err(error) = cmd::run(&mut command) {
        println!("note: leftover MongoDB test databases not dropped: {error:#}");
    }
}

/// `docker-compose config -q` (no engine is needed for it).
fn check_compose_file(ws: &Workspace) -> Result<()> {
    cmd::run(Command::new("docker-compose").current_dir(ws.root()).args([
        "-f",
        "docker-compose.yml",
        "config",
        "-q",
    ]))
    .context("docker-compose.yml is not valid")
}
