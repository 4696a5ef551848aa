//! Redis on 127.0.0.1:6379: used when it answers `PING`, else a project-local `redis-server`
//! is started with its state in `.nexus/redis` (nothing persisted) and its pid file in
//! `.nexus/run/redis.pid` (written by Redis itself).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::prerequisites::ensure_program;
use crate::stack::{HOST, REDIS, REDIS_PORT, SERVICE_START_TIMEOUT_SECS};
use crate::workspace::{Workspace, create_dir};
use crate::{cmd, process};

/// Ensures Redis answers on 127.0.0.1:6379.
pub fn ensure(ws: &Workspace) -> Result<()> {
    ensure_program("redis-cli", "redis-tools")?;
    if answers() {
        println!("Redis: answering on {HOST}:{REDIS_PORT}; using it");
        return Ok(());
    }
    ensure_program("redis-server", "redis-server")?;
    if answers() {
        println!("Redis: the package's own server answers on {HOST}:{REDIS_PORT}; using it");
        return Ok(());
    }
    start_local(ws)
}

/// Whether `redis-cli ping` gets `PONG` (quiet; used in polling loops).
fn answers() -> bool {
    let port = REDIS_PORT.to_string();
    cmd::probe(
        Command::new("redis-cli").args(["-h", HOST, "-p", &port, "ping"]),
        Some("PONG"),
    )
}

fn start_local(ws: &Workspace) -> Result<()> {
    println!(
        "Redis: nothing answers on {HOST}:{REDIS_PORT}; starting a project-local redis-server"
    );
    let dir = ws.redis_dir();
    create_dir(&dir)?;
    let log = ws.log_file(REDIS.name);
    let mut server = Command::new("redis-server");
    server
        .args(["--daemonize", "yes", "--bind", HOST])
        .args(["--port", &REDIS_PORT.to_string()])
        .arg("--dir")
        .arg(&dir)
        .arg("--pidfile")
        .arg(ws.pid_file(REDIS.name))
        .arg("--logfile")
        .arg(&log)
        .args(["--save", "", "--appendonly", "no"]);
    cmd::run(&mut server).context("redis-server did not start")?;
    wait_until_answering(&log)
}

fn wait_until_answering(log: &Path) -> Result<()> {
    println!("waiting up to {SERVICE_START_TIMEOUT_SECS} s for Redis to answer PING");
    let timeout = Duration::from_secs(SERVICE_START_TIMEOUT_SECS);
    if process::poll_until(timeout, || Ok(answers()))? {
        println!("Redis: started on {HOST}:{REDIS_PORT}");
        return Ok(());
    }
    let message = format!(
        "Redis did not answer on {HOST}:{REDIS_PORT} within {SERVICE_START_TIMEOUT_SECS} s"
    );
    Err(process::failure_with_log(&message, log))
}
