//! The payment network, behind a trait. Nexus ships a simulated provider whose documented
//! test cards succeed, decline, or fail like an outage (`simulated.rs`); a real provider
//! implements the same trait.

mod simulated;

use futures::future::BoxFuture;
use uuid::Uuid;

use crate::domain::payment::Card;

pub use simulated::SimulatedProvider;

/// What the shop asks the provider to do.
pub struct ChargeRequest<'a> {
    /// Also the provider-side idempotency key: a retried charge for one order is one charge.
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub card: &'a Card,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved { reference: String },
    Declined { code: String, message: String },
}

/// A charge the provider has on record for an order, as `find_charge` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeFound {
    pub outcome: ChargeOutcome,
    pub amount_minor: i64,
    pub card_brand: String,
    pub card_last4: String,
}

/// What the shop asks the provider to give back.
pub struct RefundRequest<'a> {
    /// The provider-side idempotency key: a refund asked for again (after an answer was
    /// lost) is paid once and answered as the first time.
    pub refund_id: Uuid,
    pub charge_reference: &'a str,
    pub amount_minor: i64,
}

/// The provider's final answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// The money went back, under this reference.
    Refunded { reference: String },
    /// The provider refused (more than the charge left, an unknown charge): nothing moved.
    Refused { code: String },
}

/// The provider could not be reached or failed. For a charge or a refund this says nothing
/// about whether money moved: the answer may have been lost after the provider acted, so the
/// shop asks again (`find_charge`, or the same refund id) before it concludes anything.
#[derive(Debug, Clone, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct ProviderUnavailable(pub String);

pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;

    fn charge<'a>(
        &'a self,
        request: ChargeRequest<'a>,
    ) -> BoxFuture<'a, Result<ChargeOutcome, ProviderUnavailable>>;

    /// What became of the charge for this order, asked when a checkout was interrupted
    /// between placing the order and recording the provider's answer. `None` means no
    /// charge was made and none will be: the answer is final, so an implementation must
    /// void the order's charge on the provider's side (cancel its payment intent) before
    /// saying `None`, or a charge still in flight could land on a cancelled order.
    fn find_charge(
        &self,
        order_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<ChargeFound>, ProviderUnavailable>>;

    /// Gives back part or all of a successful charge, once per `refund_id`: asked again with
    /// the same id it pays nothing more and answers as the first time.
    fn refund<'a>(
        &'a self,
        request: RefundRequest<'a>,
    ) -> BoxFuture<'a, Result<RefundOutcome, ProviderUnavailable>>;
}

/// Test cards of the simulated provider (any future expiry, any CVC).
pub mod test_cards {
    pub const APPROVED: &str = "4242424242424242";
    pub const DECLINED: &str = "4000000000000002";
    pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
    pub const PROVIDER_OUTAGE: &str = "4000000000000119";
}
