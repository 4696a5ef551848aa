//! `cargo xtask up`: ensures the backing services, builds `storefront-api`, runs its `migrate`,
//! `demo-data` and `demo-retention` subcommands (the shop, then its churn model, scores and
//! campaigns), (re)starts `storefront-api serve` detached, waits for `GET /readyz` to return
//! 200 and prints where everything is. With `--instances N` it starts N instances of the API
//! and puts the nginx gateway in front of them and the shop (`crate::gateway`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::stack::{
    API, API_ENV, API_PORT, API_READY_TIMEOUT_SECS, DEMO_LOGINS, HOST, MAX_INSTANCES, Managed,
};
use crate::workspace::Workspace;
use crate::{cmd, process, services, shop};

/// Path polled until the API reports itself ready.
const READINESS_PATH: &str = "/readyz";

pub fn up(ws: &Workspace, debug: bool, instances: usize) -> Result<()> {
    if !(1..=MAX_INSTANCES).contains(&instances) {
        bail!("--instances takes 1 to {MAX_INSTANCES} API instances, not {instances}");
    }
    if instances > 1 {
        crate::prerequisites::ensure_for_gateway()?;
    }
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
    // Instances a previous `up --instances` started beyond this run's number, and its
    // gateway, stop: what runs is what this command asked for.
    for index in instances..MAX_INSTANCES {
        process::stop_tracked(ws, &instance(index))?;
    }
    crate::gateway::stop(ws)?;
    let behind_gateway = instances > 1;
    for index in 0..instances {
        serve(ws, &binary, index, behind_gateway)?;
    }
    let shop = shop::build(ws, !debug)?;
    shop::serve(ws, &shop)?;
    if behind_gateway {
        let ports: Vec<u16> = (0..instances).map(instance_port).collect();
        let gateway = crate::gateway::serve(ws, &ports)?;
        print_summary(ws);
        crate::gateway::print_summary(&gateway, &ports);
    } else {
        print_summary(ws);
    }
    Ok(())
}

/// The `index`-th API instance (0-based): the first is the API of a plain `up`, on its port;
/// the others follow on the next ports, each with its own pid and log file.
pub fn instance(index: usize) -> Managed {
    match index {
        0 => API,
        _ => Managed {
            name: crate::stack::INSTANCE_NAMES[index],
            cmdline_marker: API.cmdline_marker,
        },
    }
}

pub fn instance_port(index: usize) -> u16 {
    API_PORT + u16::try_from(index).expect("a handful of instances")
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
    instance_address(0)
}

fn instance_address(index: usize) -> SocketAddr {
    let host: IpAddr = HOST.parse().expect("HOST is an IP address");
    SocketAddr::new(host, instance_port(index))
}

/// Replaces instance `index` started by an earlier `up`, then starts the new build and waits
/// for it. Behind the gateway, instances are named `api-<n>` in `x-nexus-instance`, take the
/// client's address from the gateway's `X-Forwarded-For`, and link emails to the gateway.
fn serve(ws: &Workspace, binary: &Path, index: usize, behind_gateway: bool) -> Result<()> {
    let managed = instance(index);
    let address = instance_address(index);
    process::stop_tracked(ws, &managed)?;
    if process::tcp_accepts(address) {
        bail!(
            "{address} is already taken by a process that `cargo xtask up` did not start; \
             stop it and run `cargo xtask up` again"
        );
    }
    let log = ws.log_file(managed.name);
    let mut serve = api_command(ws, binary, "serve");
    serve.env("NEXUS_HTTP__PORT", address.port().to_string());
    if behind_gateway {
        serve
            .env("NEXUS_HTTP__INSTANCE_NAME", format!("api-{}", index + 1))
            .env("NEXUS_HTTP__TRUST_FORWARDED_FOR", "true");
        cmd::env_default(
            &mut serve,
            "NEXUS_SHOP__PUBLIC_URL",
            crate::gateway::https_url(),
        );
    }
    let mut child = process::spawn_detached(&mut serve, &log, &ws.pid_file(managed.name))?;
    wait_until_ready(&mut child, address, &log)
}

fn wait_until_ready(child: &mut Child, address: SocketAddr, log: &Path) -> Result<()> {
    println!(
        "waiting up to {API_READY_TIMEOUT_SECS} s for GET http://{address}{READINESS_PATH} to return 200"
    );
    let timeout = Duration::from_secs(API_READY_TIMEOUT_SECS);
    let ready = process::poll_until(timeout, || {
        process::ensure_alive(child, "storefront-api serve", log)?;
        Ok(http_status(address, READINESS_PATH).ok() == Some(200))
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
