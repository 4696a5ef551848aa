//! The webhooks screen: endpoints (register, pause, resume) and each one's delivery log, with
//! replay. Needs the `integrations` permission (admins).

use storefront_client::staff::webhooks::{
    DeliveryQuery, DeliveryStatus, NewWebhookEndpoint, WebhookDelivery, WebhookDeliveryPage,
    WebhookEndpoint, WebhookEndpointList, WebhookEndpointPatch, WebhookEndpointWithSecret,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

/// Deliveries per page of the log.
const LOG_PAGE: i64 = 25;

impl Console {
    pub async fn webhooks(&self) -> Result<WebhookEndpointList, ConsoleError> {
        self.call(|api| async move { api.webhook_endpoints().await })
            .await
    }

    pub async fn webhook_topics(&self) -> Result<Vec<String>, ConsoleError> {
        self.call(|api| async move { api.webhook_topics().await })
            .await
    }

    pub async fn create_webhook(
        &self,
        url: String,
        topics: Vec<String>,
        description: Option<String>,
    ) -> Result<WebhookEndpointWithSecret, ConsoleError> {
        let endpoint = NewWebhookEndpoint {
            url: url.trim().to_owned(),
            topics,
            description: description.filter(|d| !d.trim().is_empty()),
        };
        self.call(|api| async move { api.create_webhook_endpoint(&endpoint).await })
            .await
    }

    pub async fn set_webhook_enabled(
        &self,
        id: Uuid,
        enabled: bool,
    ) -> Result<WebhookEndpoint, ConsoleError> {
        let patch = WebhookEndpointPatch {
            enabled: Some(enabled),
            ..WebhookEndpointPatch::default()
        };
        self.call(|api| async move { api.change_webhook_endpoint(id, &patch).await })
            .await
    }

    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        status: Option<DeliveryStatus>,
        page: i64,
    ) -> Result<WebhookDeliveryPage, ConsoleError> {
        let query = DeliveryQuery {
            status,
            page: Some(page.max(1)),
            limit: Some(LOG_PAGE),
        };
        self.call(|api| async move { api.webhook_deliveries(id, &query).await })
            .await
    }

    pub async fn replay_webhook_delivery(
        &self,
        id: Uuid,
        delivery_id: i64,
    ) -> Result<WebhookDelivery, ConsoleError> {
        self.call(|api| async move { api.replay_webhook_delivery(id, delivery_id).await })
            .await
    }
}
