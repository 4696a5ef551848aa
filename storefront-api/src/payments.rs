//! The payment network, behind a trait. Nexus ships a simulated provider whose documented
//! test cards succeed, decline, or fail like an outage; a real provider implements the same
//! trait.

use futures::future::BoxFuture;
use uuid::Uuid;

use crate::domain::payment::Card;

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

/// The provider could not be reached or failed; the charge did not happen.
#[derive(Debug, Clone, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct ProviderUnavailable(pub String);

pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;

    fn charge<'a>(
        &'a self,
        request: ChargeRequest<'a>,
    ) -> BoxFuture<'a, Result<ChargeOutcome, ProviderUnavailable>>;

    /// Gives back part or all of a successful charge; returns the refund's reference.
    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount_minor: i64,
    ) -> BoxFuture<'a, Result<String, ProviderUnavailable>>;
}

/// Test cards of the simulated provider (any future expiry, any CVC).
pub mod test_cards {
    pub const APPROVED: &str = "4242424242424242";
    pub const DECLINED: &str = "4000000000000002";
    pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
    pub const PROVIDER_OUTAGE: &str = "4000000000000119";
}

/// Decides by card number, instantly and deterministically. Any other valid card number is
/// approved.
pub struct SimulatedProvider;

impl PaymentProvider for SimulatedProvider {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn charge<'a>(
        &'a self,
        request: ChargeRequest<'a>,
    ) -> BoxFuture<'a, Result<ChargeOutcome, ProviderUnavailable>> {
        Box::pin(async move {
            match request.card.number() {
                test_cards::DECLINED => Ok(ChargeOutcome::Declined {
                    code: "card_declined".into(),
                    message: "The card was declined.".into(),
                }),
                test_cards::INSUFFICIENT_FUNDS => Ok(ChargeOutcome::Declined {
                    code: "insufficient_funds".into(),
                    message: "The card has insufficient funds.".into(),
                }),
                test_cards::PROVIDER_OUTAGE => Err(ProviderUnavailable(
                    "simulated outage: the provider did not answer".into(),
                )),
                _ => Ok(ChargeOutcome::Approved {
                    reference: format!("sim_{}", request.order_id.simple()),
                }),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        charge_reference: &'a str,
        amount_minor: i64,
    ) -> BoxFuture<'a, Result<String, ProviderUnavailable>> {
        Box::pin(async move { Ok(format!("{charge_reference}_refund_{amount_minor}")) })
    }
}
