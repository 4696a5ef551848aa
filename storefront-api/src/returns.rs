//! Returns, the application service behind the customer's return request and the staff's
//! steps: it applies the shop's return policy (`config::ReturnSettings`) to what storage
//! records, pays a return's refund out through `refunds` (exactly once, like every refund),
//! and says in the API's terms why a request or a step was refused.

use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{
        FieldError,
        order::views::Order,
        returns::{NewReturn, ReturnStatus, ReturnStep},
    },
    error::{ApiError, ApiResult},
    refunds::{self, PaidOut},
    state::AppState,
    storage::returns::{self, ReturnError, StepInput},
};

/// Records a customer's return request; the return's id.
pub async fn request(
    state: &AppState,
    order_id: Uuid,
    account_id: Uuid,
    new: &NewReturn,
) -> ApiResult<Uuid> {
    returns::request(&state.db, order_id, account_id, new)
        .await
        .map_err(refused)
}

/// Approves, refuses or receives a return (refunds go through [`refund`]); the order's id.
pub async fn take_step(
    state: &AppState,
    return_id: Uuid,
    step: ReturnStep,
    input: &StepInput<'_>,
) -> ApiResult<Uuid> {
    let order_id = returns::take_step(&state.db, return_id, step, input)
        .await
        .map_err(refused)?;
    if step == ReturnStep::Receive {
        // Units went back on the shelf: listings show stock.
        state.catalog_cache.invalidate().await;
    }
    Ok(order_id)
}

/// Refunds a received return — `amount_minor`, or all the policy says is due — and pays it
/// out: the order's id and where the money stands.
pub async fn refund(
    state: &AppState,
    return_id: Uuid,
    amount_minor: Option<i64>,
    actor_id: Uuid,
) -> ApiResult<(Uuid, PaidOut)> {
    let reserved = returns::reserve_refund(
        &state.db,
        return_id,
        amount_minor,
        actor_id,
        refunds::terms(state),
        state.settings.returns.refund_shipping,
    )
    .await
    .map_err(refused)?;
    let paid_out = match &reserved.due {
        Some(due) => refunds::pay_out(state, due, Some(actor_id)).await?,
        None => PaidOut::Refunded,
    };
    Ok((reserved.order_id, paid_out))
}

/// Fills in what each received return of `order` would refund now under the shop's policy.
pub async fn show_refunds_due(state: &AppState, order: &mut Order) -> ApiResult<()> {
    let currency = order.totals.total.currency;
    for order_return in &mut order.returns {
        if order_return.status == ReturnStatus::Received {
            let due = returns::refund_due_now(
                &state.db,
                order_return.id,
                state.settings.returns.refund_shipping,
            )
            .await
            .map_err(refused)?;
            order_return.refund_due = Some(crate::domain::money::Money::new(due, currency));
        }
    }
    Ok(())
}

/// A refused request or step in the API's terms.
fn refused(error: ReturnError) -> ApiError {
    match error {
        ReturnError::NotFound(what) => ApiError::NotFound(what),
        ReturnError::NotReturnable { status } => ApiError::Conflict {
            code: "not_returnable",
            message: format!(
                "Only a delivered order can be returned; this one is {}.",
                status.as_str()
            ),
            details: json!({ "status": status }),
        },
        ReturnError::WindowClosed { until } => ApiError::Conflict {
            code: "return_window_closed",
            message: match until {
                Some(until) => format!(
                    "The return window of this order closed on {}.",
                    until.format("%-d %B %Y")
                ),
                None => "This order has no return window.".to_owned(),
            },
            details: json!({ "returnable_until": until }),
        },
        ReturnError::UnknownLine { index, line_number } => {
            ApiError::Validation(vec![FieldError::new(
                format!("lines[{index}].line_number"),
                format!("the order has no line {line_number}"),
            )])
        }
        ReturnError::NotInReturn { line_number } => {
            ApiError::invalid("lines", format!("the return has no line {line_number}"))
        }
        ReturnError::ExceedsOrder {
            line_number,
            returnable,
        } => ApiError::Conflict {
            code: "return_exceeds_order",
            message: format!(
                "Only {returnable} unit(s) of line {line_number} are left to return (the rest \
                 are in other returns)."
            ),
            details: json!({ "line_number": line_number, "returnable": returnable }),
        },
        ReturnError::Step(refused) => ApiError::Conflict {
            code: "illegal_return_step",
            message: refused.to_string(),
            details: json!({ "status": refused.status, "step": refused.step.as_str() }),
        },
        ReturnError::ExceedsDue { refund_due_minor } => ApiError::Conflict {
            code: "refund_exceeds_return",
            message: format!(
                "The return is worth at most {refund_due_minor} (minor units) back under the \
                 shop's policy."
            ),
            details: json!({ "refund_due_minor": refund_due_minor }),
        },
        ReturnError::Order(error) => crate::routes::admin::orders::change_error(error),
        ReturnError::Store(error) => error.into(),
    }
}
