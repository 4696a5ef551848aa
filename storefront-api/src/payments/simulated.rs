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
    ChargeFound, ChargeOutcome, ChargeRequest, PaymentProvider, ProviderUnavailable, RefundOutcome,
    RefundRequest, test_cards,
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
            // The network acted, but its answer never reaches the shop (a cut connection).
            fail::fail_point!("payments::charge_answer_lost", |_| Err(
                ProviderUnavailable("simulated: the charge's answer was lost".into())
            ));
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
        request: RefundRequest<'a>,
    ) -> BoxFuture<'a, Result<RefundOutcome, ProviderUnavailable>> {
        Box::pin(async move {
            let outcome = self.refund_once(&request).await.map_err(unavailable)?;
            fail::fail_point!("payments::refund_answer_lost", |_| Err(
                ProviderUnavailable("simulated: the refund's answer was lost".into())
            ));
            Ok(outcome)
        })
    }
}

impl SimulatedProvider {
    /// Pays a refund out of a charge once per refund id, never past what the charge took:
    /// the charge's row is locked while its refunds are added up.
    async fn refund_once(&self, request: &RefundRequest<'_>) -> Result<RefundOutcome, sqlx::Error> {
        let mut tx = self.ledger.begin().await?;
        let charged = sqlx::query_scalar!(
            r#"SELECT amount_minor FROM simulated_provider_charges
                WHERE reference = $1 AND outcome = 'approved' FOR UPDATE"#,
            request.charge_reference
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(answer) = refund_answer(&mut tx, request.refund_id).await? {
            return Ok(answer);
        }
        let refunded = sqlx::query_scalar!(
            r#"SELECT COALESCE(sum(amount_minor), 0)::bigint AS "sum!" FROM simulated_provider_refunds
                WHERE charge_reference = $1 AND outcome = 'refunded'"#,
            request.charge_reference
        )
        .fetch_one(&mut *tx)
        .await?;
        let (outcome, reference, code) = match charged {
            None => ("refused", None, Some("no_such_charge")),
            Some(charged) if refunded + request.amount_minor > charged => {
                ("refused", None, Some("exceeds_charge"))
            }
            Some(_) => (
                "refunded",
                Some(format!("sim_re_{}", request.refund_id.simple())),
                None,
            ),
        };
        sqlx::query!(
            r#"INSERT INTO simulated_provider_refunds
                   (refund_id, charge_reference, amount_minor, outcome, reference, refusal_code)
               VALUES ($1, $2, $3, $4, $5, $6)"#,
            request.refund_id,
            request.charge_reference,
            request.amount_minor,
            outcome,
            reference,
            code,
        )
        .execute(&mut *tx)
        .await?;
        let answer = refund_answer(&mut tx, request.refund_id).await?;
        tx.commit().await?;
        answer.ok_or(sqlx::Error::RowNotFound)
    }

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

async fn refund_answer(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    refund_id: Uuid,
) -> Result<Option<RefundOutcome>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT reference, refusal_code FROM simulated_provider_refunds WHERE refund_id = $1",
        refund_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| match row.reference {
        Some(reference) => RefundOutcome::Refunded { reference },
        None => RefundOutcome::Refused {
            code: row.refusal_code.unwrap_or_else(|| "refused".into()),
        },
    }))
}
