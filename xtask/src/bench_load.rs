//! Checkouts and MongoDB-backed reads under load, measured by `cargo xtask bench` with the
//! load generator of storefront-client (`examples/load.rs`, on the typed client the shop and
//! the console use) against the release API of the local stack: customers adding an item and
//! checking out in a loop, at several concurrencies, over many variants and all on one —
//! behind the gateway (`bench --instances N`), through it too; and staff reading the routes
//! MongoDB answers, 8 clients at a time.

use std::{path::PathBuf, process::Command};

use anyhow::{Context, Result};

use crate::{cmd, workspace::Workspace};

/// One run of the load generator.
pub enum Load {
    Checkout {
        customers: u32,
        /// All customers buy the same variant.
        hot: bool,
        /// Through the gateway (its HTTPS address and the authority to trust), or straight
        /// to the first API instance.
        through: Option<(String, PathBuf)>,
    },
    /// `route` is one of the generator's `--route` values.
    MongoReads { route: &'static str, clients: u32 },
}

impl Load {
    pub fn describe(&self) -> String {
        match self {
            Self::Checkout {
                customers,
                hot,
                through,
            } => format!(
                "checkout, {customers} customers{}{}",
                if *hot { ", one variant" } else { "" },
                if through.is_some() {
                    ", through the gateway"
                } else {
                    ""
                }
            ),
            Self::MongoReads { route, clients } => format!("{route}, {clients} clients"),
        }
    }

    fn args(&self, command: &mut Command) {
        match self {
            Self::Checkout {
                customers,
                hot,
                through,
            } => {
                command
                    .arg("checkout")
                    .args(["--customers", &customers.to_string()]);
                if *hot {
                    command.arg("--hot");
                }
                if let Some((gateway, authority)) = through {
                    command
                        .args(["--shop-api", gateway])
                        .arg("--ca")
                        .arg(authority);
                }
            }
            Self::MongoReads { route, clients } => {
                command.arg("mongo-reads").args([
                    "--route",
                    route,
                    "--clients",
                    &clients.to_string(),
                ]);
            }
        }
    }
}

/// Builds the load generator (release) and returns its path.
pub fn build(ws: &Workspace) -> Result<PathBuf> {
    let mut build = cmd::cargo(ws.root());
    build.args([
        "build",
        "--release",
        "-p",
        "storefront-client",
        "--example",
        "load",
    ]);
    cmd::run(&mut build).context("building the load generator failed")?;
    Ok(ws.target_dir().join("release/examples/load"))
}

/// Runs `load` for `seconds` against the API at `api` and returns a Markdown table row:
/// scenario, completed per second, p50, p90, p99, failed requests.
pub fn measure(generator: &PathBuf, api: &str, load: &Load, seconds: u32) -> Result<String> {
    let mut run = Command::new(generator);
    run.args(["--api", api, "--seconds", &seconds.to_string()]);
    load.args(&mut run);
    let output = cmd::output(&mut run).with_context(|| format!("{} failed", load.describe()))?;
    let result = Measured::parse(&output)?;
    Ok(format!(
        "| {} | {:.0} | {:.1}ms | {:.1}ms | {:.1}ms | {} |",
        load.describe(),
        result.per_second,
        result.p50,
        result.p90,
        result.p99,
        result.failed
    ))
}

/// The figures the load generator prints as its last line, a JSON object.
struct Measured {
    per_second: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    failed: u64,
}

/// The load generator's result: the JSON object it prints as its last such line.
pub fn result_line(output: &str) -> Result<serde_json::Value> {
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .context("the load generator printed no result")?;
    serde_json::from_str(line).with_context(|| format!("not JSON: {line}"))
}

impl Measured {
    fn parse(output: &str) -> Result<Self> {
        let result = result_line(output)?;
        let number = |key: &str| -> Result<f64> {
            result[key]
                .as_f64()
                .with_context(|| format!("no {key} in {result}"))
        };
        Ok(Self {
            per_second: number("per_second")?,
            p50: number("p50_ms")?,
            p90: number("p90_ms")?,
            p99: number("p99_ms")?,
            failed: result["failed"].as_u64().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Measured;

    #[test]
    fn reads_the_generators_result_line() {
        let output = "warming up\n{\"customers\":32,\"done\":2740,\"failed\":0,\
                      \"failures\":{},\"hot\":false,\"p50_ms\":81.0,\"p90_ms\":99.5,\
                      \"p99_ms\":122.25,\"per_second\":274.2,\"seconds\":10.0,\
                      \"workload\":\"checkout\"}\n";
        let result = Measured::parse(output).unwrap();
        assert_eq!(result.per_second, 274.2);
        assert_eq!((result.p50, result.p90, result.p99), (81.0, 99.5, 122.25));
        assert_eq!(result.failed, 0);
    }
}
