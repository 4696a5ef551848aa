//! The nginx gateway of `up --instances N`: `infrastructure/nginx/nginx.conf` rendered for the
//! local instances by the `gateway` crate (the one the gateway tests use), in
//! `.nexus/gateway/` with a self-signed certificate, run by Debian's nginx in the foreground
//! as a tracked process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use gateway::{Gateway, Local, TEMPLATE};

use crate::stack::{
    GATEWAY, GATEWAY_HTTP_PORT, GATEWAY_HTTPS_PORT, HOST, SHOP_PORT, SHOP_READY_TIMEOUT_SECS,
};
use crate::workspace::Workspace;
use crate::{api, cmd, process};

/// Where shoppers reach the shop through the gateway.
pub fn https_url() -> String {
    format!("https://localhost:{GATEWAY_HTTPS_PORT}")
}

/// Where the rendered configuration, its certificates and nginx's temporary files live.
fn dir(ws: &Workspace) -> std::path::PathBuf {
    ws.nexus_dir().join("gateway")
}

/// The authority that signed the gateway's certificate, for clients that verify it.
pub fn authority(ws: &Workspace) -> std::path::PathBuf {
    Gateway::certificate_in(&dir(ws))
}

fn address(port: u16) -> SocketAddr {
    SocketAddr::new(HOST.parse().expect("HOST is an IP address"), port)
}

/// Starts the gateway in front of the API instances on `api_ports` and the shop, replacing
/// one an earlier `up --instances` started, and waits until it answers.
pub fn serve(ws: &Workspace, api_ports: &[u16]) -> Result<Gateway> {
    stop(ws)?;
    for port in [GATEWAY_HTTP_PORT, GATEWAY_HTTPS_PORT] {
        if process::tcp_accepts(address(port)) {
            bail!(
                "{HOST}:{port} is already taken by a process that `cargo xtask up` did not start; \
                 stop it and run `cargo xtask up --instances` again"
            );
        }
    }
    let template = std::fs::read_to_string(ws.root().join(TEMPLATE))
        .with_context(|| format!("cannot read {TEMPLATE}"))?;
    let local = Local {
        http: address(GATEWAY_HTTP_PORT),
        https: address(GATEWAY_HTTPS_PORT),
        api: api_ports.iter().copied().map(address).collect(),
        shop: address(SHOP_PORT),
    };
    let gateway = Gateway::prepare(&template, local, &dir(ws))?;
    let nginx = gateway::nginx_binary()
        .context("nginx is not installed (Debian's nginx-light; `cargo xtask up` installs it)")?;
    // A configuration nginx refuses says why here, not in a log.
    cmd::run(gateway.nginx_command(&nginx).arg("-t")).context("nginx refused the gateway")?;
    let log = ws.log_file(GATEWAY.name);
    let mut child = process::spawn_detached(
        &mut gateway.nginx_command(&nginx),
        &log,
        &ws.pid_file(GATEWAY.name),
    )?;
    let probe = address(GATEWAY_HTTP_PORT);
    let ready = process::poll_until(Duration::from_secs(SHOP_READY_TIMEOUT_SECS), || {
        process::ensure_alive(&mut child, "the gateway (nginx)", &log)?;
        Ok(api::http_get(probe, "/healthz").is_ok_and(|(status, _)| status == 200))
    })?;
    if !ready {
        return Err(process::failure_with_log(
            &format!("the gateway did not answer on {probe} within {SHOP_READY_TIMEOUT_SECS} s"),
            &log,
        ));
    }
    Ok(gateway)
}

/// Stops the gateway an earlier `up --instances` started, if it runs.
pub fn stop(ws: &Workspace) -> Result<()> {
    process::stop_tracked(ws, &GATEWAY).map(drop)
}

pub fn print_summary(gateway: &Gateway, api_ports: &[u16]) {
    println!();
    println!(
        "The gateway (infrastructure/nginx/nginx.conf) is in front of {} API instances:",
        api_ports.len()
    );
    println!(
        "  shop       {}/   <- through the gateway (a self-signed certificate: accept it once)",
        https_url()
    );
    println!("  API        {}/api/v1", https_url());
    println!("  plain HTTP {}   (redirects to HTTPS)", gateway.http_url());
    let instances: Vec<String> = api_ports
        .iter()
        .enumerate()
        .map(|(index, port)| format!("api-{} on {HOST}:{port}", index + 1))
        .collect();
    println!("  instances  {}", instances.join(", "));
    println!("  certificate {}", gateway.certificate().display());
    println!(
        "  e.g. curl --cacert {} {}/api/v1/products -sI | grep x-nexus-instance",
        gateway.certificate().display(),
        https_url()
    );
}
