//! `cargo xtask bench`: brings the stack up with a release build and the demo data, then
//! measures the public catalog reads and the web shop's server-rendered pages with wrk over
//! loopback (bounded in time), checkouts and MongoDB-backed staff reads (`bench_load.rs`), and the shop's bundle and page
//! weights, and prints Markdown tables for BENCHMARKS.md. Every read scenario starts with a
//! cold catalog cache. Last, the outbox
//! relay's throughput to a local webhook receiver, beside that receiver's own ceiling
//! (`bench_relay.rs`).

use std::{fs, process::Command};

use anyhow::{Context, Result, bail};

use crate::{
    api,
    bench_load::{self, Load},
    cmd,
    prerequisites::ensure_program,
    stack::{API_PORT, API_REDIS_PREFIX, HOST, SHOP_PORT},
    workspace::Workspace,
};

/// One measured request pattern.
struct Scenario {
    name: &'static str,
    /// Which server: the API or the shop.
    base: String,
    /// A fixed path, or a Lua `request` function that varies it.
    target: Target,
}

enum Target {
    Path(String),
    Lua(&'static str),
}

/// Random price filters: thousands of distinct cache keys, so most requests reach PostgreSQL.
const UNCACHED_LISTING: &str = r#"
math.randomseed(42)
request = function()
  local min = math.random(0, 20000)
  return wrk.format("GET", "/api/v1/products?limit=24&sort=price_asc&min_price=" .. min)
end
"#;

/// Search words the demo catalog contains, plus misspellings, with a random page and page size
/// (80,000 combinations) so that most requests miss the cache and run the full-text query.
const UNCACHED_SEARCH: &str = r#"
math.randomseed(42)
local words = {"merino", "sweater", "leather", "boot", "linen", "shirt", "kettle", "lamp",
               "wireless", "headphones", "tent", "jacket", "serum", "mug", "sneker", "jaket"}
request = function()
  local q = words[math.random(#words)]
  return wrk.format("GET", "/api/v1/search?q=" .. q .. "&limit=" .. math.random(1, 100)
                    .. "&page=" .. math.random(1, 50))
end
"#;

/// A part of the benchmark to run alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The catalog import of 10,000 products, beside `COPY`.
    Import,
}

pub fn bench(
    ws: &Workspace,
    seconds: u32,
    connections: u32,
    instances: usize,
    only: Option<Part>,
) -> Result<()> {
    api::up(ws, false, instances)?;
    if only == Some(Part::Import) {
        return print_import(ws);
    }
    ensure_program("wrk", "wrk")?;
    let slug = first_product_slug()?;
    let api = format!("http://{HOST}:{API_PORT}");
    let shop = format!("http://{HOST}:{SHOP_PORT}");
    let scenarios = [
        Scenario {
            name: "product list (cached)",
            base: api.clone(),
            target: Target::Path("/api/v1/products?limit=24".into()),
        },
        Scenario {
            name: "product detail (cached)",
            base: api.clone(),
            target: Target::Path(format!("/api/v1/products/{slug}")),
        },
        Scenario {
            name: "category tree (cached)",
            base: api.clone(),
            target: Target::Path("/api/v1/categories".into()),
        },
        Scenario {
            name: "search (cached)",
            base: api.clone(),
            target: Target::Path("/api/v1/search?q=merino".into()),
        },
        Scenario {
            name: "product list, random price filter (mostly uncached)",
            base: api.clone(),
            target: Target::Lua(UNCACHED_LISTING),
        },
        Scenario {
            name: "search, random page and size (mostly uncached)",
            base: api.clone(),
            target: Target::Lua(UNCACHED_SEARCH),
        },
        Scenario {
            name: "shop: home page, server-rendered",
            base: shop.clone(),
            target: Target::Path("/".into()),
        },
        Scenario {
            name: "shop: product page, server-rendered",
            base: shop,
            target: Target::Path(format!("/products/{slug}")),
        },
    ];
    let scripts = ws.nexus_dir().join("bench");
    fs::create_dir_all(&scripts).with_context(|| format!("cannot create {}", scripts.display()))?;
    let mut rows = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        start_cold()?;
        let base = &scenario.base;
        let mut wrk = wrk(connections, seconds);
        match &scenario.target {
            Target::Path(path) => {
                wrk.arg(format!("{base}{path}"));
            }
            Target::Lua(script) => {
                let file = scripts.join(format!("scenario-{index}.lua"));
                fs::write(&file, script)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                wrk.arg("-s").arg(&file).arg(base);
            }
        }
        let output =
            cmd::output(&mut wrk).with_context(|| format!("wrk failed for {}", scenario.name))?;
        rows.push((scenario.name, WrkResult::parse(&output)?));
    }
    println!();
    println!("wrk -t2 -c{connections} -d{seconds}s --latency, release build, demo data, loopback:");
    println!();
    println!("| scenario | requests/s | p50 | p90 | p99 | non-2xx |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, result) in rows {
        println!(
            "| {name} | {:.0} | {} | {} | {} | {} |",
            result.requests_per_sec, result.p50, result.p90, result.p99, result.non_2xx
        );
    }
    print_shop_weights(ws)?;
    let relay = crate::bench_relay::measure(ws, seconds, connections)?;
    println!();
    println!("| outbox relay | messages/s (requests/s) | burst took | failed attempts |");
    println!("| --- | ---: | ---: | ---: |");
    for row in relay {
        println!("{row}");
    }
    // After the relay: its orders leave messages in the outbox, which the relay's burst must
    // not meet.
    print_loads(ws, seconds, connections, instances)?;
    print_import(ws)
}

/// The catalog import of 10,000 new products (as drafts: the shop's listings stay as they
/// were), step by step, beside `COPY` of the same file.
fn print_import(ws: &Workspace) -> Result<()> {
    let generator = bench_load::build(ws)?;
    let rows = crate::bench_import::measure(ws, &generator, &format!("http://{HOST}:{API_PORT}"))?;
    println!();
    println!("| catalog import, release build, loopback | seconds |");
    println!("| --- | ---: |");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// Checkouts at half, once and twice `connections` concurrent customers over many variants,
/// and at `connections` on one variant; the MongoDB-backed reads with 8 clients each; behind
/// the gateway, reads and checkouts through it beside the same straight to the first instance.
fn print_loads(ws: &Workspace, seconds: u32, connections: u32, instances: usize) -> Result<()> {
    let generator = bench_load::build(ws)?;
    let api = format!("http://{HOST}:{API_PORT}");
    let gateway =
        (instances > 1).then(|| (crate::gateway::https_url(), crate::gateway::authority(ws)));
    let mut loads = Vec::new();
    for customers in [(connections / 2).max(1), connections, connections * 2] {
        loads.push(Load::Checkout {
            customers,
            hot: false,
            through: None,
        });
    }
    loads.push(Load::Checkout {
        customers: connections,
        hot: true,
        through: None,
    });
    if let Some(gateway) = &gateway {
        loads.push(Load::Checkout {
            customers: connections,
            hot: false,
            through: Some(gateway.clone()),
        });
    }
    for route in [
        "dashboard",
        "churn-models",
        "customer-churn",
        "reviews",
        "activate",
    ] {
        loads.push(Load::MongoReads { route, clients: 8 });
    }
    let mut rows = Vec::new();
    for load in &loads {
        rows.push(bench_load::measure(&generator, &api, load, seconds)?);
    }
    println!();
    println!(
        "{instances} API instance{}, release build, simulated payment provider, loopback, \
         {seconds} s each:",
        if instances == 1 {
            ""
        } else {
            "s behind the gateway"
        }
    );
    println!();
    println!("| scenario | done/s | p50 | p90 | p99 | failed requests |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
    if let Some((url, _)) = &gateway {
        println!();
        println!(
            "| cached product list, wrk -t2 -c{connections} -d{seconds}s | requests/s | p50 \
             | p90 | p99 | non-2xx |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        for (name, base) in [
            ("straight to api-1", api.as_str()),
            ("through the gateway (HTTPS)", url.as_str()),
        ] {
            start_cold()?;
            let mut wrk = wrk(connections, seconds);
            wrk.arg(format!("{base}/api/v1/products?limit=24"));
            let output = cmd::output(&mut wrk).with_context(|| format!("wrk failed {name}"))?;
            let result = WrkResult::parse(&output)?;
            println!(
                "| {name} | {:.0} | {} | {} | {} | {} |",
                result.requests_per_sec, result.p50, result.p90, result.p99, result.non_2xx
            );
        }
    }
    Ok(())
}

/// wrk on two threads with `connections` for `seconds`, reporting latency percentiles.
fn wrk(connections: u32, seconds: u32) -> Command {
    let mut wrk = Command::new("wrk");
    wrk.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    wrk
}

/// The browser bundle (raw and gzipped, as served) and what the home page weighs.
fn print_shop_weights(ws: &Workspace) -> Result<()> {
    let site = ws.target_dir().join("site");
    let files = [
        ("wasm bundle", site.join("pkg/web-shop_bg.wasm")),
        ("JavaScript glue", site.join("pkg/web-shop.js")),
        ("stylesheet", site.join("assets/shop.css")),
    ];
    let addr = format!("{HOST}:{SHOP_PORT}").parse()?;
    let (status, home) = api::http_get(addr, "/")?;
    if status != 200 {
        bail!("the shop's home page answered {status}");
    }
    let html = ws.nexus_dir().join("bench/home.html");
    fs::write(&html, &home).with_context(|| format!("cannot write {}", html.display()))?;
    println!();
    println!("| shop asset | bytes | gzip -9 bytes |");
    println!("| --- | ---: | ---: |");
    let (mut raw_total, mut gzip_total) = (0, 0);
    for (name, path) in files.iter().cloned().chain([("home page HTML", html)]) {
        let raw = fs::metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        let gzip = gzipped_len(&path)?;
        raw_total += raw;
        gzip_total += gzip;
        println!("| {name} | {raw} | {gzip} |");
    }
    println!("| home page, everything above | {raw_total} | {gzip_total} |");
    Ok(())
}

fn gzipped_len(path: &std::path::Path) -> Result<u64> {
    let output = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("cannot run gzip")?;
    if !output.status.success() {
        bail!("gzip failed on {}", path.display());
    }
    Ok(output.stdout.len() as u64)
}

/// Bumps the catalog cache generation (as a staff write does), so every scenario starts with
/// a cold cache whatever ran before it.
fn start_cold() -> Result<()> {
    ensure_program("redis-cli", "redis-tools")?;
    let key = format!("{API_REDIS_PREFIX}catalog:generation");
    cmd::output(Command::new("redis-cli").args(["-h", HOST, "INCR", &key]))
        .context("could not reset the catalog cache")
        .map(drop)
}

fn first_product_slug() -> Result<String> {
    let (status, body) = api::http_get(api::api_address(), "/api/v1/products?limit=1")?;
    if status != 200 {
        bail!("GET /api/v1/products answered {status}");
    }
    let marker = "\"slug\":\"";
    // The first slug in a listing is the product's (its category's comes later in the object).
    let start = body.find(marker).context("the listing has no product")? + marker.len();
    let end = body[start..].find('"').context("unterminated slug")? + start;
    Ok(body[start..end].to_owned())
}

pub(crate) struct WrkResult {
    pub(crate) requests_per_sec: f64,
    p50: String,
    p90: String,
    p99: String,
    non_2xx: u64,
}

impl WrkResult {
    pub(crate) fn parse(output: &str) -> Result<Self> {
        let field = |prefix: &str| {
            output
                .lines()
                .map(str::trim)
                .find_map(|line| line.strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
        };
        let requests_per_sec = field("Requests/sec:")
            .and_then(|value| value.parse().ok())
            .context("wrk printed no Requests/sec")?;
        let percentile = |p: &str| field(p).unwrap_or_else(|| "?".into());
        let non_2xx = field("Non-2xx or 3xx responses:")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        Ok(Self {
            requests_per_sec,
            p50: percentile("50%"),
            p90: percentile("90%"),
            p99: percentile("99%"),
            non_2xx,
        })
    }
}
