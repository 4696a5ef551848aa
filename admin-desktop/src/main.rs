//! The staff console's window. Every command forwards to `staff-console`, where the logic
//! lives and is tested without a window; this crate only wires those functions to Tauri.

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
        .manage(commands::Training::default())
        .invoke_handler(tauri::generate_handler![
            commands::settings,
            commands::session,
            commands::log_in,
            commands::log_out,
            commands::dashboard,
            commands::products,
            commands::product,
            commands::categories,
            commands::create_product,
            commands::add_variant,
            commands::edit_variant,
            commands::set_price,
            commands::update_product,
            commands::archive_product,
            commands::adjust_stock,
            commands::stock_reasons,
            commands::stock_history,
            commands::find_orders,
            commands::order,
            commands::act_on_order,
            commands::customers,
            commands::customer,
            commands::train,
            commands::cancel_training,
            commands::last_run,
            commands::deploy_last_run,
            commands::models,
            commands::activate_model,
            commands::roll_back_model,
            commands::score_all,
            commands::score_job,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("admin-desktop: {error}");
        std::process::exit(1);
    }
}
