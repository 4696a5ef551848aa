//! The MongoDB-wire server on 127.0.0.1:27017: used when the port accepts connections, else
//! `secantusd-py` (a MongoDB-compatible server from PyPI, installed into `.venv-mongo`) is
//! started detached with its data in `.nexus/mongo`.

use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use crate::stack::{HOST, MONGO, MONGO_PORT, SECANTUSDB_REQUIREMENT, SERVICE_START_TIMEOUT_SECS};
use crate::workspace::{Workspace, create_dir};
use crate::{prerequisites, process};

/// Ensures a MongoDB-wire server accepts connections on 127.0.0.1:27017.
pub fn ensure(ws: &Workspace) -> Result<()> {
    if accepts() {
        println!("MongoDB-wire server: {HOST}:{MONGO_PORT} accepts connections; using it");
        return Ok(());
    }
    ensure_venv(ws)?;
    start(ws)
}

/// Installs `secantusd-py` into `.venv-mongo` unless it is already there.
pub fn ensure_venv(ws: &Workspace) -> Result<()> {
    prerequisites::ensure_python_tool(
        &ws.secantusd(),
        SECANTUSDB_REQUIREMENT,
        "the MongoDB-wire server",
    )
}

fn address() -> SocketAddr {
    let host: IpAddr = HOST.parse().expect("HOST is an IP address");
    SocketAddr::new(host, MONGO_PORT)
}

fn accepts() -> bool {
    process::tcp_accepts(address())
}

fn start(ws: &Workspace) -> Result<()> {
    println!("MongoDB-wire server: nothing on {HOST}:{MONGO_PORT}; starting secantusd-py");
    let storage = ws.mongo_dir();
    create_dir(&storage)?;
    let log = ws.log_file(MONGO.name);
    let mut server = Command::new(ws.secantusd());
    server
        .current_dir(ws.root())
        .args(["--host", HOST, "--port", &MONGO_PORT.to_string()])
        .arg("--storage-path")
        .arg(&storage);
    let mut child = process::spawn_detached(&mut server, &log, &ws.pid_file(MONGO.name))?;
    println!(
        "waiting up to {SERVICE_START_TIMEOUT_SECS} s for {HOST}:{MONGO_PORT} to accept connections"
    );
    let timeout = Duration::from_secs(SERVICE_START_TIMEOUT_SECS);
    let ready = process::poll_until(timeout, || {
        process::ensure_alive(&mut child, "secantusd-py", &log)?;
        Ok(accepts())
    })?;
    if ready {
        println!("MongoDB-wire server: started (pid {})", child.id());
        return Ok(());
    }
    let message = format!(
        "the MongoDB-wire server did not accept connections on {HOST}:{MONGO_PORT} within {SERVICE_START_TIMEOUT_SECS} s"
    );
    Err(process::failure_with_log(&message, &log))
}
