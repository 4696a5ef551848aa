//! A running storefront-api for the tests of the crates that talk to it (the web shop's
//! browser tests, the staff console's command layer): the binary `cargo test` built for the
//! API's own tests, in a fresh PostgreSQL database, Redis prefix and MongoDB database, loaded
//! with the demo shop, on a free port; all removed again on drop. Waits are bounded polls of
//! real conditions, never sleeps.
//!
//! The binary comes from `NEXUS_TEST_API_BIN` (`cargo xtask test` sets it).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod mail_server;
mod mongo_server;

pub use api_test_macros::test;
pub use mail_server::{ARRIVAL_TIMEOUT as MAIL_ARRIVAL_TIMEOUT, Email, MailServer, mail_server};
pub use mongo_server::{
    mongo_server_pid, mongo_uri, own_mongo_uri, restarted_during, run_test, secantusd,
};

/// How long a service may take to answer after it starts.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The demo shop's staff login.
pub const STAFF_EMAIL: &str = "staff@nexus.test";
pub const STAFF_PASSWORD: &str = "NexusStaff!2026";
/// The demo shop's admin login (every permission, webhooks included).
pub const ADMIN_EMAIL: &str = "admin@nexus.test";
pub const ADMIN_PASSWORD: &str = "NexusAdmin!2026";

/// The checkout the tests run in: the workspace root above the running test's crate.
/// Read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): test binaries compiled in
/// another checkout that shares the target directory carry that checkout's path.
pub fn checkout_dir() -> std::path::PathBuf {
    let crate_dir = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test"),
    );
    crate_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .unwrap_or(&crate_dir)
        .to_path_buf()
}

