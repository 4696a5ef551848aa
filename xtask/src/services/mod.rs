//! The backing services of the local stack: PostgreSQL, Redis and a MongoDB-wire server on
//! their standard loopback ports. Each is used as it is when it already answers; otherwise it
//! is started (and installed when missing), with its state under `.nexus/`.

pub mod mail;
pub mod mongo;
pub mod postgres;
pub mod redis;

use anyhow::Result;

use crate::workspace::Workspace;

/// Ensures PostgreSQL, Redis and the MongoDB-wire server all answer.
pub fn ensure_all(ws: &Workspace) -> Result<()> {
    ws.ensure_state_dirs()?;
    postgres::ensure(ws)?;
    redis::ensure(ws)?;
    mongo::ensure(ws)?;
    Ok(())
}
