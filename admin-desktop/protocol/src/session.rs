//! Where the console points and who is logged in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use storefront_client::account::{Account, Permission};

/// What the console remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// storefront-api's base address, e.g. `http://127.0.0.1:8080`.
    pub api_address: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_address: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// Who is logged in, and where. The token stays in the console's memory: it is never sent
/// to the window nor written to disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub api_address: String,
    pub account: Account,
    pub expires_at: DateTime<Utc>,
    /// What the account's role may do (the API's answer at login): the window shows only
    /// the screens these open.
    pub permissions: Vec<Permission>,
}
