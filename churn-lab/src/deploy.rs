//! Shipping a trained model to storefront-api: upload the artifact to the registry and,
//! when asked, activate it. The only part of the library that talks to the API: over HTTP,
//! through storefront-client. Used by `churn-lab deploy` and the desktop console.

use storefront_client::account::LoginRequest;
use storefront_client::error::ErrorBody;
use storefront_client::{Client, ClientError};

use crate::artifact::ModelArtifact;

/// How the deployer proves it is staff.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A session token from `POST /api/v1/auth/login`.
    Token(String),
    /// A staff account; the password never appears on a command line.
    Login { email: String, password: String },
}

/// Why no credentials could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("set NEXUS_STAFF_PASSWORD to log in as {email}")]
    NoPassword { email: String },
    #[error("give --token (or NEXUS_API_TOKEN), or --email with NEXUS_STAFF_PASSWORD")]
    Missing,
}

impl Credentials {
    /// The credentials a deploy uses: a token when there is one (a session already proves
    /// staff), else a login, which needs both the email and the password.
    pub fn choose(
        token: Option<String>,
        email: Option<String>,
        password: Option<String>,
    ) -> Result<Self, CredentialsError> {
        match (token, email) {
            (Some(token), _) => Ok(Self::Token(token)),
            (None, Some(email)) => match password {
                Some(password) => Ok(Self::Login { email, password }),
                None => Err(CredentialsError::NoPassword { email }),
            },
            (None, None) => Err(CredentialsError::Missing),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub version: String,
    /// False when the registry already held this version (nothing uploaded).
    pub uploaded: bool,
    pub activated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("cannot reach the API at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the API refused the credentials: {0}")]
    Unauthorized(String),
    #[error("the API refused the model: {0}")]
    Rejected(String),
    #[error("the API failed ({status}): {message}")]
    Failed { status: u16, message: String },
}

impl DeployError {
    /// The client's failure in the deployer's terms; an envelope becomes one line:
    /// `code: message [field: message]…`.
    fn from_client(base_url: &str, error: ClientError) -> Self {
        let line = |body: &ErrorBody| {
            let mut line = format!("{}: {}", body.code, body.message);
            for field in body.field_errors() {
                line.push_str(&format!(" [{}: {}]", field.field, field.message));
            }
            line
        };
        match error {
            ClientError::Unreachable(message) => Self::Unreachable {
                url: base_url.to_owned(),
                message,
            },
            ClientError::Api { status, body } => match status {
                401 | 403 => Self::Unauthorized(line(&body)),
                500.. => Self::Failed {
                    status,
                    message: line(&body),
                },
                _ => Self::Rejected(line(&body)),
            },
            ClientError::Unexpected { status, message } => Self::Failed { status, message },
        }
    }
}

/// Uploads `artifact` to the API at `base_url` (e.g. `http://127.0.0.1:8080`) and activates it
/// when `activate` is set. A version the registry already holds is not an error.
pub async fn deploy(
    base_url: &str,
    credentials: &Credentials,
    artifact: &ModelArtifact,
    activate: bool,
) -> Result<Deployed, DeployError> {
    let failed = |error| DeployError::from_client(base_url, error);
    let api = Client::new(base_url);
    let token = match credentials {
        Credentials::Token(token) => token.clone(),
        Credentials::Login { email, password } => {
            let request = LoginRequest {
                email: email.clone(),
                password: password.clone(),
            };
            api.login(&request).await.map_err(failed)?.token
        }
    };
    let staff = api.with_token(token);
    let uploaded = match staff.upload_model(artifact.to_json()).await {
        Ok(_) => true,
        Err(ClientError::Api { status: 409, body }) if body.code == "version_exists" => false,
        Err(error) => return Err(failed(error)),
    };
    if activate {
        staff
            .activate_model(&artifact.version)
            .await
            .map_err(failed)?;
    }
    Ok(Deployed {
        version: artifact.version.clone(),
        uploaded,
        activated: activate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_wins_and_a_login_needs_its_password() {
        let some = |s: &str| Some(s.to_owned());
        assert!(matches!(
            Credentials::choose(some("t"), some("a@b.c"), None),
            Ok(Credentials::Token(t)) if t == "t"
        ));
        assert!(matches!(
            Credentials::choose(None, some("a@b.c"), some("pw")),
            Ok(Credentials::Login { email, password }) if email == "a@b.c" && password == "pw"
        ));
        assert_eq!(
            Credentials::choose(None, some("a@b.c"), None).unwrap_err(),
            CredentialsError::NoPassword {
                email: "a@b.c".into()
            }
        );
        assert_eq!(
            Credentials::choose(None, None, some("pw")).unwrap_err(),
            CredentialsError::Missing
        );
    }
}
