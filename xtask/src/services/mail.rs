//! The local mail catcher: MailDev (from npm) takes every email the shop sends over SMTP on
//! 127.0.0.1:1025 and shows it in a web inbox on 127.0.0.1:1080. Installed into
//! `.nexus/tools/maildev`; the tests start their own from there on free ports.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::prerequisites::ensure_program;
use crate::stack::{
    HOST, MAIL_WEB_PORT, MAILDEV, MAILDEV_PACKAGE, SERVICE_START_TIMEOUT_SECS, SMTP_PORT,
};
use crate::workspace::{Workspace, create_dir};
use crate::{cmd, process};

/// The MailDev executable `ensure_installed` puts in place.
pub fn maildev(ws: &Workspace) -> PathBuf {
    tools_dir(ws).join("node_modules/.bin/maildev")
}

fn tools_dir(ws: &Workspace) -> PathBuf {
    ws.nexus_dir().join("tools/maildev")
}

/// Installs MailDev from npm unless it is there.
pub fn ensure_installed(ws: &Workspace) -> Result<()> {
    if maildev(ws).exists() {
        return Ok(());
    }
    ensure_program("npm", "npm")?;
    let dir = tools_dir(ws);
    create_dir(&dir)?;
    println!(
        "{MAILDEV_PACKAGE} is missing (the mail catcher: a real SMTP server with a web inbox); \
         installing it into {}",
        ws.rel(&dir)
    );
    cmd::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(MAILDEV_PACKAGE),
    )
    .with_context(|| format!("cannot install {MAILDEV_PACKAGE} from npm"))
}

fn address(port: u16) -> SocketAddr {
    let host: IpAddr = HOST.parse().expect("HOST is an IP address");
    SocketAddr::new(host, port)
}

/// Ensures a mail catcher takes SMTP on 1025 and serves its inbox on 1080: used as it is when
/// both answer, else started detached (logging to `.nexus/logs/maildev.log`).
pub fn ensure(ws: &Workspace) -> Result<()> {
    if process::tcp_accepts(address(SMTP_PORT)) && process::tcp_accepts(address(MAIL_WEB_PORT)) {
        println!(
            "mail catcher: answering on {HOST}:{SMTP_PORT} (SMTP) and {HOST}:{MAIL_WEB_PORT}; using it"
        );
        return Ok(());
    }
    ensure_installed(ws)?;
    let log = ws.log_file(MAILDEV.name);
    let mut server = Command::new(maildev(ws));
    server
        .args(["--smtp", &SMTP_PORT.to_string()])
        .args(["--web", &MAIL_WEB_PORT.to_string()])
        .args(["--ip", HOST, "--web-ip", HOST]);
    let mut child = process::spawn_detached(&mut server, &log, &ws.pid_file(MAILDEV.name))?;
    println!("waiting up to {SERVICE_START_TIMEOUT_SECS} s for the mail catcher to listen");
    let listening =
        process::poll_until(Duration::from_secs(SERVICE_START_TIMEOUT_SECS), || {
            process::ensure_alive(&mut child, "maildev", &log)?;
            Ok(process::tcp_accepts(address(SMTP_PORT))
                && process::tcp_accepts(address(MAIL_WEB_PORT)))
        })?;
    if listening {
        println!("mail catcher: started on {HOST}:{SMTP_PORT} (SMTP) and {HOST}:{MAIL_WEB_PORT}");
        return Ok(());
    }
    let message = format!(
        "the mail catcher did not listen on {HOST}:{SMTP_PORT} and {HOST}:{MAIL_WEB_PORT} within \
         {SERVICE_START_TIMEOUT_SECS} s"
    );
    Err(process::failure_with_log(&message, &log))
}

/// The web inbox, as `up` prints it (MailDev 3 serves it at `/index.html`; `/` is 404).
pub fn inbox_url() -> String {
    format!("http://{HOST}:{MAIL_WEB_PORT}/index.html")
}
