//! `cargo xtask sqlx-prepare`: regenerates the sqlx offline query metadata in
//! `storefront-api/.sqlx` without the sqlx CLI. The migrations are applied with psql to a
//! freshly recreated scratch database, storefront-api is re-checked with the query macros
//! online, writing their metadata to a fresh staging directory, and that directory then
//! replaces `.sqlx` (so metadata of deleted queries vanishes).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::services::postgres;
use crate::stack::POSTGRES_SERVER_URL;
use crate::workspace::Workspace;

/// Scratch database the query macros are checked against.
const DATABASE: &str = "nexus_sqlx_prepare";
/// sqlx runs a migration outside a transaction when it starts with this line.
const NO_TRANSACTION_MARKER: &str = "-- no-transaction";

pub fn prepare(ws: &Workspace) -> Result<()> {
    ws.ensure_state_dirs()?;
    postgres::ensure(ws)?;
    recreate_database()?;
    apply_migrations(ws)?;
    let staging = fresh_staging_dir()?;
    let result = regenerate(ws, &staging);
    fs::remove_dir_all(&staging).with_context(|| format!("cannot remove {}", staging.display()))?;
    let count = result?;
    println!("wrote {count} query metadata files to storefront-api/.sqlx");
    Ok(())
}

fn crate_dir(ws: &Workspace) -> PathBuf {
    ws.root().join("storefront-api")
}

fn recreate_database() -> Result<()> {
    let ident = postgres::quote_ident(DATABASE);
    for sql in [
        format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)"),
        format!("CREATE DATABASE {ident}"),
    ] {
        cmd::run(postgres::psql("postgres").args(["-c", &sql]))
            .with_context(|| format!("cannot recreate the database {DATABASE}"))?;
    }
    Ok(())
}

/// Applies `storefront-api/migrations/*.sql` (not `*.down.sql`) in file-name order, each in
/// one transaction as sqlx does, unless it opts out.
fn apply_migrations(ws: &Workspace) -> Result<()> {
    let dir = crate_dir(ws).join("migrations");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    files.retain(|path| {
        let name = path.to_string_lossy();
        name.ends_with(".sql") && !name.ends_with(".down.sql")
    });
    files.sort();
    for file in &files {
        apply_migration(file)?;
    }
    Ok(())
}

fn apply_migration(file: &Path) -> Result<()> {
    let sql =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut psql = postgres::psql(DATABASE);
    if !sql.starts_with(NO_TRANSACTION_MARKER) {
        psql.arg("--single-transaction");
    }
    psql.arg("-f").arg(file);
    cmd::run(&mut psql).with_context(|| format!("migration {} failed", file.display()))
}

fn fresh_staging_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("nexus-sqlx-{}-{nanos}", std::process::id()));
    fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Re-checks storefront-api with the macros online and moves their metadata into `.sqlx`.
fn regenerate(ws: &Workspace, staging: &Path) -> Result<usize> {
    cmd::run(cmd::cargo(ws.root()).args(["clean", "-p", "storefront-api"]))?;
    let mut check = cmd::cargo(ws.root());
    check
        .args(["check", "-p", "storefront-api", "--all-targets"])
        .env("DATABASE_URL", format!("{POSTGRES_SERVER_URL}/{DATABASE}"))
        .env("SQLX_OFFLINE", "false")
        .env("SQLX_OFFLINE_DIR", staging);
    cmd::run(&mut check).context("storefront-api does not check against the migrated schema")?;
    replace_metadata(&crate_dir(ws).join(".sqlx"), staging)
}

fn replace_metadata(target: &Path, staging: &Path) -> Result<usize> {
    let mut files: Vec<PathBuf> = fs::read_dir(staging)
        .with_context(|| format!("cannot list {}", staging.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", staging.display()))?;
    files.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    if target.exists() {
        fs::remove_dir_all(target)
            .with_context(|| format!("cannot remove {}", target.display()))?;
    }
    fs::create_dir_all(target).with_context(|| format!("cannot create {}", target.display()))?;
    for file in &files {
        let Some(name) = file.file_name() else {
            bail!("unexpected path {}", file.display());
        };
        fs::copy(file, target.join(name))
            .with_context(|| format!("cannot copy {} into {}", file.display(), target.display()))?;
    }
    Ok(files.len())
}
