//! Orders, payments, idempotent checkout requests and the outbox in PostgreSQL.
//!
//! Stock for an order is taken in the transaction that creates it, through `stock` (which
//! owns the lock order, the conditional update and the ledger). Nothing
//! here holds a lock while the payment provider is called: placing the order and recording
//! the payment are two transactions.

mod checkout_requests;
mod placing;
mod reads;
mod staff_changes;

pub use checkout_requests::*;
pub use placing::*;
pub use reads::*;
pub use staff_changes::*;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

pub use storefront_client::staff::orders::OrderNote;

use crate::domain::payment::{Card, PaymentKind, PaymentOutcome};
use crate::storage::stock;

use crate::storage::outbox::publish;

/// A charge attempt as recorded, built by `charge` or `charge_found` only. (Refunds are
/// written pending and settled in `staff_changes`.)
pub struct PaymentRecord<'a> {
    kind: PaymentKind,
    outcome: PaymentOutcome,
    amount_minor: i64,
    provider: &'a str,
    provider_reference: Option<&'a str>,
    /// Brand and last four digits; a refund goes back to the charged card and names none.
    card: Option<(&'a str, &'a str)>,
    failure_code: Option<&'a str>,
}

/// What the provider answered to an attempt.
pub enum Attempt<'a> {
    /// Money moved, under this provider reference.
    Succeeded { reference: &'a str },
    /// Refused, with the provider's reason code.
    Declined { code: &'a str },
    /// No answer: nothing moved.
    Unavailable,
}

impl<'a> PaymentRecord<'a> {
    pub fn charge(
        provider: &'a str,
        amount_minor: i64,
        card: &'a Card,
        attempt: Attempt<'a>,
    ) -> Self {
        Self::new(
            PaymentKind::Charge,
            provider,
            amount_minor,
            Some((card.brand(), card.last4())),
            attempt,
        )
    }

    /// A charge learnt from the provider after the checkout that made it was interrupted:
    /// the card's brand and last four digits are the provider's.
    pub fn charge_found(
        provider: &'a str,
        amount_minor: i64,
        card_brand: &'a str,
        card_last4: &'a str,
        attempt: Attempt<'a>,
    ) -> Self {
        Self::new(
            PaymentKind::Charge,
            provider,
            amount_minor,
            Some((card_brand, card_last4)),
            attempt,
        )
    }

    fn new(
        kind: PaymentKind,
        provider: &'a str,
        amount_minor: i64,
        card: Option<(&'a str, &'a str)>,
        attempt: Attempt<'a>,
    ) -> Self {
        let (outcome, provider_reference, failure_code) = match attempt {
            Attempt::Succeeded { reference } => (PaymentOutcome::Succeeded, Some(reference), None),
            Attempt::Declined { code } => (PaymentOutcome::Declined, None, Some(code)),
            Attempt::Unavailable => (PaymentOutcome::Failed, None, Some("provider_unavailable")),
        };
        Self {
            kind,
            outcome,
            amount_minor,
            provider,
            provider_reference,
            card,
            failure_code,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.outcome == PaymentOutcome::Succeeded
    }
}

async fn record_payment(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
    payment: &PaymentRecord<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO payments (id, order_id, kind, outcome, amount_minor, provider,
                                 provider_reference, card_brand, card_last4, failure_code)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        Uuid::now_v7(),
        order_id,
        payment.kind.as_str(),
        payment.outcome.as_str(),
        payment.amount_minor,
        payment.provider,
        payment.provider_reference,
        payment.card.map_or("", |(brand, _)| brand),
        payment.card.map_or("", |(_, last4)| last4),
        payment.failure_code,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Reads an order's lines and locks their products (in id order), before the order row is
/// touched: the lock order every stock path follows.
async fn lock_order_products(
    tx: &mut Transaction<'_, Postgres>,
    order_id: Uuid,
) -> Result<Vec<stock::OrderStock>, sqlx::Error> {
    let lines = sqlx::query_as!(
        stock::OrderStock,
        "SELECT variant_id, product_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY variant_id",
        order_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let product_ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
    stock::lock_products(tx, &product_ids).await?;
    Ok(lines)
}
