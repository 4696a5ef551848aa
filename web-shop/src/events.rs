//! Behaviour events from the browser: visits, product views, searches, cart changes and
//! checkout starts, for the API's churn features. They queue in memory and go to
//! `/api/v1/events` in batches: when [`BATCH`] have piled up, every [`FLUSH_EVERY`], and by
//! `navigator.sendBeacon` when the page is hidden or left, so the last ones survive a closed
//! tab. The browser keeps an anonymous id in `localStorage`; the API attributes events to the
//! logged-in account from the session cookie, never from the event.
//!
//! On the server (and in a browser without JavaScript) nothing is tracked: [`track`] and
//! [`start`] do nothing there.

use serde_json::{Map, Value};
use storefront_client::events::EventKind;

/// Events that make a batch worth sending at once.
pub const BATCH: usize = 20;
/// The longest an event waits in the queue while the page is open.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Queues an event; properties as the API's event kind asks for.
pub fn track(kind: EventKind, properties: Map<String, Value>) {
    #[cfg(feature = "hydrate")]
    browser::track(kind, properties);
    #[cfg(not(feature = "hydrate"))]
    let _ = (kind, properties);
}

/// Properties from `key => value` pairs.
#[macro_export]
macro_rules! properties {
    ($($key:literal => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = serde_json::Map::new();
        $(map.insert($key.to_owned(), serde_json::json!($value));)*
        map
    }};
}

/// Starts the tracker once the page is interactive: a `session_start` for a new visit (per
/// tab), the periodic flush, and the flush when the page goes away.
pub fn start() {
    #[cfg(feature = "hydrate")]
    browser::start();
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};

    use leptos::prelude::*;
    use serde_json::{Map, Value};
    use storefront_client::events::{EventBatch, EventKind, MAX_BATCH, ShopEvent};

    use super::{BATCH, FLUSH_EVERY};

    /// Events kept for retry while the API cannot be reached; older ones are dropped first.
    const MAX_QUEUED: usize = 500;
    const ANONYMOUS_ID_KEY: &str = "nexus.anonymous_id";
    const VISIT_KEY: &str = "nexus.visit";
    const EVENTS_PATH: &str = "/api/v1/events";

    thread_local! {
        static QUEUE: RefCell<Vec<ShopEvent>> = const { RefCell::new(Vec::new()) };
        static STARTED: Cell<bool> = const { Cell::new(false) };
        /// Used when `localStorage` is not available (some private modes).
        static FALLBACK_ID: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    fn random_id() -> String {
        web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.random_uuid())
            .unwrap_or_else(|| format!("t{}", js_sys::Date::now() as u64))
    }

    fn anonymous_id() -> String {
        let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        if let Some(storage) = storage {
            if let Ok(Some(id)) = storage.get_item(ANONYMOUS_ID_KEY) {
                return id;
            }
            let id = random_id();
            if storage.set_item(ANONYMOUS_ID_KEY, &id).is_ok() {
                return id;
            }
        }
        FALLBACK_ID.with(|cell| cell.borrow_mut().get_or_insert_with(random_id).clone())
    }

    pub fn track(kind: EventKind, properties: Map<String, Value>) {
        let event = ShopEvent {
            kind,
            anonymous_id: anonymous_id(),
            occurred_at: crate::api::now(),
            properties,
        };
        let full = QUEUE.with(|queue| {
            let mut queue = queue.borrow_mut();
            queue.push(event);
            let excess = queue.len().saturating_sub(MAX_QUEUED);
            queue.drain(..excess);
            queue.len() >= BATCH
        });
        if full {
            flush();
        }
    }

    /// Takes one batch off the queue.
    fn take_batch() -> Option<EventBatch> {
        QUEUE.with(|queue| {
            let mut queue = queue.borrow_mut();
            let n = queue.len().min(MAX_BATCH);
            (n > 0).then(|| EventBatch {
                events: queue.drain(..n).collect(),
            })
        })
    }

    /// Sends what is queued; events the API could not take now (unreachable, or its event
    /// store down: a 503) go back to the queue for the next flush.
    fn flush() {
        while let Some(batch) = take_batch() {
            let api = crate::api::client();
            leptos::task::spawn_local(async move {
                if let Err(error) = api.record_events(&batch).await
                    && error.is_transient()
                {
                    QUEUE.with(|queue| {
                        let mut queue = queue.borrow_mut();
                        let later = std::mem::replace(&mut *queue, batch.events);
                        queue.extend(later);
                    });
                }
            });
        }
    }

    /// The page is going away: hand everything to the browser, which sends it even after the
    /// page is gone.
    fn flush_with_beacon() {
        let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
            return;
        };
        while let Some(batch) = take_batch() {
            let Ok(json) = serde_json::to_string(&batch) else {
                continue;
            };
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/json");
            let parts = js_sys::Array::of1(&json.into());
            if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
                let _ = navigator.send_beacon_with_opt_blob(EVENTS_PATH, Some(&blob));
            }
        }
    }

    pub fn start() {
        if STARTED.with(|started| started.replace(true)) {
            return;
        }
        let session = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
        let new_visit = session
            .as_ref()
            .is_none_or(|s| s.get_item(VISIT_KEY).ok().flatten().is_none());
        if new_visit {
            if let Some(session) = &session {
                let _ = session.set_item(VISIT_KEY, "1");
            }
            track(EventKind::SessionStart, Map::new());
        }
        let _ = set_interval_with_handle(flush, FLUSH_EVERY);
        // The listeners live as long as the page (dropping a handle keeps its listener).
        window_event_listener_untyped("visibilitychange", |_| {
            let hidden = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
            if hidden {
                flush_with_beacon();
            }
        });
        window_event_listener_untyped("pagehide", |_| flush_with_beacon());
    }
}
