//! Shipping a trained model to storefront-api: upload the artifact to the registry and,
//! when asked, activate it. The only part of the library that talks to the network, and only
//! to the API over HTTP. Used by `churn-lab deploy` and the desktop console.

use reqwest::StatusCode;
use serde_json::Value;

use crate::artifact::ModelArtifact;

/// How the deployer proves it is staff.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A session token from `POST /api/v1/auth/login`.
    Token(String),
    /// A staff account; the password never appears on a command line.
    Login { email: String, password: String },
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

/// The API's error envelope as one line: `code: message (details)`.
fn explain(body: &Value) -> String {
    let error = &body["error"];
    let mut line = format!(
        "{}: {}",
        error["code"].as_str().unwrap_or("error"),
        error["message"].as_str().unwrap_or("no message")
    );
    if let Some(fields) = error["details"]["fields"].as_array() {
        for field in fields {
            line.push_str(&format!(
                " [{}: {}]",
                field["field"].as_str().unwrap_or("?"),
                field["message"].as_str().unwrap_or("?")
            ));
        }
    }
    line
}

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Value), DeployError> {
        let response = request.send().await.map_err(|e| DeployError::Unreachable {
            url: self.base.clone(),
            message: e.to_string(),
        })?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(DeployError::Unauthorized(explain(&body)))
            }
            s if s.is_server_error() => Err(DeployError::Failed {
                status: s.as_u16(),
                message: explain(&body),
            }),
            s => Ok((s, body)),
        }
    }

    async fn token(&self, credentials: &Credentials) -> Result<String, DeployError> {
        let (email, password) = match credentials {
            Credentials::Token(token) => return Ok(token.clone()),
            Credentials::Login { email, password } => (email, password),
        };
        let (status, body) = self
            .send(
                self.client
                    .post(self.url("/api/v1/auth/login"))
                    .json(&serde_json::json!({ "email": email, "password": password })),
            )
            .await?;
        match body["session"]["token"].as_str() {
            Some(token) if status.is_success() => Ok(token.to_owned()),
            _ => Err(DeployError::Unauthorized(explain(&body))),
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
    let api = Api {
        base: base_url.to_owned(),
        client: reqwest::Client::new(),
    };
    let token = api.token(credentials).await?;
    let (status, body) = api
        .send(
            api.client
                .post(api.url("/api/v1/admin/churn/models"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(artifact.to_json()),
        )
        .await?;
    let uploaded = match status {
        StatusCode::CREATED => true,
        StatusCode::CONFLICT if body["error"]["code"] == "version_exists" => false,
        _ => return Err(DeployError::Rejected(explain(&body))),
    };
    if activate {
        let path = format!("/api/v1/admin/churn/models/{}/activate", artifact.version);
        let (status, body) = api
            .send(api.client.post(api.url(&path)).bearer_auth(&token))
            .await?;
        if !status.is_success() {
            return Err(DeployError::Rejected(explain(&body)));
        }
    }
    Ok(Deployed {
        version: artifact.version.clone(),
        uploaded,
        activated: activate,
    })
}
