//! The staff view of customers: search and detail.

use serde::{Deserialize, Serialize};

use crate::account::{Account, Address};
use crate::lists::PageMeta;

/// `GET /api/v1/admin/customers` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    /// Part of the email or name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerList {
    pub customers: Vec<Account>,
    pub meta: PageMeta,
}

/// One customer with their saved addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub account: Account,
    pub addresses: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerEnvelope {
    pub customer: CustomerDetail,
}

/// Where one email to a customer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Still to be sent, or to be retried at `next_attempt_at`.
    Pending,
    /// The shop's SMTP server took it.
    Sent,
    /// Every attempt failed, or the server refused it for good; staff may send it again.
    Dead,
    /// Not sent on purpose: the account was erased, or a marketing email met no consent.
    Skipped,
}

impl EmailStatus {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Sent, Self::Dead, Self::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(status: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == status)
    }
}

/// One email the shop sent (or is sending) a customer, as support reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerEmail {
    pub id: i64,
    /// `order_confirmation`, `order_shipped`, `order_delivered`, `order_refunded`,
    /// `password_reset` or `offer`.
    pub kind: String,
    /// The outbox message it answers (its `webhook-id` for webhook receivers too).
    pub message_id: uuid::Uuid,
    pub topic: String,
    /// The order it is about, if any.
    pub order_id: Option<uuid::Uuid>,
    pub status: EmailStatus,
    pub attempts: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed, or why it was skipped.
    pub last_error: Option<String>,
}

/// `GET /api/v1/admin/customers/{id}/emails`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerEmailList {
    pub emails: Vec<CustomerEmail>,
    pub meta: PageMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerEmailEnvelope {
    pub email: CustomerEmail,
}

/// `GET /api/v1/admin/customers/{id}/emails` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CustomerEmailParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}
