//! A running console: the remembered API address, the staff session, the last training run.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

use storefront_client::Client;
use storefront_client::account::LoginRequest;

pub use console_protocol::session::{Session, Settings};

use crate::ConsoleError;
use crate::churn::{TrainedRun, TrainingSlot};

const SETTINGS_FILE: &str = "settings.json";

struct LoggedIn {
    session: Session,
    api: Client,
}

/// The console's state. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Console {
    dir: PathBuf,
    settings: Mutex<Settings>,
    logged_in: RwLock<Option<LoggedIn>>,
    pub(crate) last_run: Mutex<Option<TrainedRun>>,
    pub(crate) training: TrainingSlot,
}

/// `http://` or `https://` and a host, without a trailing slash.
fn check_address(raw: &str) -> Result<String, ConsoleError> {
    let address = raw.trim().trim_end_matches('/');
    let host = address
        .strip_prefix("http://")
        .or_else(|| address.strip_prefix("https://"));
    match host {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(address.to_owned())
        }
        _ => Err(ConsoleError::invalid(
            "api_address",
            "write the API's address like http://127.0.0.1:8080",
        )),
    }
}

impl Console {
    /// A console keeping its settings and training runs in `dir` (made if missing; the
    /// settings file is readable by the user alone).
    pub fn open(dir: &Path) -> Result<Self, ConsoleError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ConsoleError::Failed(format!("cannot create {}: {e}", dir.display())))?;
        let settings = std::fs::read(dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Ok(Self {
            dir: dir.to_owned(),
            settings: Mutex::new(settings),
            logged_in: RwLock::new(None),
            last_run: Mutex::new(None),
            training: TrainingSlot::default(),
        })
    }

    /// Where training runs are saved.
    pub fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn save_settings(&self, settings: &Settings) -> Result<(), ConsoleError> {
        let path = self.dir.join(SETTINGS_FILE);
        let body =
            serde_json::to_vec_pretty(settings).map_err(|e| ConsoleError::Failed(e.to_string()))?;
        write_private(&path, &body)
            .map_err(|e| ConsoleError::Failed(format!("cannot save {}: {e}", path.display())))?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings.clone();
        Ok(())
    }

    /// Logs in as staff at `api_address` and remembers the address. A customer account is
    /// refused: the console is for staff.
    pub async fn log_in(
        &self,
        api_address: &str,
        email: &str,
        password: &str,
    ) -> Result<Session, ConsoleError> {
        let address = check_address(api_address)?;
        if email.trim().is_empty() {
            return Err(ConsoleError::invalid("email", "is required"));
        }
        let api = Client::new(address.clone());
        let request = LoginRequest {
            email: email.trim().to_owned(),
            password: password.to_owned(),
        };
        let info = api.login(&request).await.map_err(|e| {
            match crate::error::from_client(&address, e) {
                // A wrong password is the API's 401: say so rather than "session ended".
                ConsoleError::SessionExpired => ConsoleError::Refused {
                    status: 401,
                    code: "invalid_credentials".to_owned(),
                    message: "The email or password is wrong.".to_owned(),
                    fields: Vec::new(),
                },
                other => other,
            }
        })?;
        let staff_api = api.with_token(info.token.clone());
        if !info.account.role.is_staff() {
            // Leave no session of a customer behind.
            let _ = staff_api.logout().await;
            return Err(ConsoleError::Refused {
                status: 403,
                code: "not_staff".to_owned(),
                message: "This account is a customer account; the console is for staff.".to_owned(),
                fields: Vec::new(),
            });
        }
        let session = Session {
            api_address: address.clone(),
            account: info.account,
            expires_at: info.expires_at,
            permissions: info.permissions,
        };
        self.save_settings(&Settings {
            api_address: address,
        })?;
        *self
            .logged_in
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(LoggedIn {
            session: session.clone(),
            api: staff_api,
        });
        Ok(session)
    }

    /// Ends the session at the API (best effort) and forgets it.
    pub async fn log_out(&self) {
        let api = self
            .logged_in
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|l| l.api);
        if let Some(api) = api {
            let _ = api.logout().await;
        }
    }

    pub fn session(&self) -> Option<Session> {
        self.logged_in
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|l| l.session.clone())
    }

    /// The staff client and the address it talks to.
    pub(crate) fn api(&self) -> Result<(Client, String), ConsoleError> {
        self.logged_in
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|l| (l.api.clone(), l.session.api_address.clone()))
            .ok_or(ConsoleError::NotLoggedIn)
    }

    /// Runs one API call with the staff client; failures in staff words. A session the API
    /// no longer knows is forgotten here too.
    pub(crate) async fn call<T, F>(&self, call: impl FnOnce(Client) -> F) -> Result<T, ConsoleError>
    where
        F: Future<Output = Result<T, storefront_client::ClientError>>,
    {
        let (api, address) = self.api()?;
        let result = call(api).await;
        result.map_err(|e| {
            let error = crate::error::from_client(&address, e);
            if error == ConsoleError::SessionExpired {
                *self
                    .logged_in
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = None;
            }
            error
        })
    }
}

/// Writes `body` to `path` readable and writable by the user alone.
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // An older file may have been made with wider permissions.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(body)
    }
    #[cfg(not(unix))]
    {
        options.open(path)?.write_all(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_tidied() {
        assert_eq!(
            check_address(" http://127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_address("127.0.0.1:8080").is_err());
        assert!(check_address("http://").is_err());
    }

    #[test]
    fn the_address_is_remembered_in_a_private_file() {
        let dir = std::env::temp_dir().join(format!("staff-console-{}", std::process::id()));
        let console = Console::open(&dir).unwrap();
        let settings = Settings {
            api_address: "http://shop.example:8080".into(),
        };
        console.save_settings(&settings).unwrap();
        assert_eq!(Console::open(&dir).unwrap().settings(), settings);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(SETTINGS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
