//! The promotions screen: automatic promotions listed with what they used of their budgets,
//! created from the form staff typed, paused and resumed. Needs the `campaigns` permission
//! (admins and staff).

use storefront_client::staff::promotions::{PromotionList, StaffPromotion};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::promotions::{PromotionForm, PromotionKind, TierForm};

impl Console {
    pub async fn promotions(&self) -> Result<PromotionList, ConsoleError> {
        self.call(|api| async move { api.promotions().await }).await
    }

    /// Creates the typed promotion; it runs at once (or from its start).
    pub async fn create_promotion(
        &self,
        form: &PromotionForm,
    ) -> Result<StaffPromotion, ConsoleError> {
        let draft = form.to_draft()?;
        self.call(|api| async move { api.create_promotion(&draft).await })
            .await
    }

    pub async fn set_promotion_active(
        &self,
        id: Uuid,
        active: bool,
    ) -> Result<StaffPromotion, ConsoleError> {
        self.call(|api| async move { api.set_promotion_active(id, active).await })
            .await
    }
}
