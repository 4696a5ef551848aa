//! `cargo xtask up`: ensures the backing services, builds `storefront-api`, runs its `migrate`,
//! `demo-data` and `demo-retention` subcommands (the shop, then its churn model, scores and
//! campaigns), (re)starts `storefront-api serve` detached, waits for `GET /readyz` to return
//! 200 and prints where everything is.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::stack::{API, API_ENV, API_PORT, API_READY_TIMEOUT_SECS, DEMO_LOGINS, HOST};
use crate::workspace::Workspace;
use crate::{cmd, process, services, shop};

/// Path polled until the API reports itself ready.
const READINESS_PATH: &str = "/readyz";

pub fn up(ws: &Workspace, debug: bool) -> Result<()> {
    services::ensure_all(ws)?;
    services::mail::ensure(ws)?;
    let binary = build(ws, debug)?;
    cmd::run(&mut api_command(ws, &binary, "migrate"))
        .context("`storefront-api migrate` failed")?;
    cmd::run(&mut api_command(ws, &binary, "demo-data"))
        .context("`storefront-api demo-data` failed")?;
    // Before `serve`: the API starts with the model active, and its relay sends the running
    // campaign's offers to the mail catcher.
    cmd::run(&mut api_command(ws, &binary, "demo-retention"))
        .context("`storefront-api demo-retention` failed")?;
    serve(ws, &binary)?;
    let shop = shop::build(ws, !debug)?;
    shop::serve(ws, &shop)?;
    print_summary(ws);
    Ok(())
}

/// Builds storefront-api and returns the path of its binary.
fn build(ws: &Workspace, debug: bool) -> Result<PathBuf> {
    let mut build = cmd::cargo(ws.root());
    build.args(["build", "-p", "storefront-api"]);
    if !debug {
        build.arg("--release");
    }
    // The same committed query metadata as CI, unless the user chose otherwise.
    cmd::env_default(&mut build, "SQLX_OFFLINE", "true");
    cmd::run(&mut build).context("building storefront-api failed")?;
    let profile = if debug { "debug" } else { "release" };
    let binary = ws.target_dir().join(profile).join("storefront-api");
    if !binary.exists() {
        bail!(
            "cargo built storefront-api but {} is missing; if a cargo config sets build.target-dir, \
             set CARGO_TARGET_DIR to the same directory",
            binary.display()
        );
    }
    Ok(binary)
}

/// `storefront-api SUBCOMMAND` with the local stack's environment (unless already set).
fn api_command(ws: &Workspace, binary: &Path, subcommand: &str) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(ws.root()).arg(subcommand);
    for (key, value) in API_ENV {
        cmd::env_default(&mut command, key, value);
    }
    command
}

pub fn api_address() -> SocketAddr {
    let host: IpAddr = HOST.parse().expect("HOST is an IP address");
    SocketAddr::new(host, API_PORT)
}

/// Replaces a previous `serve` started by `up`, then starts the new build and waits for it.
fn serve(ws: &Workspace, binary: &Path) -> Result<()> {
    process::stop_tracked(ws, &API)?;
    if process::tcp_accepts(api_address()) {
        bail!(
            "{HOST}:{API_PORT} is already taken by a process that `cargo xtask up` did not start; \
             stop it and run `cargo xtask up` again"
        );
    }
    let log = ws.log_file(API.name);
    let mut serve = api_command(ws, binary, "serve");
    let mut child = process::spawn_detached(&mut serve, &log, &ws.pid_file(API.name))?;
    wait_until_ready(&mut child, &log)
}

fn wait_until_ready(child: &mut Child, log: &Path) -> Result<()> {
    println!(
        "waiting up to {API_READY_TIMEOUT_SECS} s for GET http://{HOST}:{API_PORT}{READINESS_PATH} to return 200"
    );
    let timeout = Duration::from_secs(API_READY_TIMEOUT_SECS);
    let ready = process::poll_until(timeout, || {
        process::ensure_alive(child, "storefront-api serve", log)?;
        Ok(http_status(api_address(), READINESS_PATH).ok() == Some(200))
    })?;
    if ready {
        return Ok(());
    }
    let message = format!(
        "storefront-api did not return 200 on {READINESS_PATH} within {API_READY_TIMEOUT_SECS} s \
         (it is still running as pid {}; stop it with `cargo xtask down`)",
        child.id()
    );
    Err(process::failure_with_log(&message, log))
}

/// The status code of a plain HTTP/1.1 `GET path` on `addr`.
fn http_status(addr: SocketAddr, path: &str) -> Result<u16> {
    http_get(addr, path).map(|(status, _)| status)
}

/// Status code and body of a plain HTTP/1.1 `GET path` on `addr` (the connection is closed by
/// the server after the response, so the body is everything after the headers).
pub fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    let mut response = String::new();
    reader.read_to_string(&mut response)?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, body)| body.to_owned());
    Ok((status, body))
}

fn print_summary(ws: &Workspace) {
    let base = format!("http://{HOST}:{API_PORT}");
    println!();
    println!("Nexus is up.");
    println!(
        "  shop       {}   <- open this in a browser",
        shop::shop_url()
    );
    println!("  API        {base}/api/v1");
    println!("  docs       {base}/docs");
    println!("  OpenAPI    {base}/openapi.json");
    println!("  metrics    {base}/metrics");
    println!("  readiness  {base}{READINESS_PATH}");
    println!(
        "  emails     {}   <- what the shop sends (order confirmations, offers, password resets)",
        services::mail::inbox_url()
    );
    println!("  logs       {}", ws.logs_dir().display());
    println!("demo logins:");
    for login in DEMO_LOGINS {
        println!("  {:<9} {:<22} {}", login.role, login.email, login.password);
    }
    println!("stop with: cargo xtask down");
}
