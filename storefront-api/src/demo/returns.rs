//! The demo history's returns: every order refunded after delivery came back as a return
//! (requested, approved, received, refunded with the order's refund), and some orders
//! delivered within the return window have a return waiting for staff — requested, or
//! approved and on its way back — so the console's queue and the shop's order pages show the
//! feature at once.
//!
//! Each order's return is drawn from a generator seeded by the order's id, not from the
//! history's: adding returns moved no order, event or churn label of the history.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Order,
    insert::{RETURN_WINDOW_DAYS, ROWS_PER_STATEMENT},
};
use crate::domain::{order::OrderStatus, returns::ReturnReason, returns::ReturnStatus};

/// Of the orders delivered within the return window, how many have a return waiting, and
/// how many of those staff approved already.
const WAITING_SHARE: f64 = 0.06;
const APPROVED_SHARE_OF_WAITING: f64 = 0.35;

const NOTES: [&str; 4] = [
    "The colour is not what the photos show.",
    "Ordered two sizes, keeping the other one.",
    "Arrived with a scratch on the side.",
    "Found it cheaper in town, sorry!",
];

/// A return of the demo history.
pub(super) struct DemoReturn {
    id: Uuid,
    order_id: Uuid,
    status: ReturnStatus,
    /// `(line number, units, reason)`.
    lines: Vec<(i32, i32, ReturnReason)>,
    note: Option<&'static str>,
    requested_at: DateTime<Utc>,
    approved_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    refunded_at: Option<DateTime<Utc>>,
    /// The order's refund, and its amount.
    refund: Option<(Uuid, i64)>,
}

/// The history's returns, oldest request first (so their numbers follow time).
pub(super) fn returns_of(orders: &[Order], ends_at: DateTime<Utc>) -> Vec<DemoReturn> {
    let mut returns: Vec<DemoReturn> = orders
        .iter()
        .filter_map(|order| return_of(order, ends_at))
        .collect();
    returns.sort_by_key(|r| (r.requested_at, r.id));
    returns
}

fn return_of(order: &Order, ends_at: DateTime<Utc>) -> Option<DemoReturn> {
    let delivered_at = order.delivered_at?;
    let mut rng = ChaCha8Rng::seed_from_u64(order.id.as_u64_pair().0 ^ 0x7265_7475_726e);
    let reason =
        |rng: &mut ChaCha8Rng| ReturnReason::ALL[rng.random_range(0..ReturnReason::ALL.len())];
    let note = |rng: &mut ChaCha8Rng| {
        rng.random_bool(0.4)
            .then(|| NOTES[rng.random_range(0..NOTES.len())])
    };
    let id = Uuid::from_u64_pair(rng.random(), rng.random());
    let at = |from: DateTime<Utc>, to: DateTime<Utc>, share: f64| {
        let span = (to - from).num_seconds().max(0) as f64;
        from + TimeDelta::seconds((span * share) as i64)
    };
    if order.status == OrderStatus::Refunded {
        // Refunded whole after delivery: the return the refund paid.
        let refund = order
            .payments
            .iter()
            .rev()
            .find(|p| p.kind == "refund" && p.outcome == "succeeded")?;
        let refunded_at = refund.created_at;
        let lines = (1..)
            .zip(&order.lines)
            .map(|(n, line)| (n, line.quantity, reason(&mut rng)))
            .collect();
        return Some(DemoReturn {
            id,
            order_id: order.id,
            status: ReturnStatus::Refunded,
            lines,
            note: note(&mut rng),
            requested_at: at(delivered_at, refunded_at, 0.2),
            approved_at: Some(at(delivered_at, refunded_at, 0.35)),
            received_at: Some(at(delivered_at, refunded_at, 0.8)),
            refunded_at: Some(refunded_at),
            refund: Some((refund.id, refund.amount_minor)),
        });
    }
    let window_ends = delivered_at + TimeDelta::days(i64::from(RETURN_WINDOW_DAYS));
    if order.status != OrderStatus::Delivered
        || window_ends <= ends_at
        || !rng.random_bool(WAITING_SHARE)
    {
        return None;
    }
    let line = rng.random_range(0..order.lines.len());
    let requested_at = at(delivered_at, ends_at, rng.random_range(0.1..0.7));
    let approved_at = rng
        .random_bool(APPROVED_SHARE_OF_WAITING)
        .then(|| at(requested_at, ends_at, rng.random_range(0.2..0.9)));
    Some(DemoReturn {
        id,
        order_id: order.id,
        status: if approved_at.is_some() {
            ReturnStatus::Approved
        } else {
            ReturnStatus::Requested
        },
        lines: vec![(line as i32 + 1, 1, reason(&mut rng))],
        note: note(&mut rng),
        requested_at,
        approved_at,
        received_at: None,
        refunded_at: None,
        refund: None,
    })
}

/// Writes the returns and their lines. The history was loaded without stock movements, so
/// whether a refunded return's units went back on the shelf is not recorded (`restocked`
/// stays empty).
pub(super) async fn insert_returns(
    conn: &mut PgConnection,
    returns: &[DemoReturn],
) -> Result<(), sqlx::Error> {
    for chunk in returns.chunks(ROWS_PER_STATEMENT) {
        // In request order, so the sequence numbers them in time.
        sqlx::query(
            "INSERT INTO returns (id, order_id, status, customer_note, refund_minor, refund_id,
                                  policy_minor, requested_at, approved_at, received_at,
                                  refunded_at, updated_at)
             SELECT id, order_id, status::return_status, note, refund_minor, refund_id,
                    refund_minor,
                    requested_at, approved_at, received_at, refunded_at,
                    COALESCE(refunded_at, received_at, approved_at, requested_at)
               FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int8[],
                           $6::uuid[], $7::timestamptz[], $8::timestamptz[],
                           $9::timestamptz[], $10::timestamptz[]) WITH ORDINALITY
                    AS t(id, order_id, status, note, refund_minor, refund_id, requested_at,
                         approved_at, received_at, refunded_at, n)
              ORDER BY n",
        )
        .bind(chunk.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.order_id).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.note).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.refund.map(|(_, minor)| minor))
                .collect::<Vec<_>>(),
        )
        .bind(
            chunk
                .iter()
                .map(|r| r.refund.map(|(id, _)| id))
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|r| r.requested_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.approved_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.received_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.refunded_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        let lines: Vec<(&DemoReturn, &(i32, i32, ReturnReason))> = chunk
            .iter()
            .flat_map(|r| r.lines.iter().map(move |line| (r, line)))
            .collect();
        sqlx::query(
            "INSERT INTO return_lines (return_id, order_id, line_number, quantity, reason)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::int4[], $5::text[])",
        )
        .bind(lines.iter().map(|(r, _)| r.id).collect::<Vec<_>>())
        .bind(lines.iter().map(|(r, _)| r.order_id).collect::<Vec<_>>())
        .bind(lines.iter().map(|(_, l)| l.0).collect::<Vec<_>>())
        .bind(lines.iter().map(|(_, l)| l.1).collect::<Vec<_>>())
        .bind(lines.iter().map(|(_, l)| l.2.as_str()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
