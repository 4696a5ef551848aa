//! What the chores need from the machine beyond a Rust toolchain and python3, installed when
//! missing: Debian packages (through apt-get, as root or with password-less sudo), rustup
//! components and targets, the cargo-installed tools (wasm-bindgen-cli, tauri-driver) and the
//! Python tools from PyPI, each in a venv of its own (SecantusDB, schemathesis, and the
//! deployment's validators, which `infra` lists).
//! Each is probed first, so a second run installs nothing; each installation says why.
//! Where xtask cannot install (no apt-get, not root and no sudo), it stops with the command
//! to run by hand.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

use crate::workspace::Workspace;
use crate::{cmd, console, shop};

/// A Debian package, the thing on the machine that shows it is installed, and why xtask wants it.
struct Package {
    name: &'static str,
    present: Present,
    why: &'static str,
}

enum Present {
    /// An executable on `PATH`.
    Program(&'static str),
    /// A file (a library's header: libraries have no command).
    File(&'static str),
}

impl Present {
    fn holds(&self) -> bool {
        match self {
            Present::Program(program) => cmd::on_path(program),
            Present::File(path) => std::path::Path::new(path).exists(),
        }
    }
}

/// What building the staff console needs (`cargo xtask console`, and the tests build it).
const CONSOLE_PACKAGES: &[Package] = &[
    Package {
        name: "pkg-config",
        present: Present::Program("pkg-config"),
        why: "finds the system libraries the console's crates link against",
    },
    Package {
        name: "libssl-dev",
        present: Present::File("/usr/include/openssl/ssl.h"),
        why: "TLS for the HTTP clients",
    },
    Package {
        name: "libwebkit2gtk-4.1-dev",
        present: Present::File("/usr/include/webkitgtk-4.1/webkit2/webkit2.h"),
        why: "the staff console's window (Tauri 2 on WebKitGTK)",
    },
    Package {
        name: "libgtk-3-dev",
        present: Present::File("/usr/include/gtk-3.0/gtk/gtk.h"),
        why: "the staff console's window toolkit",
    },
    Package {
        name: "librsvg2-dev",
        present: Present::File("/usr/include/librsvg-2.0/librsvg/rsvg.h"),
        why: "the staff console's icons",
    },
    Package {
        name: "libxdo-dev",
        present: Present::File("/usr/include/xdo.h"),
        why: "the staff console's menus (keyboard shortcuts)",
    },
];

/// Debian's nginx (in /usr/sbin, which is not on every user's PATH).
pub const GATEWAY_NGINX: &str = "/usr/sbin/nginx";

/// What `up --instances N` needs for its gateway.
const GATEWAY_PACKAGES: &[Package] = &[
    Package {
        // Debian's full nginx (bookworm's nginx-light is only a name for it).
        name: "nginx",
        present: Present::File(GATEWAY_NGINX),
        why: "the gateway (infrastructure/nginx/nginx.conf) of `up --instances` and its tests",
    },
    Package {
        name: "openssl",
        present: Present::Program("openssl"),
        why: "the gateway's self-signed certificate",
    },
];

/// What `cargo xtask test` needs beyond the console's packages and the backing services
/// (which `services` installs).
const TEST_PACKAGES: &[Package] = &[
    Package {
        name: "chromium",
        present: Present::Program("chromium"),
        why: "the web shop's browser tests (headless)",
    },
    Package {
        name: "chromium-driver",
        present: Present::Program("chromedriver"),
        why: "WebDriver for the web shop's browser tests",
    },
    Package {
        name: "webkit2gtk-driver",
        present: Present::Program("WebKitWebDriver"),
        why: "WebDriver for the staff console's window tests (behind tauri-driver)",
    },
    Package {
        name: "xvfb",
        present: Present::Program("xvfb-run"),
        why: "a virtual display for the console's window tests",
    },
    Package {
        name: "xauth",
        present: Present::Program("xauth"),
        why: "xvfb-run's display authorisation",
    },
    Package {
        name: "postgresql-client",
        present: Present::Program("psql"),
        why: "drops the databases interrupted test runs left behind",
    },
    Package {
        name: "docker-compose",
        present: Present::Program("docker-compose"),
        why: "validates docker-compose.yml (no container engine needed)",
    },
];

/// Everything `cargo xtask test` needs that is not a backing service, installed when missing.
pub fn ensure_for_tests(ws: &Workspace) -> Result<()> {
    ensure_packages(
        "cargo xtask test",
        &[CONSOLE_PACKAGES, TEST_PACKAGES, GATEWAY_PACKAGES],
    )?;
    ensure_rust_component("rustfmt", &["fmt", "--version"], "the formatting check")?;
    ensure_rust_component("clippy", &["clippy", "--version"], "the lint step")?;
    shop::ensure_wasm_target()?;
    shop::ensure_wasm_bindgen(ws)?;
    console::ensure_tauri_driver(ws)?;
    ensure_python_tool(
        &ws.schemathesis(),
        SCHEMATHESIS_REQUIREMENT,
        "fuzzes every API operation from the OpenAPI document",
    )?;
    ensure_python_tool(
        &ws.mongo_venv().join("bin/py-spy"),
        PY_SPY_REQUIREMENT,
        "prints the stacks of a MongoDB-wire server the tests' watchdog finds hung",
    )?;
    crate::services::mail::ensure_installed(ws)?;
    crate::infra::ensure_tools(ws)?;
    Ok(())
}

/// The Python profiler whose `dump` shows where a hung SecantusDB is stuck.
pub const PY_SPY_REQUIREMENT: &str = "py-spy==0.4.3";

/// The pinned API fuzzer, installed into `.venv-schemathesis`.
pub const SCHEMATHESIS_REQUIREMENT: &str = "schemathesis==4.32.5";

/// Installs `requirement` from PyPI into the venv that holds `program` (`<venv>/bin/<name>`),
/// unless `program` is already there. Pre-releases are allowed: the pin says which.
pub fn ensure_python_tool(program: &std::path::Path, requirement: &str, why: &str) -> Result<()> {
    install_python_tool(program, requirement, why, true)
}

/// The same for a tool whose dependencies must be final releases too (checkov's dozens:
/// `--pre` would take any release candidate among them as soon as it is published).
pub fn ensure_python_release(
    program: &std::path::Path,
    requirement: &str,
    why: &str,
) -> Result<()> {
    install_python_tool(program, requirement, why, false)
}

fn install_python_tool(
    program: &std::path::Path,
    requirement: &str,
    why: &str,
    pre_releases: bool,
) -> Result<()> {
    if program.exists() {
        return Ok(());
    }
    let venv = program
        .parent()
        .and_then(std::path::Path::parent)
        .context("a Python tool lives in <venv>/bin")?;
    println!(
        "{requirement} is missing ({why}); installing it into {}",
        venv.display()
    );
    if !venv.join("bin/python").exists() {
        cmd::run(Command::new("python3").args(["-m", "venv"]).arg(venv)).context(
            "cannot create the venv (on Debian's python3: apt-get install python3-venv)",
        )?;
    }
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--disable-pip-version-check"]);
    if pre_releases {
        pip.arg("--pre");
    }
    cmd::run(pip.arg(requirement))
        .with_context(|| format!("cannot install {requirement} from PyPI"))
}

/// The Debian packages the staff console's build links against, installed when missing.
pub fn ensure_for_console() -> Result<()> {
    ensure_packages("cargo xtask console", &[CONSOLE_PACKAGES])
}

fn ensure_packages(chore: &str, lists: &[&[Package]]) -> Result<()> {
    let mut missing: Vec<&Package> = lists
        .iter()
        .flat_map(|list| list.iter())
        .filter(|package| !package.present.holds())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.dedup_by_key(|package| package.name);
    println!("{chore} needs these Debian packages, which are missing:");
    for package in &missing {
        println!("  {:<24} {}", package.name, package.why);
    }
    let names: Vec<&str> = missing.iter().map(|package| package.name).collect();
    apt_install(&names)
}

/// What the gateway in front of several API instances needs, installed when missing.
pub fn ensure_for_gateway() -> Result<()> {
    ensure_packages("cargo xtask up --instances", &[GATEWAY_PACKAGES])
}

/// Installs `package` unless `program` is already on `PATH`.
pub fn ensure_program(program: &str, package: &str) -> Result<()> {
    if cmd::on_path(program) {
        return Ok(());
    }
    println!("{program} is missing; installing the Debian package {package}");
    apt_install(&[package])
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// `apt-get install -y PACKAGES`, preceded (once per run) by `apt-get update`.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let by_hand = format!(
        "install them by hand, then run the command again:\n  \
         sudo apt-get update && sudo apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    // Stops before anything runs when xtask may not install (no apt-get, not root, no sudo).
    let mut install = match apt_get() {
        Ok(apt_get) => apt_get,
        Err(reason) => bail!("cannot install {}: {reason}; {by_hand}", packages.join(" ")),
    };
    let context = || {
        format!(
            "apt-get could not install {}; {by_hand}",
            packages.join(" ")
        )
    };
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        let mut update = apt_get().map_err(anyhow::Error::msg)?;
        cmd::run(update.arg("update")).with_context(context)?;
    }
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages);
    cmd::run(&mut install).with_context(context)
}

