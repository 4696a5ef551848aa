//! The orders screens: lists with filters; the detail with lines, payments and audit trail;
//! fulfil, ship, deliver, cancel, refund, notes.

use storefront_client::money::Money;
use storefront_client::orders::OrderStatus;
use storefront_client::staff::orders::{
    NoteRequest, RefundRequest, StaffOrder, StaffOrderList, StaffOrderListParams, TransitionRequest,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

/// What staff do to an order. Each is confirmed in the UI before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    Fulfil,
    Ship {
        tracking_number: String,
    },
    Deliver,
    Cancel {
        reason: String,
    },
    /// An amount as typed (`12.50`) in the order's currency.
    Refund {
        amount: String,
        reason: String,
    },
    Note {
        body: String,
    },
}

impl Console {
    pub async fn orders(
        &self,
        filter: StaffOrderListParams,
    ) -> Result<StaffOrderList, ConsoleError> {
        self.call(|api| async move { api.staff_orders(&filter).await })
            .await
    }

    /// Paid orders waiting to be fulfilled, oldest first in the API's order.
    pub async fn orders_to_fulfil(&self, page: i64) -> Result<StaffOrderList, ConsoleError> {
        self.orders(StaffOrderListParams {
            status: Some(OrderStatus::Paid),
            page: Some(page.max(1)),
            limit: Some(50),
            ..StaffOrderListParams::default()
        })
        .await
    }

    pub async fn order(&self, id: Uuid) -> Result<StaffOrder, ConsoleError> {
        self.call(|api| async move { api.staff_order(id).await })
            .await
    }

    /// Does `action` to the order and returns it as it is now.
    pub async fn act_on_order(
        &self,
        id: Uuid,
        action: OrderAction,
    ) -> Result<StaffOrder, ConsoleError> {
        let transition =
            |to, tracking_number: Option<String>, reason: Option<String>| TransitionRequest {
                to,
                tracking_number,
                reason,
            };
        let request = match action {
            OrderAction::Fulfil => transition(OrderStatus::Fulfilled, None, None),
            OrderAction::Ship { tracking_number } => {
                let tracking_number = tracking_number.trim().to_owned();
                if tracking_number.is_empty() {
                    return Err(ConsoleError::invalid(
                        "tracking_number",
                        "is required to ship an order",
                    ));
                }
                transition(OrderStatus::Shipped, Some(tracking_number), None)
            }
            OrderAction::Deliver => transition(OrderStatus::Delivered, None, None),
            OrderAction::Cancel { reason } => {
                transition(OrderStatus::Cancelled, None, Some(reason))
            }
            OrderAction::Refund { amount, reason } => {
                let order = self.order(id).await?;
                let currency = order.order.totals.total.currency;
                let amount = Money::parse_amount(&amount, currency)
                    .map_err(|message| ConsoleError::invalid("amount", message))?;
                let request = RefundRequest {
                    amount_minor: amount.amount_minor,
                    reason,
                };
                return self
                    .call(|api| async move { api.refund_order(id, &request).await })
                    .await;
            }
            OrderAction::Note { body } => {
                let note = NoteRequest { body };
                return self
                    .call(|api| async move { api.add_order_note(id, &note).await })
                    .await;
            }
        };
        self.call(|api| async move { api.transition_order(id, &request).await })
            .await
    }
}
