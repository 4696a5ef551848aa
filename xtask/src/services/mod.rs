//! The backing services of the local stack: PostgreSQL, Redis and a MongoDB-wire server on
//! their standard loopback ports. Each is used as it is when it already answers; otherwise it
//! is started (and installed when missing), with its state under `.nexus/`.

pub mod mongo;
pub mod postgres;
pub mod redis;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::cmd;
use crate::workspace::Workspace;

/// Ensures PostgreSQL, Redis and the MongoDB-wire server all answer.
pub fn ensure_all(ws: &Workspace) -> Result<()> {
    ws.ensure_state_dirs()?;
    postgres::ensure(ws)?;
    redis::ensure(ws)?;
    mongo::ensure(ws)?;
    Ok(())
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// `apt-get install -y PACKAGES`, preceded (once per run) by `apt-get update`.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let context = || {
        format!(
            "cannot install {} with apt-get (are you root?)",
            packages.join(" ")
        )
    };
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        cmd::run(Command::new("apt-get").arg("update")).with_context(context)?;
    }
    cmd::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages),
    )
    .with_context(context)
}

/// Installs `package` unless `program` is already on `PATH`.
pub fn ensure_program(program: &str, package: &str) -> Result<()> {
    if cmd::on_path(program) {
        return Ok(());
    }
    println!("{program} is missing; installing the Debian package {package}");
    apt_install(&[package])
}
