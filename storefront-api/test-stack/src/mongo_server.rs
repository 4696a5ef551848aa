//! The MongoDB-wire server of one test process.
//!
//! SecantusDB has hung in CI (spinning inside an index build with its storage lock held), and
//! one server shared by every test binary carried one binary's hang into all the others and
//! collected their databases. So each test process that needs MongoDB starts its own server,
//! on a free port with its data in a directory of its own, the first time a test asks for it,
//! and keeps it under a watchdog: a thread that owns the server, asks it a real query every few
//! seconds and, when no answer comes in time (or the server died), kills it and starts it again
//! on the same port and data, so that the driver's retry reaches a live server. The server dies
//! with the process (the kernel kills it when the watchdog thread ends), and the next test
//! process removes the data directories of processes that are gone: nothing accumulates.
//!
//! `NEXUS_TEST_MONGODB_URI`, when set, names a server to use instead (a real MongoDB).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mongodb::bson::doc;

use crate::free_port;

/// How long a fresh server may take to answer (a Python server starts slowly while
/// compilers hold both cores).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the watchdog asks, and how long an answer may take before the server counts as
/// hung. Generous: a busy server under a test's load is slow, not hung.
const PROBE_EVERY: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(45);
/// The prefix of the per-process data directories under the system's temporary directory.
const DATA_DIR_PREFIX: &str = "nexus-test-mongo-";

static URI: OnceLock<String> = OnceLock::new();
/// The running server's process id (0 before it starts, or with `NEXUS_TEST_MONGODB_URI`).
static SERVER_PID: AtomicU32 = AtomicU32::new(0);

/// The URI of this process's MongoDB-wire server, started on first use.
pub fn mongo_uri() -> String {
    URI.get_or_init(|| {
        std::env::var("NEXUS_TEST_MONGODB_URI").unwrap_or_else(|_| Watchdog::start())
    })
    .clone()
}

/// The process id of this process's MongoDB-wire server, for tests that break it on purpose.
pub fn mongo_server_pid() -> Option<u32> {
    mongo_uri();
    Some(SERVER_PID.load(Ordering::SeqCst)).filter(|pid| *pid != 0)
}

/// The SecantusDB launcher: `NEXUS_TEST_SECANTUSD`, else the checkout's `.venv-mongo`.
pub fn secantusd() -> PathBuf {
    std::env::var_os("NEXUS_TEST_SECANTUSD")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::checkout_dir().join(".venv-mongo/bin/secantusd-py"))
}

struct Watchdog {
    port: u16,
    data: PathBuf,
}

impl Watchdog {
    /// Starts the watchdog thread, which starts the server; returns once the server answers.
    fn start() -> String {
        remove_data_of_ended_processes();
        let watchdog = Self {
            port: free_port(),
            data: std::env::temp_dir().join(format!("{DATA_DIR_PREFIX}{}", std::process::id())),
        };
        let uri = watchdog.uri();
        let (ready, started) = mpsc::channel();
        std::thread::Builder::new()
            .name("mongo-watchdog".to_owned())
            .spawn(move || watchdog.run(ready))
            .expect("the MongoDB watchdog thread starts");
        match started.recv_timeout(START_TIMEOUT + Duration::from_secs(5)) {
            Ok(Ok(())) => uri,
            Ok(Err(problem)) => panic!("the test MongoDB-wire server did not start: {problem}"),
            Err(_) => panic!(
                "the test MongoDB-wire server did not answer within {} s",
                START_TIMEOUT.as_secs()
            ),
        }
    }

    fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// Owns the server for the life of the process. Runs on its own thread, which never ends
    /// before the process does: the server's parent-death signal is tied to it.
    fn run(self, ready: mpsc::Sender<Result<(), String>>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the watchdog's probes");
        // Everything runs inside one `block_on` on this thread: the driver's background tasks
        // are polled between probes too, and the servers are spawned from this thread.
        runtime.block_on(self.watch(ready));
    }

