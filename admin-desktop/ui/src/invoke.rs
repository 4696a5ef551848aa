//! The bridge to the console's Tauri commands (`window.__TAURI__`, from `withGlobalTauri`).

use console_protocol::{Command, Request, TAURI_COMMAND};
use serde::Serialize;
use serde::de::DeserializeOwned;
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

pub use console_protocol::CommandError;

/// Runs `command` in the console and reads its answer.
pub async fn call<C: Command>(command: C) -> Result<C::Answer, CommandError> {
    #[derive(Serialize)]
    struct Args {
        request: Request,
    }
    let request = command.into_request();
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = Args { request }
        .serialize(&serializer)
        .map_err(|e| CommandError::failed(format!("cannot send the command: {e}")))?;
    match tauri_invoke(TAURI_COMMAND, args).await {
        // The answer comes as JSON text so that 64-bit integers arrive exact (see the
        // console's Tauri command).
        Ok(value) => value
            .as_string()
            .ok_or_else(|| CommandError::failed("the console's answer is not JSON text"))
            .and_then(|text| {
                serde_json::from_str(&text).map_err(|e| {
                    CommandError::failed(format!("unexpected answer from the console: {e}"))
                })
            }),
        Err(error) => Err(
            serde_wasm_bindgen::from_value(error.clone()).unwrap_or_else(|_| {
                CommandError::failed(
                    error
                        .as_string()
                        .unwrap_or_else(|| format!("the command failed: {error:?}")),
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
