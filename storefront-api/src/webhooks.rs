//! Webhook endpoints as staff manage them: checked (shape, scheme, topics, and every address
//! the host resolves to, before any connection is made), stored with a fresh signing
//! secret, changed, rotated, removed; and their delivery logs, with replay.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use rand::RngCore;
use storefront_client::staff::webhooks::{
    NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointPatch, WebhookEndpointWithSecret,
};
use storefront_client::webhooks::SECRET_PREFIX;
use uuid::Uuid;

use crate::{
    domain::{
        FieldError,
        webhooks::{EndpointChange, EndpointUrl, NetworkPolicy, NewEndpoint, refused_address},
    },
    error::{ApiError, ApiResult},
    state::AppState,
    storage,
};

/// A new signing secret: 24 random bytes, `whsec_` and base64 (Standard Webhooks).
fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", BASE64.encode(key))
}

/// Refuses a URL whose host resolves to nothing, or to an address the policy forbids (one
/// such address is enough: a delivery could be sent to it).
async fn check_resolves(url: &EndpointUrl, policy: NetworkPolicy) -> Result<(), FieldError> {
    let (host, port) = url.host_and_port();
    let found = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|error| {
            FieldError::new("url", format!("has a host that does not resolve ({error})"))
        })?;
    let mut any = false;
    for address in found {
        any = true;
        if !policy.allows(address.ip()) {
            return Err(FieldError::new("url", refused_address(address.ip())));
        }
    }
    if any {
        Ok(())
    } else {
        Err(FieldError::new("url", "has a host without addresses"))
    }
}

/// Registers an endpoint; the answer carries its secret, which is never shown again.
pub async fn register(
    state: &AppState,
    draft: &NewWebhookEndpoint,
    actor: Uuid,
) -> ApiResult<WebhookEndpointWithSecret> {
    let policy = state.settings.webhooks.policy();
    let new = NewEndpoint::parse(draft, policy).map_err(ApiError::Validation)?;
    check_resolves(&new.url, policy)
        .await
        .map_err(|field| ApiError::Validation(vec![field]))?;
    let secret = new_secret();
    let webhook_endpoint = storage::webhooks::create(&state.db, &new, &secret, actor).await?;
    Ok(WebhookEndpointWithSecret {
        webhook_endpoint,
        secret,
    })
}

/// Changes an endpoint (a new URL is checked as a new one is).
pub async fn change(
    state: &AppState,
    id: Uuid,
    patch: &WebhookEndpointPatch,
    actor: Uuid,
) -> ApiResult<WebhookEndpoint> {
    let policy = state.settings.webhooks.policy();
    let change = EndpointChange::parse(patch, policy).map_err(ApiError::Validation)?;
    if let Some(url) = &change.url {
        check_resolves(url, policy)
            .await
            .map_err(|field| ApiError::Validation(vec![field]))?;
    }
    Ok(storage::webhooks::change(&state.db, id, &change, actor).await?)
}

/// Gives an endpoint a new secret; the old one stops signing at once.
pub async fn rotate_secret(
    state: &AppState,
    id: Uuid,
    actor: Uuid,
) -> ApiResult<WebhookEndpointWithSecret> {
    let secret = new_secret();
    let webhook_endpoint = storage::webhooks::rotate_secret(&state.db, id, &secret, actor).await?;
    Ok(WebhookEndpointWithSecret {
        webhook_endpoint,
        secret,
    })
}
