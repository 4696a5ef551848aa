//! PostgreSQL on 127.0.0.1:5432, in this order of preference:
//! 1. whatever already answers `pg_isready` there;
//! 2. the project-local cluster in `.nexus/postgres`, if one was created before;
//! 3. a Debian cluster on port 5432 (`pg_lsclusters`), started with `pg_ctlcluster`;
//! 4. after `apt-get install postgresql` (when no server binaries exist): the package's own
//!    cluster if it made one, else a new project-local cluster (trust auth, user `postgres`).
//!
//! Only the project-local cluster is tracked in `.nexus/run/postgres.pid` and stopped by
//! `down`; the machine's own clusters are never stopped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::prerequisites::{apt_install, ensure_program};
use crate::stack::{HOST, POSTGRES, POSTGRES_PORT, POSTGRES_USER, SERVICE_START_TIMEOUT_SECS};
use crate::workspace::{Workspace, create_dir};
use crate::{cmd, process};

/// Where Debian installs the server binaries, one directory per major version.
const PG_LIB_DIR: &str = "/usr/lib/postgresql";

/// Ensures PostgreSQL answers on 127.0.0.1:5432.
pub fn ensure(ws: &Workspace) -> Result<()> {
    ensure_program("pg_isready", "postgresql-client")?;
    if answers() {
        println!("PostgreSQL: answering on {HOST}:{POSTGRES_PORT}; using it");
        return keep_tracking_local(ws);
    }
    if ws.postgres_data_dir().join("PG_VERSION").exists() {
        return start_local(ws);
    }
    if let Some(cluster) = debian_cluster()? {
        return start_debian_cluster(&cluster);
    }
    if latest_server_version()?.is_none() {
        apt_install(&["postgresql"])?;
        if answers() {
            println!("PostgreSQL: the package's own cluster answers; using it");
            return Ok(());
        }
        if let Some(cluster) = debian_cluster()? {
            return start_debian_cluster(&cluster);
        }
    }
    init_local(ws)?;
    start_local(ws)
}

/// `psql` connected as the superuser to `database`, stopping at the first error.
pub fn psql(database: &str) -> Command {
    let mut psql = Command::new("psql");
    psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST])
        .args([
            "-p",
            &POSTGRES_PORT.to_string(),
            "-U",
            POSTGRES_USER,
            "-d",
            database,
        ]);
    psql
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Stops the project-local cluster if `up`/`test` started it. Returns its pid, if stopped.
pub fn stop_local(ws: &Workspace) -> Result<Option<u32>> {
    let Some(pid) = process::tracked_pid(ws, &POSTGRES)? else {
        return Ok(None);
    };
    let data = ws.postgres_data_dir();
    let mut stop = as_postgres(&pg_ctl(&data)?);
    stop.arg("-D")
        .arg(&data)
        .args(["-m", "fast", "-w", "-t", "30", "stop"]);
    cmd::run(&mut stop).context("pg_ctl could not stop the project-local PostgreSQL")?;
    process::remove_file(&ws.pid_file(POSTGRES.name))?;
    println!("stopped {} (pid {pid})", POSTGRES.name);
    Ok(Some(pid))
}

/// Whether `pg_isready` reports the server accepting connections (quiet).
fn answers() -> bool {
    let port = POSTGRES_PORT.to_string();
    cmd::probe(
        Command::new("pg_isready").args(["-h", HOST, "-p", &port]),
        None,
    )
}

/// A Debian cluster configured for port 5432, as `pg_lsclusters` lists it.
#[derive(Debug)]
struct Cluster {
    version: String,
    name: String,
    online: bool,
    log: String,
}

fn debian_cluster() -> Result<Option<Cluster>> {
    if !cmd::on_path("pg_lsclusters") {
        return Ok(None);
    }
    // Columns: version, name, port, status, owner, data directory, log file.
    let listing = cmd::output(Command::new("pg_lsclusters").arg("--no-header"))?;
    let port = POSTGRES_PORT.to_string();
    Ok(listing.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [version, name, p, status, rest @ ..] if *p == port => Some(Cluster {
                version: (*version).to_owned(),
                name: (*name).to_owned(),
                online: status.starts_with("online"),
                log: rest.get(2).map_or_else(
                    || format!("/var/log/postgresql/postgresql-{version}-{name}.log"),
                    |log| (*log).to_owned(),
                ),
            }),
            _ => None,
        }
    }))
}

fn start_debian_cluster(cluster: &Cluster) -> Result<()> {
    let Cluster { version, name, .. } = cluster;
    if cluster.online {
        println!("PostgreSQL: the machine's cluster {version} {name} is starting up");
    } else {
        println!("PostgreSQL: starting the machine's cluster {version} {name}");
        cmd::run(
            Command::new("pg_ctlcluster")
                .arg("--skip-systemctl-redirect")
                .args([version, name, "start"]),
        )
        .with_context(|| format!("pg_ctlcluster could not start; see {}", cluster.log))?;
    }
    wait_until_answering(Path::new(&cluster.log))
}

