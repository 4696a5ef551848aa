//! The bridge to the console's Tauri commands (`window.__TAURI__`, from `withGlobalTauri`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use storefront_client::error::FieldError;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

/// What a command refused with (the console's `ConsoleError`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UiError {
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl UiError {
    fn local(message: impl Into<String>) -> Self {
        Self {
            kind: "failed".into(),
            message: message.into(),
            code: None,
            fields: Vec::new(),
        }
    }

    /// Input the window itself rejects before calling the console.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: "invalid".into(),
            ..Self::local(message)
        }
    }

    pub fn session_over(&self) -> bool {
        matches!(self.kind.as_str(), "not_logged_in" | "session_expired")
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Calls `command` with `args` (an object of snake_case arguments).
pub async fn call<T: DeserializeOwned>(command: &str, args: impl Serialize) -> Result<T, UiError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args
        .serialize(&serializer)
        .map_err(|e| UiError::local(format!("cannot send {command}: {e}")))?;
    match tauri_invoke(command, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| UiError::local(format!("unexpected answer to {command}: {e}"))),
        Err(error) => Err(
            serde_wasm_bindgen::from_value(error.clone()).unwrap_or_else(|_| {
                UiError::local(
                    error
                        .as_string()
                        .unwrap_or_else(|| format!("{command} failed: {error:?}")),
                )
            }),
        ),
    }
}

/// Calls `handler` with each payload of the console's `event` for as long as the window lives.
pub fn listen<T: DeserializeOwned + 'static>(
    event: &'static str,
    mut handler: impl FnMut(T) + 'static,
) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
        let payload =
            js_sys::Reflect::get(&message, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(value) = serde_wasm_bindgen::from_value(payload) {
            handler(value);
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tauri_listen(event, &closure).await;
        // The listener lives as long as the window.
        closure.forget();
    });
}

/// No arguments.
#[derive(Serialize)]
pub struct NoArgs {}
