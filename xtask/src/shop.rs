//! The web shop's build and run. Built with plain cargo and a `cargo install`ed
//! wasm-bindgen-cli pinned to the lockfile's wasm-bindgen (ARCHITECTURE.md says why not
//! cargo-leptos): the server binary (`ssr`), the browser bundle (`hydrate`, wasm32, in its
//! own target directory so host build artifacts never flip between the two feature sets),
//! then wasm-bindgen's JavaScript glue and the static assets into the site directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::stack::{API_PORT, HOST, SHOP, SHOP_PORT, SHOP_READY_TIMEOUT_SECS};
use crate::workspace::{Workspace, create_dir};
use crate::{api, cmd, process};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// A built shop: the server binary and the site directory it serves.
#[derive(Debug, Clone)]
pub struct ShopBuild {
    pub binary: PathBuf,
    pub site_root: PathBuf,
}

pub fn build(ws: &Workspace, release: bool) -> Result<ShopBuild> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen(ws)?;
    let profile = if release { "release" } else { "debug" };

    let mut server = cmd::cargo(ws.root());
    server.args(["build", "-p", "web-shop", "--bin", "web-shop"]);
    if release {
        server.arg("--release");
    }
    cmd::run(&mut server).context("building the web shop's server failed")?;

    let front_target = ws.target_dir().join("front");
    let mut browser = cmd::cargo(ws.root());
    browser
        .args(["build", "-p", "web-shop", "--lib", "--target", WASM_TARGET])
        .args(["--no-default-features", "--features", "hydrate"])
        .arg("--target-dir")
        .arg(&front_target)
        // The host's linker flags (mold) mean nothing to the wasm linker.
        .env_remove("RUSTFLAGS");
    // Release bundles use the size-first `wasm-release` profile of the workspace Cargo.toml.
    let browser_profile = if release { "wasm-release" } else { "debug" };
    if release {
        browser.args(["--profile", "wasm-release"]);
    }
    cmd::run(&mut browser).context("building the web shop's browser bundle failed")?;

    let site_root = ws.target_dir().join("site");
    let pkg = site_root.join("pkg");
    create_dir(&pkg)?;
    let wasm = front_target
        .join(WASM_TARGET)
        .join(browser_profile)
        .join("web_shop.wasm");
    bindgen(&wasm, &pkg, "web-shop", release)?;
    copy_dir(&ws.root().join("web-shop/public"), &site_root)?;
    let binary = ws.target_dir().join(profile).join("web-shop");
    if !binary.exists() {
        bail!(
            "cargo built the web shop but {} is missing",
            binary.display()
        );
    }
    Ok(ShopBuild { binary, site_root })
}

/// wasm-bindgen's JavaScript glue for the browser (`--target web`) into `out_dir`.
pub fn bindgen(wasm: &Path, out_dir: &Path, out_name: &str, release: bool) -> Result<()> {
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen.args(["--target", "web", "--no-typescript", "--out-name", out_name]);
    if release {
        // Function names only serve debugging: a release bundle is a third of the size without.
        bindgen.args(["--remove-name-section", "--remove-producers-section"]);
    }
    cmd::run(bindgen.arg("--out-dir").arg(out_dir).arg(wasm))
        .with_context(|| format!("wasm-bindgen failed for {out_name}"))
}

pub fn ensure_wasm_target() -> Result<()> {
    let installed = cmd::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("cannot ask rustup for the installed targets")?;
    if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!(
            "the Rust target {WASM_TARGET} is missing (the shop's and console's browser side); adding it"
        );
        cmd::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// wasm-bindgen's CLI must be exactly the library's version from Cargo.lock.
pub fn ensure_wasm_bindgen(ws: &Workspace) -> Result<()> {
    let version = locked_version(ws, "wasm-bindgen")?;
    let installed = cmd::probe(
        Command::new("wasm-bindgen").arg("--version"),
        Some(&format!("wasm-bindgen {version}")),
    );
    if !installed {
        println!(
            "wasm-bindgen-cli {version} is missing (binds the browser side's wasm, at Cargo.lock's version); installing it"
        );
        // Not `--locked`: wasm-bindgen-cli's own lockfile names crate versions the registry no
        // longer serves.
        cmd::run(cmd::cargo(ws.root()).args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
        ]))
        .context("installing wasm-bindgen-cli failed")?;
    }
    Ok(())
}

/// The version Cargo.lock pins for `package`.
pub fn locked_version(ws: &Workspace, package: &str) -> Result<String> {
    let lock =
        fs::read_to_string(ws.root().join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .with_context(|| format!("Cargo.lock has no {package}"))?
        + marker.len();
    let end = lock[start..].find('"').context("Cargo.lock is malformed")?;
    Ok(lock[start..start + end].to_owned())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    create_dir(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

pub fn shop_url() -> String {
    format!("http://{HOST}:{SHOP_PORT}")
}

/// Replaces a shop started earlier by `up` and waits until it answers.
pub fn serve(ws: &Workspace, build: &ShopBuild) -> Result<()> {
    process::stop_tracked(ws, &SHOP)?;
    let addr = format!("{HOST}:{SHOP_PORT}");
    if process::tcp_accepts(addr.parse()?) {
        bail!(
            "{addr} is already taken by a process that `cargo xtask up` did not start; stop it \
             and run `cargo xtask up` again"
        );
    }
    let log = ws.log_file(SHOP.name);
    let mut command = Command::new(&build.binary);
    command
        .current_dir(ws.root())
        .env("NEXUS_SHOP_ADDR", &addr)
        .env("NEXUS_SHOP_API_URL", format!("http://{HOST}:{API_PORT}"))
        .env("LEPTOS_SITE_ROOT", &build.site_root);
    let mut child = process::spawn_detached(&mut command, &log, &ws.pid_file(SHOP.name))?;
    let ready = process::poll_until(Duration::from_secs(SHOP_READY_TIMEOUT_SECS), || {
        process::ensure_alive(&mut child, "web-shop", &log)?;
        Ok(api::http_get(addr.parse()?, "/healthz").is_ok_and(|(status, _)| status == 200))
    })?;
    if !ready {
        return Err(process::failure_with_log(
            &format!("the web shop did not answer on {addr} within {SHOP_READY_TIMEOUT_SECS} s"),
            &log,
        ));
    }
    Ok(())
}
