//! Seeded synthetic shops for tests and benchmarks: customers buy at their own Poisson rate and
//! may lapse after any purchase (the BG/NBD story), basket sizes vary per customer, and a few
//! orders are refunded or cancelled. The same seed gives the same shop, row for row.

use chrono::{Duration, NaiveDate, NaiveTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::transactions::{Event, Transaction, TransactionKind};

/// About `customers × 4.7` transactions spread over `days` days from `start`.
pub fn transactions(customers: usize, start: NaiveDate, days: i64, seed: u64) -> Vec<Transaction> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(customers * 5);
    for c in 0..customers {
        let customer_id = format!("c{c:07}");
        // Purchases per day: gamma-like spread from a product of uniforms.
        let rate = 0.004 + 0.06 * rng.random_f64().powi(2);
        let lapse = 0.05 + 0.3 * rng.random_f64();
        let basket = 10.0 + 90.0 * rng.random_f64();
        let mut day = rng.gen_range(0..days / 2);
        loop {
            let hour = rng.gen_range(8..22);
            let ordered_at =
                (start + Duration::days(day)).and_time(NaiveTime::MIN) + Duration::hours(hour);
            let amount = (basket * (0.5 + rng.random_f64())).round();
            let roll = rng.random_f64();
            let kind = if roll < 0.02 {
                TransactionKind::Cancellation
            } else {
                TransactionKind::Purchase
            };
            out.push(Transaction {
                customer_id: customer_id.clone(),
                ordered_at,
                amount,
                quantity: rng.gen_range(1..4),
                kind,
            });
            if roll > 0.97 {
                out.push(Transaction {
                    customer_id: customer_id.clone(),
                    ordered_at: ordered_at + Duration::days(7),
                    amount: -amount,
                    quantity: 1,
                    kind: TransactionKind::Refund,
                });
            }
            if rng.random_f64() < lapse {
                break;
            }
            // Exponential wait at the customer's rate.
            day += (-(1.0 - rng.random_f64()).ln() / rate).ceil() as i64;
            if day >= days {
                break;
            }
        }
    }
    out
}

/// Sessions, views and cart activity around each purchase, thinning before a lapse.
pub fn events(transactions: &[Transaction], seed: u64) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kinds = [
        "session_start",
        "product_view",
        "product_view",
        "add_to_cart",
        "checkout_started",
    ];
    let mut out = Vec::new();
    for t in transactions
        .iter()
        .filter(|t| t.kind == TransactionKind::Purchase)
    {
        for k in 0..rng.gen_range(2..8) {
            let before = Duration::hours(rng.gen_range(1..72) * (k + 1));
            out.push(Event {
                customer_id: t.customer_id.clone(),
                occurred_at: t.ordered_at - before,
                kind: kinds[rng.gen_range(0..kinds.len())].to_owned(),
            });
        }
    }
    out
}

trait UnitFloat {
    fn random_f64(&mut self) -> f64;
}

impl<R: Rng> UnitFloat for R {
    fn random_f64(&mut self) -> f64 {
        self.r#gen::<f64>()
    }
}
