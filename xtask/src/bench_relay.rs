//! The outbox relay's throughput, measured by `cargo xtask bench`: the release API of the
//! local stack relays a burst of messages to the example webhook receiver on loopback, and
//! the same receiver is loaded by wrk alone in the same run — the ceiling no relay could
//! beat on this machine.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{cmd, process::tcp_accepts, services::postgres, stack::HOST, workspace::Workspace};

/// Where the receiver listens.
const RECEIVER_PORT: u16 = 9123;
/// Messages in the burst.
const MESSAGES: i64 = 20_000;
/// A fixed secret: the receiver does not check it, the relay signs with it.
const SECRET: &str = "whsec_bmV4dXMtYmVuY2htYXJrLXNlY3JldC0yMDI2";
/// The topic the benchmark's endpoint takes; its messages are marked `"bench": true`.
const TOPIC: &str = "stock.low";
/// How long the burst may take before the benchmark gives up.
const BURST_TIMEOUT: Duration = Duration::from_secs(600);

/// One wrk POST to the receiver, each with a fresh id (it drops repeated ids, as receivers
/// should, and counts new ones).
const POST_SCRIPT: &str = r#"
local n = 0
request = function()
  n = n + 1
  local body = '{"id":"bench-' .. n .. '","type":"stock.low","timestamp":"2026-12-06T00:00:00Z","data":{"n":' .. n .. '}}'
  return wrk.format("POST", "/hooks", {["content-type"] = "application/json",
    ["webhook-id"] = "wrk-" .. math.random(1, 1000000000) .. "-" .. n}, body)
end
"#;

/// Kills the receiver when the benchmark ends, however it ends.
struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Measures the relay and its ceiling; returns the Markdown table's rows.
pub fn measure(ws: &Workspace, seconds: u32, connections: u32) -> Result<Vec<String>> {
    let receiver = start_receiver(ws)?;
    let url = format!("http://{HOST}:{RECEIVER_PORT}/hooks");

    let script = ws.nexus_dir().join("bench/post-webhook.lua");
    std::fs::write(&script, POST_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let wrk = cmd::output(
        Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{seconds}s"),
                "--latency",
            ])
            .arg("-s")
            .arg(&script)
            .arg(&url),
    )
    .context("wrk against the receiver failed")?;
    let ceiling = crate::bench::WrkResult::parse(&wrk)?.requests_per_sec;

    let endpoint = sql(&format!(
        "INSERT INTO webhook_endpoints (url, topics, description, secret) \
         VALUES ('{url}', ARRAY['{TOPIC}'], 'cargo xtask bench', '{SECRET}') RETURNING id"
    ))?;
    let started = Instant::now();
    sql(&format!(
        "INSERT INTO outbox (topic, payload) \
         SELECT '{TOPIC}', jsonb_build_object('bench', true, 'n', n) \
           FROM generate_series(1, {MESSAGES}) AS n"
    ))?;
    let delivered = loop {
        let delivered: i64 = sql(&format!(
            "SELECT count(*) FROM webhook_deliveries \
              WHERE endpoint_id = '{endpoint}' AND status = 'delivered'"
        ))?
        .parse()
        .context("a count")?;
        if delivered >= MESSAGES || started.elapsed() > BURST_TIMEOUT {
            break delivered;
        }
        thread::sleep(Duration::from_millis(100));
    };
    let elapsed = started.elapsed();
    let failed_attempts = sql(&format!(
        "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
          WHERE d.endpoint_id = '{endpoint}' AND a.error IS NOT NULL"
    ))?;
    // The burst leaves nothing behind: its endpoint (with its log) and its messages go.
    sql(&format!(
        "DELETE FROM webhook_endpoints WHERE id = '{endpoint}'; \
         DELETE FROM outbox WHERE topic = '{TOPIC}' AND payload ? 'bench'"
    ))?;
    drop(receiver);
    if delivered < MESSAGES {
        bail!(
            "the relay delivered {delivered} of {MESSAGES} messages within {} s",
            BURST_TIMEOUT.as_secs()
        );
    }
    let rate = MESSAGES as f64 / elapsed.as_secs_f64();
    Ok(vec![
        format!(
            "| relay: {MESSAGES} messages, outbox to receiver (fan-out, lease, signed POST, log) | {rate:.0} | {:.1} s | {failed_attempts} |",
            elapsed.as_secs_f64()
        ),
        format!(
            "| ceiling: wrk POSTs to the same receiver (-c{connections}, {seconds} s) | {ceiling:.0} | | |"
        ),
    ])
}

fn start_receiver(ws: &Workspace) -> Result<Receiver> {
    cmd::run(cmd::cargo(ws.root()).args([
        "build",
        "--release",
        "-p",
        "storefront-api",
        "--example",
        "webhook-receiver",
    ]))
    .context("building the example webhook receiver failed")?;
    let binary = ws.target_dir().join("release/examples/webhook-receiver");
    let child = Command::new(&binary)
        .args(["--port", &RECEIVER_PORT.to_string(), "--quiet"])
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let receiver = Receiver(child);
    let address: SocketAddr = format!("{HOST}:{RECEIVER_PORT}").parse()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tcp_accepts(address) {
        if Instant::now() > deadline {
            bail!("the webhook receiver did not listen on {address}");
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(receiver)
}

/// Runs SQL on the local stack's database and returns what it printed (unaligned).
fn sql(statement: &str) -> Result<String> {
    let out = cmd::output(postgres::psql("nexus").args(["-t", "-A", "-c", statement]))
        .context("psql failed")?;
    Ok(out.lines().next().unwrap_or_default().trim().to_owned())
}
