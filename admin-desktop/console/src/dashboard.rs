//! The dashboard screen.

use storefront_client::staff::dashboard::Dashboard;

use crate::{Console, ConsoleError};

impl Console {
    /// Sales today and over 30 days, orders waiting, low stock, customers by churn risk.
    pub async fn dashboard(&self) -> Result<Dashboard, ConsoleError> {
        self.call(|api| async move { api.dashboard().await }).await
    }
}
