//! The one Tauri command: the window's request (console-protocol) handed to
//! `staff-console`, which serves it; training steps go back as window events.

use std::sync::Arc;

use console_protocol::churn::TrainingStep;
use console_protocol::{Request, TRAINING_PROGRESS};
use staff_console::{Console, ConsoleError};
use tauri::{AppHandle, Emitter, State};

/// Answers with the answer's JSON text, which the window reads with serde_json: as a
/// JavaScript value, an integer beyond 2^53 (a campaign's seed) would arrive rounded and the
/// window could not read it as the `i64` it is.
#[tauri::command(rename_all = "snake_case")]
pub async fn console(
    app: AppHandle,
    console: State<'_, Arc<Console>>,
    request: Request,
) -> Result<String, ConsoleError> {
    let report = Arc::new(move |step: &TrainingStep| {
        // A window that closed meanwhile misses a step; the run goes on.
        let _ = app.emit(TRAINING_PROGRESS, step);
    });
    Ok(console.serve(request, report).await?.to_string())
}
