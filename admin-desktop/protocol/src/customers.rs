//! One customer as the detail screen shows them.

use serde::{Deserialize, Serialize};
use storefront_client::orders::OrderSummary;
use storefront_client::staff::churn::CustomerChurn;
use storefront_client::staff::customers::{CustomerDetail, CustomerEmail};

use crate::CommandError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    pub customer: CustomerDetail,
    /// The latest orders, newest first.
    pub orders: Vec<OrderSummary>,
    pub order_count: i64,
    /// The churn score by the active model, or why there is none (no active model, no
    /// history yet).
    pub churn: Result<CustomerChurn, CommandError>,
    /// The latest emails the shop sent them, newest first, and how many there are.
    pub emails: Vec<CustomerEmail>,
    pub email_count: i64,
}
