//! `cargo xtask down`: stops exactly the processes `up`/`test` started — those recorded in
//! `.nexus/run/*.pid` — and nothing else: the machine's own PostgreSQL and Redis are never
//! touched. Stale pid files are removed.

use std::fs;
use std::io::ErrorKind;

use anyhow::{Context, Result};

use crate::process;
use crate::services::postgres;
use crate::stack::{GATEWAY, MAILDEV, MAX_INSTANCES, MONGO, Managed, POSTGRES, REDIS, SHOP};
use crate::workspace::Workspace;

/// Stopped in this order: the gateway, the shop, the API instances, then what they depend on.
fn signalled() -> Vec<Managed> {
    let instances = (0..MAX_INSTANCES).map(crate::api::instance);
    [GATEWAY, SHOP]
        .into_iter()
        .chain(instances)
        .chain([MAILDEV, MONGO, REDIS])
        .collect()
}

pub fn down(ws: &Workspace) -> Result<()> {
    let mut stopped = Vec::new();
    for managed in signalled() {
        if let Some(pid) = process::stop_tracked(ws, &managed)? {
            stopped.push(format!("{} (pid {pid})", managed.name));
        }
    }
    if let Some(pid) = postgres::stop_local(ws)? {
        stopped.push(format!("{} (pid {pid})", POSTGRES.name));
    }
    report_unknown_pid_files(ws)?;
    if stopped.is_empty() {
        println!("nothing to stop: no process started by `cargo xtask up` is running");
    } else {
        println!("stopped: {}", stopped.join(", "));
    }
    Ok(())
}

/// Mentions pid files that `down` does not know (it never signals those).
fn report_unknown_pid_files(ws: &Workspace) -> Result<()> {
    let run_dir = ws.run_dir();
    let entries = match fs::read_dir(&run_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("cannot list {}", run_dir.display())),
    };
    let known: Vec<String> = signalled()
        .iter()
        .chain([&POSTGRES])
        .map(|managed| format!("{}.pid", managed.name))
        .collect();
    for entry in entries {
        let name = entry
            .with_context(|| format!("cannot list {}", run_dir.display()))?
            .file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".pid") && !known.iter().any(|k| *k == name) {
            println!(
                "left alone: {} (not a process `up` starts)",
                ws.rel(&run_dir.join(&*name))
            );
        }
    }
    Ok(())
}
