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
//! A test that was running when the server hung fails (its request met a timeout or a
//! closed connection), through no fault of the code it tests. `run_test`, which
//! `#[api_test_stack::test]` wraps around every test body, asks the watchdog after a failure
//! whether it restarted the server while the test ran, and if so runs the test once more (on
//! fresh databases, as every run does); any other failure stands. Before it kills a hung
//! server, the watchdog prints the server's Python stacks (py-spy, when `cargo xtask test`
//! installed it beside SecantusDB), so the hang can be reported upstream.
//!
//! A test whose load would starve the others (the demo shop writes tens of thousands of
//! events, then builds their indexes, holding the server's one storage lock for longer than a
//! request may take) asks for a server of its own, `own_mongo_uri`: it runs under a watchdog
//! of its own, with data beside the shared server's, and dies with the process too.
//!
//! `NEXUS_TEST_MONGODB_URI`, when set, names a server to use instead (a real MongoDB).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, OnceLock};
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
/// How many servers of their own tests have asked for, to name their data directories.
static OWN_SERVERS: AtomicUsize = AtomicUsize::new(0);
/// What the watchdog last found, for `restarted_during`; the condition variable wakes the
/// tests that wait for its next verdict.
static VERDICTS: (Mutex<Verdicts>, Condvar) = (
    Mutex::new(Verdicts {
        watching: false,
        last_healthy_probe: None,
        last_restart: None,
    }),
    Condvar::new(),
);

struct Verdicts {
    /// Whether this process's watchdog runs (not with `NEXUS_TEST_MONGODB_URI`).
    watching: bool,
    /// When the latest probe that the server answered began.
    last_healthy_probe: Option<Instant>,
    /// When the watchdog last killed a hung or dead server (the new one answers by now).
    last_restart: Option<Instant>,
}

fn record(update: impl FnOnce(&mut Verdicts)) {
    let (verdicts, changed) = &VERDICTS;
    update(&mut verdicts.lock().unwrap_or_else(|e| e.into_inner()));
    changed.notify_all();
}

/// Whether the watchdog restarted the server after `since`. Waits for its verdict on a
/// probe that begins after this call (up to a probe's time and a restart's), so a hang that
/// made a test fail is counted even when the watchdog had not noticed it yet.
pub fn restarted_during(since: Instant) -> bool {
    let asked = Instant::now();
    let (verdicts, changed) = &VERDICTS;
    let mut verdicts = verdicts.lock().unwrap_or_else(|e| e.into_inner());
    if !verdicts.watching {
        return false;
    }
    let give_up = asked + PROBE_EVERY + PROBE_TIMEOUT + START_TIMEOUT;
    loop {
        let judged = |at: Option<Instant>| at.is_some_and(|at| at >= asked);
        if judged(verdicts.last_healthy_probe) || judged(verdicts.last_restart) {
            break;
        }
        let now = Instant::now();
        if now >= give_up {
            break;
        }
        verdicts = changed
            .wait_timeout(verdicts, give_up - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    verdicts.last_restart.is_some_and(|at| at >= since)
}

/// Runs one test body on a fresh Tokio runtime (`worker_threads` 0: current-thread, as
/// `#[tokio::test]`), and once more if it failed while the watchdog restarted a hung server.
/// Called by the code `#[api_test_stack::test]` generates.
pub fn run_test<Test, Run>(worker_threads: usize, test: Test)
where
    Test: Fn() -> Run,
    Run: std::future::Future<Output = ()>,
{
    let runtime = || {
        let mut builder = if worker_threads == 0 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(worker_threads);
            builder
        };
        builder.enable_all().build().expect("a Tokio runtime")
    };
    let started = Instant::now();
    let first =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime().block_on(test())));
    let Err(failure) = first else { return };
    if !restarted_during(started) {
        std::panic::resume_unwind(failure);
    }
    eprintln!(
        "the test MongoDB-wire server hung while this test ran and was restarted: running the \
         test again"
    );
    runtime().block_on(test());
}

/// The URI of this process's MongoDB-wire server, started on first use.
pub fn mongo_uri() -> String {
    URI.get_or_init(|| {
        std::env::var("NEXUS_TEST_MONGODB_URI")
            .unwrap_or_else(|_| Watchdog::start(Role::Shared, format!("{}", std::process::id())))
    })
    .clone()
}

/// The URI of a MongoDB-wire server for the calling test alone, started now (a real MongoDB
/// named by `NEXUS_TEST_MONGODB_URI` is shared instead: it does not starve its clients).
pub fn own_mongo_uri() -> String {
    if let Ok(uri) = std::env::var("NEXUS_TEST_MONGODB_URI") {
        return uri;
    }
    let n = OWN_SERVERS.fetch_add(1, Ordering::SeqCst);
    Watchdog::start(Role::Own, format!("{}.{n}", std::process::id()))
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

/// Whether a server is the process's shared one (whose process id and verdicts the tests
/// read) or one test's own.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Shared,
    Own,
}

struct Watchdog {
    role: Role,
    port: u16,
    data: PathBuf,
}

impl Watchdog {
    /// Starts the watchdog thread, which starts the server; returns once the server answers.
    /// `name` names the data directory: the process id first, so that later processes can
    /// tell when it is no longer in use.
    fn start(role: Role, name: String) -> String {
        remove_data_of_ended_processes();
        let watchdog = Self {
            role,
            port: free_port(),
            data: std::env::temp_dir().join(format!("{DATA_DIR_PREFIX}{name}")),
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
        self.record(|verdicts| verdicts.watching = true);
        let _ = ready.send(Ok(()));
        // A periodic health probe, not synchronisation: nothing waits on this interval.
        let mut every = tokio::time::interval(PROBE_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let began = Instant::now();
            let problem = match server.try_wait() {
                Ok(Some(status)) => format!("exited ({status})"),
                _ => match self.probe().await {
                    Ok(()) => {
                        self.record(|verdicts| verdicts.last_healthy_probe = Some(began));
                        continue;
                    }
                    Err(problem) => problem,
                },
            };
            eprintln!(
                "test MongoDB-wire server on port {}: {problem}; restarting it",
                self.port
            );
            print_stacks(server.id()).await;
            let _ = server.kill();
            let killed = Instant::now();
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
            self.record(|verdicts| verdicts.last_restart = Some(killed));
        }
    }

    /// Only the shared server's verdicts decide whether a failed test runs again: a test with
    /// a server of its own is not rerun when it hung (its failure stands).
    fn record(&self, update: impl FnOnce(&mut Verdicts)) {
        if self.role == Role::Shared {
            record(update);
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
        let server = crate::tied_to_this_thread(&python, &launcher)
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
        if self.role == Role::Shared {
            SERVER_PID.store(server.id(), Ordering::SeqCst);
        }
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

/// Prints a hung server's Python stacks to stderr, when py-spy is installed beside it.
async fn print_stacks(pid: u32) {
    let py_spy = secantusd().with_file_name("py-spy");
    if !py_spy.exists() {
        return;
    }
    let dump = tokio::process::Command::new(&py_spy)
        .args(["dump", "--nonblocking", "--pid", &pid.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(30), dump).await {
        Ok(Ok(dump)) => eprintln!(
            "the hung server's stacks (py-spy dump):\n{}{}",
            String::from_utf8_lossy(&dump.stdout),
            String::from_utf8_lossy(&dump.stderr)
        ),
        Ok(Err(e)) => eprintln!("cannot run {}: {e}", py_spy.display()),
        Err(_) => eprintln!("py-spy did not dump the hung server's stacks within 30 s"),
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
            .and_then(|rest| rest.split('.').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
