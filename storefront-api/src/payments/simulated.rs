//! The simulated payment network: it decides by card number, instantly and
//! deterministically (any valid card number that is not a test card is approved), and keeps
//! its own ledger of charges, as a real provider does on its side. The ledger lives in a table
//! of the shop's database only for convenience: the shop's code never reads it, it asks the
//! provider (`find_charge`), and it survives the API process dying mid-checkout like a real
//! provider's records would.

use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    ChargeFound, ChargeOutcome, ChargeRequest, PaymentProvider, ProviderUnavailable, test_cards,
};

pub struct SimulatedProvider {
    ledger: PgPool,
}

impl SimulatedProvider {
    pub fn new(ledger: PgPool) -> Self {
        Self { ledger }
    }
}

/// A ledger row as the network recorded it.
struct Recorded {
    outcome: String,
    reference: Option<String>,
    decline_code: Option<String>,
    amount_minor: i64,
    card_brand: String,
    card_last4: String,
}

impl Recorded {
    /// `None` for a voided charge: nothing was taken, nothing will be.
    fn found(self) -> Option<ChargeFound> {
        let outcome = match (self.outcome.as_str(), self.reference, self.decline_code) {
            ("approved", Some(reference), _) => ChargeOutcome::Approved { reference },
            ("declined", _, Some(code)) => ChargeOutcome::Declined {
                message: decline_message(&code).to_owned(),
                code,
            },
            _ => return None,
        };
        Some(ChargeFound {
            outcome,
            amount_minor: self.amount_minor,
            card_brand: self.card_brand,
            card_last4: self.card_last4,
        })
    }
}

fn decline_message(code: &str) -> &'static str {
    match code {
        "insufficient_funds" => "The card has insufficient funds.",
        "charge_voided" => "The charge was voided after the checkout was interrupted.",
        _ => "The card was declined.",
    }
}

fn unavailable(error: sqlx::Error) -> ProviderUnavailable {
    ProviderUnavailable(format!("simulated network's ledger: {error}"))
}

impl PaymentProvider for SimulatedProvider {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn charge<'a>(
        &'a self,
        request: ChargeRequest<'a>,
    ) -> BoxFuture<'a, Result<ChargeOutcome, ProviderUnavailable>> {
        Box::pin(async move {
            let (outcome, reference, decline_code) = match request.card.number() {
                test_cards::PROVIDER_OUTAGE => {
                    return Err(ProviderUnavailable(
                        "simulated outage: the provider did not answer".into(),
                    ));
                }
                test_cards::DECLINED => ("declined", None, Some("card_declined")),
                test_cards::INSUFFICIENT_FUNDS => ("declined", None, Some("insufficient_funds")),
                _ => (
                    "approved",
                    Some(format!("sim_{}", request.order_id.simple())),
                    None,
                ),
            };
            // The order id is the idempotency key: a repeated charge answers as the first,
            // and a charge the shop voided stays voided.
            sqlx::query!(
                r#"INSERT INTO simulated_provider_charges
                       (order_id, outcome, reference, decline_code, amount_minor, currency,
                        card_brand, card_last4)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING"#,
                request.order_id,
                outcome,
                reference,
                decline_code,
                request.amount_minor,
                request.currency,
                request.card.brand(),
                request.card.last4(),
            )
            .execute(&self.ledger)
            .await
            .map_err(unavailable)?;
            let recorded = self.recorded(request.order_id).await?;
            Ok(recorded.and_then(Recorded::found).map_or_else(
                || ChargeOutcome::Declined {
                    code: "charge_voided".into(),
                    message: decline_message("charge_voided").into(),
                },
                |found| found.outcome,
            ))
        })
    }

    fn find_charge(
        &self,
        order_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<ChargeFound>, ProviderUnavailable>> {
        Box::pin(async move {
            // Void first, so that "no charge" stays true: a charge arriving later is refused.
            sqlx::query!(
                r#"INSERT INTO simulated_provider_charges
                       (order_id, outcome, amount_minor, currency, card_brand, card_last4)
                   VALUES ($1, 'voided', 0, 'XXX', '', '') ON CONFLICT (order_id) DO NOTHING"#,
                order_id,
            )
            .execute(&self.ledger)
            .await
            .map_err(unavailable)?;
            Ok(self.recorded(order_id).await?.and_then(Recorded::found))
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

impl SimulatedProvider {
    async fn recorded(&self, order_id: Uuid) -> Result<Option<Recorded>, ProviderUnavailable> {
        sqlx::query_as!(
            Recorded,
            r#"SELECT outcome, reference, decline_code, amount_minor, card_brand,
                      card_last4
                 FROM simulated_provider_charges WHERE order_id = $1"#,
            order_id
        )
        .fetch_optional(&self.ledger)
        .await
        .map_err(unavailable)
    }
}