/// The highest major version with server binaries under /usr/lib/postgresql.
fn latest_server_version() -> Result<Option<u32>> {
    let Ok(entries) = fs::read_dir(PG_LIB_DIR) else {
        return Ok(None);
    };
    let mut versions = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {PG_LIB_DIR}"))?;
        let version = entry.file_name().to_string_lossy().parse::<u32>();
        if let Ok(version) = version
            && entry.path().join("bin/initdb").exists()
        {
            versions.push(version);
        }
    }
    Ok(versions.into_iter().max())
}

fn bin_dir(version: &str) -> PathBuf {
    Path::new(PG_LIB_DIR).join(version).join("bin")
}

/// `pg_ctl` of the major version that created the project-local cluster.
fn pg_ctl(data: &Path) -> Result<PathBuf> {
    let version_file = data.join("PG_VERSION");
    let version = fs::read_to_string(&version_file)
        .with_context(|| format!("cannot read {}", version_file.display()))?;
    let pg_ctl = bin_dir(version.trim()).join("pg_ctl");
    if !pg_ctl.exists() {
        bail!(
            "{} was created by PostgreSQL {} but {} is missing",
            data.display(),
            version.trim(),
            pg_ctl.display()
        );
    }
    Ok(pg_ctl)
}

/// `runuser -u postgres -- PROGRAM` (initdb and the server refuse to run as root).
fn as_postgres(program: &Path) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", POSTGRES_USER, "--"]).arg(program);
    command
}

fn init_local(ws: &Workspace) -> Result<()> {
    let Some(version) = latest_server_version()? else {
        bail!("no PostgreSQL server binaries under {PG_LIB_DIR} even after installing postgresql");
    };
    let data = ws.postgres_data_dir();
    println!(
        "PostgreSQL: creating a project-local cluster in {}",
        ws.rel(&data)
    );
    create_dir(&data)?;
    create_dir(&ws.postgres_socket_dir())?;
    chown_to_postgres(&ws.postgres_dir())?;
    let mut initdb = as_postgres(&bin_dir(&version.to_string()).join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["--auth=trust", "-U", POSTGRES_USER, "-E", "UTF8"]);
    cmd::run(&mut initdb).context("initdb failed for the project-local PostgreSQL cluster")
}

fn start_local(ws: &Workspace) -> Result<()> {
    let data = ws.postgres_data_dir();
    let log = ws.log_file(POSTGRES.name);
    println!(
        "PostgreSQL: starting the project-local cluster in {}",
        ws.rel(&data)
    );
    create_dir(&ws.postgres_socket_dir())?;
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("cannot create {}", log.display()))?;
    chown_to_postgres(&ws.postgres_dir())?;
    chown_to_postgres(&log)?;
    let options = format!(
        "-p {POSTGRES_PORT} -c listen_addresses={HOST} -k {}",
        ws.postgres_socket_dir().display()
    );
    let mut start = as_postgres(&pg_ctl(&data)?);
    start
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-o", &options, "-w", "-t", "30", "start"]);
    cmd::run(&mut start)
        .with_context(|| format!("pg_ctl could not start PostgreSQL; see {}", log.display()))?;
    record_postmaster_pid(ws)?;
    wait_until_answering(&log)
}

/// When the server that answers is the project-local cluster, makes sure its pid file exists
/// (so `down` still stops it after the pid file was lost).
fn keep_tracking_local(ws: &Workspace) -> Result<()> {
    if !ws.postgres_data_dir().join("postmaster.pid").exists()
        || process::tracked_pid(ws, &POSTGRES)?.is_some()
    {
        return Ok(());
    }
    let pid = postmaster_pid(ws)?;
    if process::is_running(pid, POSTGRES.cmdline_marker) {
        println!("PostgreSQL: tracking the running project-local cluster (pid {pid}) again");
        process::write_pid(&ws.pid_file(POSTGRES.name), pid)?;
    }
    Ok(())
}

/// Copies the postmaster's pid to `.nexus/run/postgres.pid`.
fn record_postmaster_pid(ws: &Workspace) -> Result<()> {
    process::write_pid(&ws.pid_file(POSTGRES.name), postmaster_pid(ws)?)
}

/// The pid on the first line of the project-local cluster's `postmaster.pid`.
fn postmaster_pid(ws: &Workspace) -> Result<u32> {
    let file = ws.postgres_data_dir().join("postmaster.pid");
    let text =
        fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    text.lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .with_context(|| format!("{} holds no pid", file.display()))
}

fn chown_to_postgres(path: &Path) -> Result<()> {
    let owner = format!("{POSTGRES_USER}:{POSTGRES_USER}");
    cmd::run(Command::new("chown").args(["-R", &owner]).arg(path))
}

fn wait_until_answering(log: &Path) -> Result<()> {
    println!("waiting up to {SERVICE_START_TIMEOUT_SECS} s for PostgreSQL to answer pg_isready");
    let timeout = Duration::from_secs(SERVICE_START_TIMEOUT_SECS);
    if process::poll_until(timeout, || Ok(answers()))? {
        println!("PostgreSQL: answering on {HOST}:{POSTGRES_PORT}");
        return Ok(());
    }
    bail!(
        "PostgreSQL did not answer on {HOST}:{POSTGRES_PORT} within {SERVICE_START_TIMEOUT_SECS} s; see {}",
        log.display()
    )
}
