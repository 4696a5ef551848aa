//! The orders screens: lists with filters; the detail with lines, payments and audit trail;
//! fulfil, ship, deliver, cancel, refund, notes; the returns queue and each return's steps.

use storefront_client::money::Money;
use storefront_client::orders::OrderStatus;
use storefront_client::returns::ReturnStatus;
use storefront_client::staff::orders::{
    NoteRequest, RefundRequest, StaffOrder, StaffOrderList, StaffOrderListParams, TransitionRequest,
};
use storefront_client::staff::returns::{
    ReceiveReturnRequest, ReceivedLine, RefundReturnRequest, RefuseReturnRequest, StaffReturnList,
    StaffReturnListParams,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::orders::{OrderAction, OrderFilter, OrderView};

impl Console {
    /// Orders matching what staff typed into the list's filters.
    pub async fn find_orders(&self, filter: OrderFilter) -> Result<StaffOrderList, ConsoleError> {
        let mut params = filter.to_params()?;
        let customer = filter.customer.trim();
        if !customer.is_empty() {
            params.customer_id = Some(self.customer_named(customer).await?);
        }
        self.orders(params).await
    }

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

    /// Returns in `status` (any when `None`), newest first.
    pub async fn returns(
        &self,
        status: Option<ReturnStatus>,
        page: i64,
    ) -> Result<StaffReturnList, ConsoleError> {
        let params = StaffReturnListParams {
            status,
            page: Some(page.max(1)),
            limit: Some(25),
            ..StaffReturnListParams::default()
        };
        self.call(|api| async move { api.staff_returns(&params).await })
            .await
    }

    pub async fn order(&self, id: Uuid) -> Result<OrderView, ConsoleError> {
        let order = self
            .call(|api| async move { api.staff_order(id).await })
            .await?;
        self.with_customer(order).await
    }

    /// The order with who placed it (`None` when their account is gone).
    async fn with_customer(&self, detail: StaffOrder) -> Result<OrderView, ConsoleError> {
        let account_id = detail.order.account_id;
        let customer = match self
            .call(|api| async move { api.customer(account_id).await })
            .await
        {
            Ok(detail) => Some(detail.account),
            Err(ConsoleError::Refused { status: 404, .. }) => None,
            Err(error) => return Err(error),
        };
        Ok(OrderView { detail, customer })
    }

    /// Does `action` to the order and returns it as it is now.
    pub async fn act_on_order(
        &self,
        id: Uuid,
        action: OrderAction,
    ) -> Result<OrderView, ConsoleError> {
        let order = self.act(id, action).await?;
        self.with_customer(order).await
    }

    async fn act(&self, id: Uuid, action: OrderAction) -> Result<StaffOrder, ConsoleError> {
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
                let order = self
                    .call(|api| async move { api.staff_order(id).await })
                    .await?;
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
            OrderAction::ApproveReturn { return_id } => {
                return self
                    .call(|api| async move { api.approve_return(return_id).await })
                    .await
                    .map(|done| done.order);
            }
            OrderAction::RefuseReturn { return_id, reason } => {
                let request = RefuseReturnRequest { reason };
                return self
                    .call(|api| async move { api.refuse_return(return_id, &request).await })
                    .await
                    .map(|done| done.order);
            }
            OrderAction::ReceiveReturn {
                return_id,
                written_off,
            } => {
                let request = ReceiveReturnRequest {
                    lines: written_off
                        .into_iter()
                        .map(|line_number| ReceivedLine {
                            line_number,
                            restock: false,
                        })
                        .collect(),
                };
                return self
                    .call(|api| async move { api.receive_return(return_id, &request).await })
                    .await
                    .map(|done| done.order);
            }
            OrderAction::RefundReturn { return_id, amount } => {
                let amount_minor = match amount.trim() {
                    "" => None,
                    typed => {
                        let order = self
                            .call(|api| async move { api.staff_order(id).await })
                            .await?;
                        let currency = order.order.totals.total.currency;
                        let amount = Money::parse_amount(typed, currency)
                            .map_err(|message| ConsoleError::invalid("amount", message))?;
                        Some(amount.amount_minor)
                    }
                };
                let request = RefundReturnRequest { amount_minor };
                return self
                    .call(|api| async move { api.refund_return(return_id, &request).await })
                    .await
                    .map(|done| done.order);
            }
        };
        self.call(|api| async move { api.transition_order(id, &request).await })
            .await
    }
}