pub fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run these tests through `cargo xtask test`, which builds \
             storefront-api (and the web shop) and sets it"
        )
    })
}

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `program`, started through `python`, which first asks the kernel to kill it when the
/// calling thread ends (`prctl(PR_SET_PDEATHSIG, SIGKILL)`, kept across `exec`): a server the
/// tests start never outlives them, however they end. Add the program's arguments.
pub(crate) fn tied_to_this_thread(python: &std::path::Path, program: &std::path::Path) -> Command {
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(
            "import ctypes, os, sys\n\
             ctypes.CDLL(None).prctl(1, 9)\n\
             if os.getppid() == 1: sys.exit(1)\n\
             os.execv(sys.argv[1], sys.argv[1:])",
        )
        .arg(program);
    command
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Polls `ready` every 100 ms until it holds or `timeout` passes.
pub async fn wait_for(what: &str, timeout: Duration, mut ready: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    let mut interval = tokio::time::interval(Duration::from_millis(100));
    while started.elapsed() < timeout {
        interval.tick().await;
        if ready().await {
            return;
        }
    }
    panic!("{what} was not ready within {} s", timeout.as_secs());
}

/// Whether `url` answers 2xx.
pub async fn answers(url: &str) -> bool {
    reqwest::get(url)
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// storefront-api serving the demo shop (the whole catalog and every account; orders and
/// events for `history_customers` customers), its history ending at the last UTC midnight:
/// recent enough for the dashboard's last 30 days, and with the same orders in the same
/// states whatever the hour the tests run. One instance, or several serving the same shop
/// (`start_instances`) as behind the gateway.
pub struct ApiStack {
    /// The first instance.
    pub url: String,
    api_bin: String,
    env: Vec<(&'static str, String)>,
    instances: Vec<Instance>,
    database_url: String,
    mongo_uri: String,
    mongo_database: String,
}

/// One `storefront-api serve` of the stack, on a port of its own that it keeps across
/// restarts; behind a lock so that a test can kill it while requests to it are in flight.
struct Instance {
    port: u16,
    child: std::sync::Mutex<Option<Child>>,
}

impl ApiStack {
    pub async fn start(history_customers: u32) -> Self {
        Self::start_instances(history_customers, 1, &[]).await
    }

    /// `count` instances of one shop (one database, Redis prefix and MongoDB database), the
    /// n-th named `api-<n>` in its `x-nexus-instance` header; `settings` are added to (or
    /// override) the stack's environment, e.g. `("NEXUS_HTTP__REQUEST_TIMEOUT_SECS", "10")`.
    pub async fn start_instances(
        history_customers: u32,
        count: usize,
        settings: &[(&'static str, &str)],
    ) -> Self {
        let api_bin = required("NEXUS_TEST_API_BIN");
        let tag = format!("stack_{}_{}", std::process::id(), free_port());
        let server = env_or(
            "NEXUS_TEST_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432",
        );
        let database_url = format!("{}/nexus_test_{tag}", server.trim_end_matches('/'));
        let mongo_uri = mongo_uri();
        let mongo_database = format!("nexus_test_{tag}");
        let mut env = vec![
            ("NEXUS_DATABASE__URL", database_url.clone()),
            (
                "NEXUS_REDIS__URL",
                env_or("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            ),
            ("NEXUS_REDIS__KEY_PREFIX", format!("nexus_test_{tag}:")),
            ("NEXUS_MONGODB__URI", mongo_uri.clone()),
            ("NEXUS_MONGODB__DATABASE", mongo_database.clone()),
            ("NEXUS_HTTP__TRUST_FORWARDED_FOR", "true".to_owned()),
            ("NEXUS_LOG__FORMAT", "json".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
            // As the local stack: webhooks to receivers the tests start on loopback, and
            // quick retries.
            ("NEXUS_WEBHOOKS__ALLOW_HTTP", "true".to_owned()),
            ("NEXUS_WEBHOOKS__ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("NEXUS_RELAY__POLL_INTERVAL_MS", "100".to_owned()),
            ("NEXUS_SCORING__SCHEDULE_ENABLED", "false".to_owned()),
            ("NEXUS_RELAY__BACKOFF_BASE_SECS", "1".to_owned()),
            ("NEXUS_RELAY__BACKOFF_MAX_SECS", "1".to_owned()),
            // Customer emails to the tests' own SMTP server.
            ("NEXUS_SMTP__URL", mail_server().smtp_url()),
        ];
        for (key, value) in settings {
            env.retain(|(k, _)| k != key);
            env.push((key, (*value).to_owned()));
        }
        let history = history_customers.to_string();
        let ends_at = last_midnight();
        for step in [
            &["migrate"][..],
            &[
                "demo-data",
                "--history-customers",
                history.as_str(),
                "--ends-at",
                ends_at.as_str(),
            ],
        ] {
            let status = Command::new(&api_bin)
                .args(step)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {api_bin} {step:?}: {e}"));
            assert!(status.success(), "storefront-api {step:?} failed: {status}");
        }
        let instances = (0..count)
            .map(|_| Instance {
                port: free_port(),
                child: std::sync::Mutex::default(),
            })
            .collect::<Vec<_>>();
        let stack = Self {
            url: format!("http://127.0.0.1:{}", instances[0].port),
            api_bin,
            env,
            instances,
            database_url,
            mongo_uri,
            mongo_database,
        };
        for index in 0..count {
            stack.start_instance(index).await;
        }
        stack
    }

    /// Starts instance `index` (again) on its port and waits until it is ready.
    pub async fn start_instance(&self, index: usize) {
        let port = self.instances[index].port;
        let child = Command::new(&self.api_bin)
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("NEXUS_HTTP__PORT", port.to_string())
            .env("NEXUS_HTTP__INSTANCE_NAME", format!("api-{}", index + 1))
            .stdout(Stdio::null())
            .spawn()
            .expect("storefront-api serve starts");
        *self.child(index) = Some(child);
        let readyz = format!("{}/readyz", self.instance_url(index));
        wait_for("storefront-api", START_TIMEOUT, async || {
            answers(&readyz).await
        })
        .await;
    }

    /// The address of instance `index` (its name in `x-nexus-instance` is `api-<index + 1>`).
    pub fn instance_address(&self, index: usize) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.instances[index].port))
    }

    pub fn instance_url(&self, index: usize) -> String {
        format!("http://{}", self.instance_address(index))
    }

    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    /// SIGKILL to instance `index`: no shutdown, no flush, requests in flight cut off.
    pub fn kill(&self, index: usize) {
        if let Some(mut child) = self.child(index).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM to instance `index` (what an orchestrator sends before it replaces an
    /// instance); `stopped` tells when it has exited.
    pub fn terminate(&self, index: usize) {
        let pid = self.child(index).as_ref().expect("the instance runs").id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM reached the instance");
    }

    /// Whether instance `index` has exited, and how; `None` while it runs.
    pub fn stopped(&self, index: usize) -> Option<std::process::ExitStatus> {
        let mut child = self.child(index);
        let status = child
            .as_mut()?
            .try_wait()
            .expect("the instance can be waited for")?;
        *child = None;
        Some(status)
    }

    fn child(&self, index: usize) -> std::sync::MutexGuard<'_, Option<Child>> {
        // A test that panicked while holding it left the child as it was: still usable.
        self.instances[index]
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stack's MongoDB database, to check what the API stored.
    pub async fn mongo(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.mongo_uri)
            .await
            .expect("MongoDB answers")
            .database(&self.mongo_database)
    }
}

/// The start of the current UTC day, as an RFC 3339 instant.
fn last_midnight() -> String {
    const DAY_MILLIS: i64 = 86_400_000;
    let now = mongodb::bson::DateTime::now().timestamp_millis();
    mongodb::bson::DateTime::from_millis(now - now.rem_euclid(DAY_MILLIS))
        .try_to_rfc3339_string()
        .expect("today is a date RFC 3339 can write")
}

/// A session token of the demo staff account of the API at `api_url`.
pub async fn staff_token(api_url: &str) -> String {
    let credentials = json!({ "email": STAFF_EMAIL, "password": STAFF_PASSWORD });
    session_token(api_url, "login", credentials).await
}

/// A session token of the demo admin account (every permission: webhooks and staff too).
pub async fn admin_token(api_url: &str) -> String {
    let credentials = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
    session_token(api_url, "login", credentials).await
}

/// A session token of a customer account registered now with `email`.
pub async fn customer_token(api_url: &str, email: &str) -> String {
    let registration = json!({
        "email": email,
        "password": "Test-Customer-2026",
        "full_name": "Test Customer",
    });
    session_token(api_url, "register", registration).await
}

/// Logs in or registers (`action`) and returns the new session's token.
async fn session_token(api_url: &str, action: &str, body: Value) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{api_url}/api/v1/auth/{action}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["session"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{action} answers a session: {answer}"))
        .to_owned()
}

/// Staff move an order through fulfilment, shipping and delivery over the admin API.
pub async fn deliver(api_url: &str, order_id: &str) {
    let token = staff_token(api_url).await;
    let http = reqwest::Client::new();
    for step in [
        json!({ "to": "fulfilled" }),
        json!({ "to": "shipped", "tracking_number": "1Z999AA10123456784" }),
        json!({ "to": "delivered" }),
    ] {
        let response = http
            .post(format!(
                "{api_url}/api/v1/admin/orders/{order_id}/transitions"
            ))
            .bearer_auth(&token)
            .json(&step)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "{step}: {}",
            response.text().await.unwrap()
        );
    }
}

impl Drop for ApiStack {
    fn drop(&mut self) {
        for index in 0..self.instances.len() {
            self.kill(index);
        }
        // Best effort: `cargo xtask test` drops leftover nexus_test_* databases anyway.
        if let Some((server, name)) = self.database_url.rsplit_once('/') {
            let _ = Command::new("psql")
                .args([server, "-q", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let uri = self.mongo_uri.clone();
        let name = self.mongo_database.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let client = mongodb::Client::with_uri_str(&uri).await.ok()?;
                client.database(&name).drop().await.ok()
            })
        })
        .join();
    }
}
