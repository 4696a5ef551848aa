//! `cargo xtask fuzz`: the `cargo fuzz` targets in `fuzz/` (the parsers that take untrusted
//! bytes: churn-lab's CSV reader and model artifact loader, the shop's event batches, money
//! as staff type it), each run by libFuzzer for a bounded time. `cargo xtask test` runs them
//! too, briefly. A crash fails the run and leaves the input in `fuzz/artifacts/<target>/`,
//! with the `cargo fuzz run` line that replays it.
//!
//! The machine has a stable toolchain only, so the targets build with `--sanitizer none`
//! (cargo-fuzz's stable mode: coverage-guided, without AddressSanitizer; the code under test
//! is safe Rust). The corpus grows in the target directory between runs, starting from the
//! committed seeds in `fuzz/seeds/<target>/`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::workspace::Workspace;

/// Every target in `fuzz/Cargo.toml`, with the largest input it is given: a model artifact
/// with its trees is far larger than libFuzzer's 4 kB default (the seeds show the size).
pub const TARGETS: [(&str, usize); 4] = [
    ("churn_csv", 16 * 1024),
    ("churn_artifact", 128 * 1024),
    ("event_batch", 16 * 1024),
    ("money", 256),
];

const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Fuzzes `targets` (all when empty) for `seconds` each.
pub fn fuzz(ws: &Workspace, targets: &[String], seconds: u32) -> Result<()> {
    ensure_cargo_fuzz(ws)?;
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    if let Some(unknown) = targets.iter().find(|t| !names.contains(&t.as_str())) {
        bail!(
            "no fuzz target `{unknown}`; the targets: {}",
            names.join(", ")
        );
    }
    let chosen = TARGETS
        .iter()
        .filter(|(name, _)| targets.is_empty() || targets.iter().any(|t| t == name));
    let started = Instant::now();
    println!("building the fuzz targets");
    cmd::run(&mut cargo_fuzz(ws, "build")).context("building the fuzz targets failed")?;
    println!(
        "==> fuzz targets built in {} s",
        started.elapsed().as_secs()
    );
    for &(target, max_len) in chosen {
        let corpus = corpus_dir(ws, target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let mut run = cargo_fuzz(ws, "run");
        run.arg(target).arg(&corpus);
        let seeds = ws.root().join("fuzz/seeds").join(target);
        if seeds.is_dir() {
            run.arg(seeds);
        }
        run.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={max_len}"))
            // Fixed seed: a run is repeatable from the same corpus.
            .arg("-seed=20261206")
            .arg("-print_final_stats=1");
        println!("==> fuzzing {target} for {seconds} s");
        cmd::run(&mut run).with_context(|| {
            format!(
                "fuzz target {target} found a crash: the input is in fuzz/artifacts/{target}/ \
                 (replay with `cargo fuzz run -s none {target} <file>` in fuzz/)"
            )
        })?;
    }
    Ok(())
}

/// `cargo fuzz <action>` in stable mode, with the workspace's target directory.
fn cargo_fuzz(ws: &Workspace, action: &str) -> std::process::Command {
    let mut command = cmd::cargo(&ws.root().join("fuzz"));
    command
        .args(["fuzz", action, "--dev", "--sanitizer", "none"])
        // storefront-api's queries are checked against its committed `.sqlx` metadata.
        .env("SQLX_OFFLINE", "true");
    command
}

/// The growing corpus of a target, kept with the builds (outside the clone in CI).
fn corpus_dir(ws: &Workspace, target: &str) -> PathBuf {
    ws.target_dir().join("fuzz-corpus").join(target)
}

fn ensure_cargo_fuzz(ws: &Workspace) -> Result<()> {
    let installed = cmd::cargo(ws.root())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return Ok(());
    }
    println!("cargo-fuzz is missing (runs the parsers' fuzz targets); installing it");
    cmd::run(cmd::cargo(ws.root()).args([
        "install",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
        "--locked",
    ]))
    .context("installing cargo-fuzz failed")
}
