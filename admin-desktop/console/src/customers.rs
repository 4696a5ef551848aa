//! The customers screens: search; the detail with orders, churn probability, band and the
//! reasons behind it, and the emails the shop sent them (with a resend).

use storefront_client::staff::customers::{
    CustomerEmail, CustomerEmailParams, CustomerList, CustomerParams,
};
use storefront_client::staff::orders::StaffOrderListParams;
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::customers::CustomerView;

impl Console {
    pub async fn customers(
        &self,
        text: Option<&str>,
        page: i64,
    ) -> Result<CustomerList, ConsoleError> {
        let params = CustomerParams {
            q: text
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            page: Some(page.max(1)),
            limit: Some(25),
        };
        self.call(|api| async move { api.customers(&params).await })
            .await
    }

    /// The one customer `text` names: their whole email, or a part of their email or name
    /// that nobody else matches.
    pub async fn customer_named(&self, text: &str) -> Result<Uuid, ConsoleError> {
        let found = self.customers(Some(text), 1).await?;
        let exact = found
            .customers
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(text.trim()));
        match (exact, found.customers.as_slice()) {
            (Some(customer), _) | (None, [customer]) => Ok(customer.id),
            (None, []) => Err(ConsoleError::invalid(
                "customer",
                format!("no customer matches `{}`", text.trim()),
            )),
            (None, _) => Err(ConsoleError::invalid(
                "customer",
                format!(
                    "{} customers match `{}`; type the whole email",
                    found.meta.total,
                    text.trim()
                ),
            )),
        }
    }

    pub async fn customer(&self, id: Uuid) -> Result<CustomerView, ConsoleError> {
        let customer = self
            .call(|api| async move { api.customer(id).await })
            .await?;
        let filter = StaffOrderListParams {
            customer_id: Some(id),
            limit: Some(20),
            ..StaffOrderListParams::default()
        };
        let orders = self.orders(filter).await?;
        let churn = self
            .call(|api| async move { api.customer_churn(id).await })
            .await;
        if churn == Err(ConsoleError::SessionExpired) {
            return Err(ConsoleError::SessionExpired);
        }
        let params = CustomerEmailParams {
            page: Some(1),
            limit: Some(10),
        };
        let emails = self
            .call(|api| async move { api.customer_emails(id, &params).await })
            .await?;
        Ok(CustomerView {
            customer,
            orders: orders.orders,
            order_count: orders.meta.total,
            churn: churn.map_err(|error| (&error).into()),
            emails: emails.emails,
            email_count: emails.meta.total,
        })
    }

    /// Sends a customer's email again (a sent, dead or skipped one).
    pub async fn resend_customer_email(
        &self,
        customer_id: Uuid,
        email_id: i64,
    ) -> Result<CustomerEmail, ConsoleError> {
        self.call(|api| async move { api.resend_customer_email(customer_id, email_id).await })
            .await
    }
}
