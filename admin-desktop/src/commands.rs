//! The one Tauri command: the window's request (console-protocol) handed to
//! `staff-console`, which serves it; training steps go back as window events.

use std::sync::Arc;

use console_protocol::churn::TrainingStep;
use console_protocol::{Request, TRAINING_PROGRESS};
use serde_json::Value;
use staff_console::{Console, ConsoleError};
use tauri::{AppHandle, Emitter, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn console(
    app: AppHandle,
    console: State<'_, Arc<Console>>,
    request: Request,
) -> Result<Value, ConsoleError> {
    let report = Arc::new(move |step: &TrainingStep| {
        // A window that closed meanwhile misses a step; the run goes on.
        let _ = app.emit(TRAINING_PROGRESS, step);
    });
    console.serve(request, report).await
}