    async fn watch(self, ready: mpsc::Sender<Result<(), String>>) {
        let mut server = match self.spawn() {
            Ok(server) => server,
            Err(problem) => {
                let _ = ready.send(Err(problem));
                return;
            }
        };
        if let Err(problem) = self.until_answering(&mut server).await {
            let _ = ready.send(Err(problem));
            return;
        }
        let _ = ready.send(Ok(()));
        // A periodic health probe, not synchronisation: nothing waits on this interval.
        let mut every = tokio::time::interval(PROBE_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let problem = match server.try_wait() {
                Ok(Some(status)) => format!("exited ({status})"),
                _ => match self.probe().await {
                    Ok(()) => continue,
                    Err(problem) => problem,
                },
            };
            eprintln!(
                "test MongoDB-wire server on port {}: {problem}; restarting it",
                self.port
            );
            let _ = server.kill();
            let _ = server.wait();
            server = match self.spawn() {
                Ok(server) => server,
                Err(problem) => {
                    eprintln!("test MongoDB-wire server: cannot restart it: {problem}");
                    return;
                }
            };
            if let Err(problem) = self.until_answering(&mut server).await {
                eprintln!("test MongoDB-wire server: {problem}");
            }
        }
    }

    /// Starts SecantusDB through its venv's Python, which first asks the kernel to kill it
    /// when this thread ends (`prctl(PR_SET_PDEATHSIG, SIGKILL)`, kept across `exec`), so the
    /// server never outlives the tests, however they end.
    fn spawn(&self) -> Result<Child, String> {
        let launcher = secantusd();
        let python = launcher.with_file_name("python");
        std::fs::create_dir_all(&self.data)
            .map_err(|e| format!("cannot create {}: {e}", self.data.display()))?;
        let server = Command::new(&python)
            .arg("-c")
            .arg(
                "import ctypes, os, sys\n\
                 ctypes.CDLL(None).prctl(1, 9)\n\
                 if os.getppid() == 1: sys.exit(1)\n\
                 os.execv(sys.argv[1], sys.argv[1:])",
            )
            .arg(&launcher)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(&self.data)
            // Each commit on disk before it is acknowledged: a server the watchdog had to kill
            // comes back with everything the tests were told was written.
            .arg("--sync-on-commit")
            .args(["--log-level", "WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run {} (run the tests through `cargo xtask test`, which installs \
                     it): {e}",
                    python.display()
                )
            })?;
        SERVER_PID.store(server.id(), Ordering::SeqCst);
        Ok(server)
    }

    async fn until_answering(&self, server: &mut Child) -> Result<(), String> {
        let started = Instant::now();
        let mut interval = tokio::time::interval(Duration::from_millis(200));
        loop {
            interval.tick().await;
            if let Ok(Some(status)) = server.try_wait() {
                return Err(format!("secantusd exited at start ({status})"));
            }
            if self.probe().await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "secantusd did not answer a query within {} s",
                    START_TIMEOUT.as_secs()
                ));
            }
        }
    }

    /// A real query (not just a connection or a ping): a hung storage engine fails it.
    async fn probe(&self) -> Result<(), String> {
        let query = async {
            // A busy server is slow, not hung: the handshake may take most of the probe's time.
            let client = mongodb::Client::with_uri_str(format!(
                "{}/?serverSelectionTimeoutMS={}",
                self.uri(),
                PROBE_TIMEOUT.as_millis() * 2 / 3
            ))
            .await?;
            let probes = client
                .database("nexus_watchdog")
                .collection::<mongodb::bson::Document>("probes");
            probes.find_one(doc! { "_id": 1 }).await?;
            Ok::<_, mongodb::error::Error>(())
        };
        match tokio::time::timeout(PROBE_TIMEOUT, query).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(format!("a query failed: {error}")),
            Err(_) => Err(format!(
                "a query got no answer within {} s",
                PROBE_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Data directories of test processes that have ended (their server died with them).
fn remove_data_of_ended_processes() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(DATA_DIR_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