/// `apt-get`, or `sudo -n apt-get` for a user who may use sudo without a password.
fn apt_get() -> Result<Command, &'static str> {
    if !cmd::on_path("apt-get") {
        return Err("there is no apt-get on this machine (xtask installs Debian packages only)");
    }
    if is_root() {
        return Ok(Command::new("apt-get"));
    }
    let sudo_works = cmd::on_path("sudo")
        && Command::new("sudo")
            .args(["-n", "true"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    if !sudo_works {
        return Err("installing Debian packages needs root, and this user may not `sudo -n`");
    }
    let mut sudo = Command::new("sudo");
    // sudo drops the environment; DEBIAN_FRONTEND must reach apt-get.
    sudo.args(["-n", "--preserve-env=DEBIAN_FRONTEND", "apt-get"]);
    Ok(sudo)
}

/// Whether this process runs as root (`/proc/self` belongs to the process's effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// `rustup component add COMPONENT` unless `cargo PROBE...` already works.
fn ensure_rust_component(component: &str, probe: &[&str], why: &str) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if cmd::probe(Command::new(cargo).args(probe), None) {
        return Ok(());
    }
    if !cmd::on_path("rustup") {
        bail!(
            "the Rust component {component} ({why}) is missing and there is no rustup to add it; \
             install it with your toolchain"
        );
    }
    println!("the Rust component {component} is missing ({why}); adding it with rustup");
    cmd::run(Command::new("rustup").args(["component", "add", component]))
        .with_context(|| format!("rustup could not add {component}"))
}
