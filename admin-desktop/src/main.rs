//! The staff console's window. Its one command hands each request to `staff-console`, where
//! the logic lives and is tested without a window; this crate only wires it to Tauri.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::path::PathBuf;
use std::sync::Arc;

use staff_console::Console;

/// Where the console keeps its settings and training runs: `$NEXUS_CONSOLE_DIR`, else
/// `$XDG_CONFIG_HOME/nexus-console`, else `~/.config/nexus-console`.
fn console_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NEXUS_CONSOLE_DIR") {
        return PathBuf::from(dir);
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .unwrap_or_else(std::env::temp_dir);
    config.join("nexus-console")
}

fn main() {
    let dir = console_dir();
    let console = match Console::open(&dir) {
        Ok(console) => Arc::new(console),
        Err(error) => {
            eprintln!("admin-desktop: {error}");
            std::process::exit(1);
        }
    };
    let result = tauri::Builder::default()
        .manage(console)
        .invoke_handler(tauri::generate_handler![commands::console])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("admin-desktop: {error}");
        std::process::exit(1);
    }
}
