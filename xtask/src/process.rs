//! Background processes started by `up`/`test`: detached spawning, pid files under
//! `.nexus/run/`, liveness checks, bounded waits and stopping.

use std::fs;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::cmd;
use crate::stack::{LOG_TAIL_LINES, Managed, STOP_TIMEOUT_SECS};
use crate::workspace::Workspace;

/// Pause between two checks of a bounded polling loop.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Spawns `command` in its own process group (so Ctrl-C on the terminal does not reach it),
/// with stdin closed and stdout/stderr appended to `log`, and records its pid in `pid_file`.
pub fn spawn_detached(command: &mut Command, log: &Path, pid_file: &Path) -> Result<Child> {
    // Appended, not truncated: the log of an earlier run stays readable after a restart.
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open log {}", log.display()))?;
    let err = out
        .try_clone()
        .context("cannot duplicate the log file handle")?;
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    println!("$ {} >{} 2>&1 &", cmd::render(command), log.display());
    let child = command
        .spawn()
        .with_context(|| format!("cannot start `{}`", cmd::render(command)))?;
    write_pid(pid_file, child.id())?;
    Ok(child)
}

pub fn write_pid(pid_file: &Path, pid: u32) -> Result<()> {
    fs::write(pid_file, format!("{pid}\n"))
        .with_context(|| format!("cannot write pid file {}", pid_file.display()))
}

/// The pid recorded in `pid_file`, if the file exists.
pub fn read_pid(pid_file: &Path) -> Result<Option<u32>> {
    match fs::read_to_string(pid_file) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("pid file {} holds no pid", pid_file.display())),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", pid_file.display())),
    }
}

pub fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Whether `pid` is a live (non-zombie) process whose command line contains `marker`.
pub fn is_running(pid: u32, marker: &str) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let Ok(cmdline) = fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let zombie = fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true);
    !zombie && String::from_utf8_lossy(&cmdline).contains(marker)
}

/// The live pid recorded for `managed`, removing the pid file when it is stale.
pub fn tracked_pid(ws: &Workspace, managed: &Managed) -> Result<Option<u32>> {
    let pid_file = ws.pid_file(managed.name);
    let Some(pid) = read_pid(&pid_file)? else {
        return Ok(None);
    };
    if is_running(pid, managed.cmdline_marker) {
        return Ok(Some(pid));
    }
    remove_file(&pid_file)?;
    println!(
        "removed stale pid file {} (pid {pid} is not {})",
        ws.rel(&pid_file),
        managed.name
    );
    Ok(None)
}

/// Stops the process recorded for `managed` (SIGTERM, then SIGKILL after a bounded wait) and
/// removes its pid file. Returns the pid it stopped, if any.
pub fn stop_tracked(ws: &Workspace, managed: &Managed) -> Result<Option<u32>> {
    let Some(pid) = tracked_pid(ws, managed)? else {
        return Ok(None);
    };
    terminate(pid, managed)?;
    remove_file(&ws.pid_file(managed.name))?;
    println!("stopped {} (pid {pid})", managed.name);
    Ok(Some(pid))
}

fn terminate(pid: u32, managed: &Managed) -> Result<()> {
    signal("TERM", pid)?;
    let timeout = Duration::from_secs(STOP_TIMEOUT_SECS);
    if poll_until(timeout, || Ok(!is_running(pid, managed.cmdline_marker)))? {
        return Ok(());
    }
    println!(
        "{} (pid {pid}) ignored SIGTERM for {STOP_TIMEOUT_SECS} s; sending SIGKILL",
        managed.name
    );
    signal("KILL", pid)?;
    if poll_until(timeout, || Ok(!is_running(pid, managed.cmdline_marker)))? {
        return Ok(());
    }
    bail!(
        "{} (pid {pid}) is still running after SIGKILL",
        managed.name
    )
}

fn signal(name: &str, pid: u32) -> Result<()> {
    cmd::run(
        Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string()),
    )
}

/// Calls `ready` until it returns `true` or `timeout` has passed (then returns `false`). An
/// error from `ready` ends the wait early.
pub fn poll_until(timeout: Duration, mut ready: impl FnMut() -> Result<bool>) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Fails if `child` has exited (used inside polling loops that wait for it to get ready).
pub fn ensure_alive(child: &mut Child, what: &str, log: &Path) -> Result<()> {
    match child.try_wait() {
        Ok(None) => Ok(()),
        Ok(Some(status)) => Err(failure_with_log(
            &format!("{what} exited early ({status})"),
            log,
        )),
        Err(err) => Err(anyhow!(err).context(format!("cannot check on {what}"))),
    }
}

/// Whether something accepts TCP connections on `addr`.
pub fn tcp_accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Prints the last lines of `log` to stderr and returns an error naming it.
pub fn failure_with_log(message: &str, log: &Path) -> anyhow::Error {
    eprintln!("---- last {LOG_TAIL_LINES} lines of {} ----", log.display());
    eprintln!("{}", tail(log, LOG_TAIL_LINES));
    eprintln!("----");
    anyhow!("{message}; see {}", log.display())
}

fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read the log: {err})"),
    }
}
