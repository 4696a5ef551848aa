//! A real SMTP server for the tests: one MailDev (npm's mail catcher, the one `cargo xtask
//! up` runs too) per test process, started on first use on free ports. The API sends to it
//! over SMTP like to any server; tests read what arrived through its REST API. Each test
//! sends to addresses of its own, so tests sharing the server never read each other's mail.
//!
//! The binary comes from `NEXUS_TEST_MAILDEV`, else the checkout's `.nexus/tools/maildev`
//! (`cargo xtask test` installs it there).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{free_port, secantusd};

/// How long an email may take to arrive (the relay polls every 100 ms in tests).
pub const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(30);

static SERVER: OnceLock<MailServer> = OnceLock::new();

/// The test process's mail server, started on first use.
pub fn mail_server() -> &'static MailServer {
    SERVER.get_or_init(MailServer::start)
}

/// A running MailDev.
#[derive(Debug, Clone)]
pub struct MailServer {
    smtp_port: u16,
    web_port: u16,
}

/// An email as the server received it.
#[derive(Debug, Clone)]
pub struct Email {
    pub subject: String,
    pub to: Vec<String>,
    pub from: String,
    pub text: String,
    pub html: String,
}

impl Email {
    fn from_json(value: &Value) -> Self {
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        let addresses = |key: &str| {
            value[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|to| to["address"].as_str().map(str::to_lowercase))
                .collect::<Vec<_>>()
        };
        Self {
            subject: text("subject"),
            to: addresses("to"),
            from: addresses("from").join(", "),
            text: text("text"),
            html: text("html"),
        }
    }

    /// The HTML part with the character references a template engine writes (`&#x2f;` for
    /// `/`, `&amp;`, …) turned back into characters, to look for text and links in it.
    pub fn html_decoded(&self) -> String {
        self.html
            .replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// The first link in the plain-text part that starts with `prefix`.
    pub fn link_starting(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .map(str::to_owned)
    }
}

pub fn maildev() -> PathBuf {
    std::env::var_os("NEXUS_TEST_MAILDEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::checkout_dir().join(".nexus/tools/maildev/node_modules/.bin/maildev")
        })
}

impl MailServer {
    fn start() -> Self {
        let server = Self {
            smtp_port: free_port(),
            web_port: free_port(),
        };
        let (started, spawned) = mpsc::channel();
        let ports = server.clone();
        // The server dies with the thread that started it (see `tied_to_this_thread`), so
        // that thread lives as long as the process.
        std::thread::Builder::new()
            .name("mail-server".to_owned())
            .spawn(move || {
                let _ = started.send(ports.spawn());
                loop {
                    std::thread::park();
                }
            })
            .expect("the mail server's thread starts");
        match spawned.recv() {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => panic!("the test mail server did not start: {problem}"),
            Err(_) => panic!("the test mail server's thread ended before starting it"),
        }
        server.until_answering();
        server
    }

    fn spawn(&self) -> Result<(), String> {
        let binary = maildev();
        let python = secantusd().with_file_name("python");
        crate::tied_to_this_thread(&python, &binary)
            .args(["--smtp", &self.smtp_port.to_string()])
            .args(["--web", &self.web_port.to_string()])
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| {
                format!(
                    "cannot run {} (run the tests through `cargo xtask test`, which installs \
                     it): {e}",
                    binary.display()
                )
            })
    }

    /// Polls until both ports take connections (a bounded poll of a real condition; MailDev
    /// listens once it is ready).
    fn until_answering(&self) {
        let started = Instant::now();
        let listening = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        while started.elapsed() < crate::START_TIMEOUT {
            if listening(self.smtp_port) && listening(self.web_port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the test mail server did not listen on ports {} and {} within {} s",
            self.smtp_port,
            self.web_port,
            crate::START_TIMEOUT.as_secs()
        );
    }

    /// The URL storefront-api sends through (`NEXUS_SMTP__URL`).
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    /// The web inbox and its REST API.
    pub fn web_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// Every email received so far for `address`, oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<Email> {
        let address = address.to_lowercase();
        let all: Value = reqwest::get(format!("{}/api/email", self.web_url()))
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the mail server lists its emails")
            .json()
            .await
            .expect("the mail server answers JSON");
        all.as_array()
            .into_iter()
            .flatten()
            .map(Email::from_json)
            .filter(|email| email.to.contains(&address))
            .collect()
    }

    /// Waits (a bounded poll) for an email to `address` whose subject contains `subject`.
    pub async fn wait_for(&self, address: &str, subject: &str) -> Email {
        let started = Instant::now();
        let mut interval = tokio::time::interval(Duration::from_millis(100));
        loop {
            interval.tick().await;
            let emails = self.emails_to(address).await;
            if let Some(email) = emails.iter().find(|email| email.subject.contains(subject)) {
                return email.clone();
            }
            assert!(
                started.elapsed() < ARRIVAL_TIMEOUT,
                "no email to {address} with {subject:?} in its subject within {} s; it got: {:?}",
                ARRIVAL_TIMEOUT.as_secs(),
                emails
                    .iter()
                    .map(|email| &email.subject)
                    .collect::<Vec<_>>()
            );
        }
    }
}
