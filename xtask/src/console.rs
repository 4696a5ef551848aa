//! `cargo xtask console`: builds the staff console — its window (Leptos, wasm32, with
//! wasm-bindgen into `admin-desktop/ui/dist`, which Tauri embeds) and then the Tauri app with
//! the embedded UI — and opens it. It talks to the API `cargo xtask up` started, unless the
//! login screen is given another address.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::shop::{WASM_TARGET, bindgen, ensure_wasm_bindgen, ensure_wasm_target};
use crate::stack::{API_PORT, HOST};
use crate::workspace::{Workspace, create_dir};
use crate::{cmd, prerequisites};

/// Builds the window's files into `admin-desktop/ui/dist`.
pub fn build_ui(ws: &Workspace, release: bool) -> Result<()> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen(ws)?;
    let front = ws.target_dir().join("front");
    let mut build = cmd::cargo(ws.root());
    build
        .args(["build", "-p", "admin-ui", "--lib", "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&front)
        .env_remove("RUSTFLAGS");
    if release {
        build.args(["--profile", "wasm-release"]);
    }
    cmd::run(&mut build).context("building the console's window failed")?;
    let profile = if release { "wasm-release" } else { "debug" };
    let wasm = front.join(WASM_TARGET).join(profile).join("admin_ui.wasm");
    let dist = ws.root().join("admin-desktop/ui/dist");
    create_dir(&dist)?;
    bindgen(&wasm, &dist, "admin-ui", release)?;
    for file in ["index.html", "console.css"] {
        std::fs::copy(
            ws.root().join("admin-desktop/ui").join(file),
            dist.join(file),
        )
        .with_context(|| format!("copying admin-desktop/ui/{file}"))?;
    }
    Ok(())
}

/// Builds the app with the window embedded; returns the binary.
pub fn build_app(ws: &Workspace, release: bool) -> Result<std::path::PathBuf> {
    build_ui(ws, release)?;
    let mut app = cmd::cargo(ws.root());
    app.args([
        "build",
        "-p",
        "admin-desktop",
        "--features",
        "custom-protocol",
    ]);
    if release {
        app.arg("--release");
    }
    cmd::run(&mut app).context("building the console failed")?;
    let binary = ws
        .target_dir()
        .join(if release { "release" } else { "debug" })
        .join("admin-desktop");
    if !binary.exists() {
        bail!(
            "cargo built the console but {} is missing",
            binary.display()
        );
    }
    Ok(binary)
}

pub fn console(ws: &Workspace, release: bool) -> Result<()> {
    prerequisites::ensure_for_console()?;
    let binary = build_app(ws, release)?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!(
            "built {} but there is no display to open it on; on a machine without one, run it \
             under Xvfb: xvfb-run -a {}",
            binary.display(),
            binary.display()
        );
    }
    println!(
        "opening the console; log in at http://{HOST}:{API_PORT} with the demo staff account \
         staff@nexus.test / NexusStaff!2026 (after `cargo xtask up`)"
    );
    let status = Command::new(&binary)
        .status()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    if !status.success() {
        bail!("the console exited with {status}");
    }
    Ok(())
}

/// tauri-driver, the WebDriver front of the console's window tests (from crates.io; the
/// newest releases there are 3.0 alphas, so the version is pinned).
const TAURI_DRIVER_VERSION: &str = "2.1.0";

pub fn ensure_tauri_driver(ws: &Workspace) -> Result<()> {
    if cmd::on_path("tauri-driver") {
        return Ok(());
    }
    println!("tauri-driver is missing (drives the console's window tests); installing it");
    cmd::run(cmd::cargo(ws.root()).args([
        "install",
        "tauri-driver",
        "--version",
        TAURI_DRIVER_VERSION,
        "--locked",
    ]))
    .context("installing tauri-driver failed")
}

/// `command` with a display to open windows on: as it is when there is one, else under
/// `xvfb-run` (Debian's xvfb).
pub fn with_display(command: Command) -> Command {
    if std::env::var_os("DISPLAY").is_some() || !cmd::on_path("xvfb-run") {
        return command;
    }
    let mut wrapped = Command::new("xvfb-run");
    wrapped
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}
