//! The campaigns screen: retention campaigns listed, previewed and launched from the form
//! staff typed, each one's results per arm, pause, resume and end. Needs the `campaigns`
//! permission (admins and staff).

use storefront_client::staff::campaigns::{
    AudiencePreview, Campaign, CampaignDetail, CampaignList, CampaignStatus,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::campaigns::{CampaignForm, OfferKind};

impl Console {
    pub async fn campaigns(&self) -> Result<CampaignList, ConsoleError> {
        self.call(|api| async move { api.campaigns().await }).await
    }

    /// Who the typed campaign would reach today, launching nothing.
    pub async fn preview_campaign(
        &self,
        form: &CampaignForm,
    ) -> Result<AudiencePreview, ConsoleError> {
        let draft = form.to_draft()?;
        self.call(|api| async move { api.preview_campaign(&draft).await })
            .await
    }

    /// Launches the typed campaign: who qualifies now gets the offer (or is held out) at once.
    pub async fn launch_campaign(&self, form: &CampaignForm) -> Result<Campaign, ConsoleError> {
        let draft = form.to_draft()?;
        self.call(|api| async move { api.launch_campaign(&draft).await })
            .await
    }

    pub async fn campaign(&self, id: Uuid) -> Result<CampaignDetail, ConsoleError> {
        self.call(|api| async move { api.campaign(id).await }).await
    }

    pub async fn set_campaign_status(
        &self,
        id: Uuid,
        status: CampaignStatus,
    ) -> Result<Campaign, ConsoleError> {
        self.call(|api| async move { api.set_campaign_status(id, status).await })
            .await
    }
}
