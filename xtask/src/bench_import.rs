//! The catalog import, measured by `cargo xtask bench`: the load generator writes a file of
//! 10,000 new products and times, as staff through the release API of the local stack, its
//! dry run, its import, the same import again (nothing to change) and an export of the whole
//! catalog. Beside it, in the same run, PostgreSQL's `COPY` loads the same file into an
//! unindexed table: the floor no import that checks every cell, locks, indexes, audits and
//! writes the stock ledger could beat on this machine.

use std::{path::Path, time::Instant};

use anyhow::{Context, Result};

use crate::{cmd, services::postgres, workspace::Workspace};

/// Products in the file: the "10,000 products import in under a minute".
const PRODUCTS: usize = 10_000;

/// The file's columns, for the `COPY` table.
const COLUMNS: &str = "product_slug text, product_name text, description text, category text, \
                       currency text, sku text, variant_title text, options text, price text, \
                       stock text";

/// Measures the import and its ceiling; returns the Markdown table's rows.
pub fn measure(ws: &Workspace, generator: &Path, api: &str) -> Result<Vec<String>> {
    let file = ws.nexus_dir().join("bench/catalog-import.csv");
    // The generator writes the file; on a first run its folder does not exist yet.
    if let Some(folder) = file.parent() {
        crate::workspace::create_dir(folder)?;
    }
    let mut run = std::process::Command::new(generator);
    run.args(["--api", api, "catalog-import", "--products"])
        .arg(PRODUCTS.to_string())
        .arg("--file")
        .arg(&file);
    let output = cmd::output(&mut run).context("the catalog import benchmark failed")?;
    let result = crate::bench_load::result_line(&output)?;
    let seconds = |key: &str| -> Result<f64> {
        result[key]
            .as_f64()
            .with_context(|| format!("no {key} in {result}"))
    };

    let started = Instant::now();
    let copy = format!(
        "\\copy import_ceiling FROM '{}' WITH (FORMAT csv, HEADER true)",
        file.display()
    );
    cmd::output(
        postgres::psql("nexus")
            .arg("-c")
            .arg(format!("CREATE TEMP TABLE import_ceiling ({COLUMNS})"))
            .arg("-c")
            .arg(copy),
    )
    .context("COPY of the benchmark's file failed")?;
    let ceiling = started.elapsed().as_secs_f64();

    let exported = result["export_bytes"].as_u64().unwrap_or_default();
    Ok(vec![
        format!(
            "| dry run (every cell checked, nothing written) | {:.2} |",
            seconds("dry_run_s")?
        ),
        format!(
            "| import (10,000 products and variants, stock ledger, audit) | {:.2} |",
            seconds("import_s")?
        ),
        format!(
            "| the same file again (nothing to change) | {:.2} |",
            seconds("again_s")?
        ),
        format!(
            "| export of the whole catalog ({:.1} MB) | {:.2} |",
            exported as f64 / 1e6,
            seconds("export_s")?
        ),
        format!(
            "| ceiling: `COPY` of the same file into an unindexed table (psql) | {ceiling:.2} |"
        ),
    ])
}
