//! Placing and paying: the cart priced once, the order placed with its stock (one
//! transaction), the card charged (no transaction open), and the order then paid, or
//! cancelled with its stock back on the shelf.

use serde_json::json;
use storefront_client::{account::PostalAddress, orders::CheckoutRequest};
use uuid::Uuid;

use super::{
    Outcome,
    recovery::{NoCharge, settle_with_provider},
};
use crate::{
    cart_pricing,
    domain::{
        FieldError,
        account::parse_postal_address,
        cart::{CartLine, LineProblem},
        money::Currency,
        payment::Card,
    },
    error::{ApiError, ApiResult},
    payments::{ChargeOutcome, ChargeRequest},
    state::AppState,
    storage::{
        accounts,
        carts::CartOwner,
        orders::{self, Attempt, Lease, LineToBuy, NewOrder, PaymentRecord, PlaceError},
    },
};

/// The shipping address, checked: given inline or a saved one of the caller's.
pub async fn shipping_address(
    state: &AppState,
    account_id: Uuid,
    request: &CheckoutRequest,
) -> ApiResult<PostalAddress> {
    match (&request.shipping_address, request.address_id) {
        (Some(address), None) => parse_postal_address(address)
            .map_err(|errors| prefix_field(ApiError::Validation(errors), "shipping_address.")),
        (None, Some(id)) => accounts::addresses(&state.db, account_id)
            .await?
            .into_iter()
            .find(|saved| saved.id == id)
            .map(|saved| saved.address)
            .ok_or_else(|| ApiError::invalid("address_id", "is not one of your addresses")),
        _ => Err(ApiError::invalid(
            "shipping_address",
            "give either shipping_address or address_id",
        )),
    }
}

/// A client's mistake or the shop's no (a 4xx) is the answer to record; anything else —
/// a dependency down, a lost race the client should simply retry — is a fault.
fn refusal_or_fault(error: ApiError) -> Result<Outcome, ApiError> {
    if error.status().is_client_error() && !error.is_retryable() {
        Ok(Outcome::Refused(error))
    } else {
        Err(error)
    }
}

/// Places the order for the caller's cart and charges it.
pub async fn place_and_pay(
    state: &AppState,
    lease: &Lease,
    request: &CheckoutRequest,
    card: &Card,
    address: &PostalAddress,
) -> Result<Outcome, ApiError> {
    let destination = match cart_pricing::destination(
        &state.settings.checkout,
        &address.country,
        request.shipping_method,
    ) {
        Ok(destination) => destination,
        Err(error) => return Ok(Outcome::Refused(prefix_field(error, "shipping_address."))),
    };
    if let Some(expected) = request.expected_currency.as_deref() {
        let expected = match Currency::parse(&expected.trim().to_ascii_uppercase()) {
            Ok(expected) => expected,
            Err(message) => {
                return Ok(Outcome::Refused(ApiError::invalid(
                    "expected_currency",
                    message,
                )));
            }
        };
        if expected != destination.currency {
            return Ok(Outcome::Refused(ApiError::conflict(
                "currency_changed",
                format!(
                    "Prices for {} are in {}, not {expected} as shown; see the cart for {},                      then check out again.",
                    destination.country, destination.currency, destination.country
                ),
            )));
        }
    }
    let account_id = lease.account_id;
    let owner = CartOwner::Account(account_id);
    let priced = match cart_pricing::load_cart(
        state,
        Some(&owner),
        Some(destination),
        request.discount_code.as_deref(),
    )
    .await
    {
        Ok(priced) => priced,
        Err(error) => return refusal_or_fault(error),
    };
    let cart = priced.cart;
    if let Some(line) = cart.lines.iter().find(|line| line.problem.is_some()) {
        return Ok(Outcome::Refused(problem_error(line)));
    }
    let (Some(currency), Some(totals), false) = (cart.currency, cart.totals, cart.lines.is_empty())
    else {
        return Ok(Outcome::Refused(ApiError::conflict(
            "cart_empty",
            "The cart is empty.",
        )));
    };
    let lines: Vec<LineToBuy> = cart
        .lines
        .iter()
        .map(|line| LineToBuy {
            variant_id: line.variant_id,
            product_id: line.product_id,
            sku: line.sku.clone(),
            product_name: line.product_name.clone(),
            variant_title: line.variant_title.clone(),
            unit_price_minor: line.unit_price.amount_minor,
            quantity: line.quantity,
            promotion_discount_minor: line.promotion_discount_minor,
            code_discount_minor: line.code_discount_minor,
            tax_minor: line.tax_minor,
        })
        .collect();
    let new = NewOrder {
        checkout: lease,
        discount_code: priced
            .discount
            .as_ref()
            .map(|applied| (applied.id, applied.code.as_str())),
        currency,
        lines: &lines,
        promotions: &cart.promotions,
        totals,
        shipping_tax_minor: priced.shipping_tax_minor,
        shipping_method: request.shipping_method,
        shipping_address: address,
    };
    let (order_id, _number) = match orders::place_order(&state.db, &new).await {
        Ok(placed) => placed,
        Err(PlaceError::OutOfStock { sku, available }) => {
            return Ok(Outcome::Refused(ApiError::Conflict {
                code: "insufficient_stock",
                message: format!("Only {available} of {sku} left."),
                details: json!({ "sku": sku, "available": available }),
            }));
        }
        Err(PlaceError::PriceChanged { sku }) => {
            return Ok(Outcome::Refused(ApiError::Conflict {
                code: "price_changed",
                message: format!("The price of {sku} changed; review the cart and try again."),
                details: json!({ "sku": sku }),
            }));
        }
        Err(PlaceError::DiscountRejected(rejection)) => {
            return Ok(Outcome::Refused(ApiError::invalid(
                "discount_code",
                rejection.to_string(),
            )));
        }
        Err(PlaceError::PromotionEnded { title }) => {
            return Ok(Outcome::Refused(ApiError::Conflict {
                code: "promotion_exhausted",
                message: format!(
                    "The promotion “{title}” has just ended or run out; the cart is priced without it now. Review it and place the order again."
                ),
                details: json!({ "promotion": title }),
            }));
        }
        Err(PlaceError::Store(error)) => return Err(error.into()),
    };
    // Stock and "in stock" changed: public reads must show it.
    state.catalog_cache.invalidate().await;
    fail::fail_point!("checkout::placed", |_| -> Result<Outcome, ApiError> {
        std::process::abort()
    });
    let charge = state
        .payments
        .charge(ChargeRequest {
            order_id,
            amount_minor: totals.total_minor,
            currency: currency.code(),
            card,
        })
        .await;
    fail::fail_point!("checkout::charged", |_| -> Result<Outcome, ApiError> {
        std::process::abort()
    });
    // Tests hold a checkout here, charged but not yet recorded, while they kill or stop its
    // instance (the gateway's tests): `checkout::charged_hold=return(MILLIS)` waits without
    // blocking the runtime, as a `sleep` action would, stalling every request of the instance.
    #[cfg(feature = "failpoints")]
    if let Some(millis) = fail::eval("checkout::charged_hold", |millis| {
        millis.and_then(|millis| millis.parse::<u64>().ok())
    })
    .flatten()
    {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
    let provider = state.payments.name();
    match charge {
        Ok(ChargeOutcome::Approved { reference }) => {
            let attempt = Attempt::Succeeded {
                reference: &reference,
            };
            let record = PaymentRecord::charge(provider, totals.total_minor, card, attempt);
            settle_paid(state, order_id, account_id, &record).await
        }
        Ok(ChargeOutcome::Declined { code, message }) => {
            let attempt = Attempt::Declined { code: &code };
            let record = PaymentRecord::charge(provider, totals.total_minor, card, attempt);
            cancel_unpaid(state, order_id, "payment_declined", Some(&record)).await?;
            Ok(Outcome::Refused(ApiError::PaymentDeclined {
                code,
                message,
                order_id,
            }))
        }
        Err(unanswered) => {
            // No answer is not a "no": the provider may have charged the card and the answer
            // been lost. Ask it what became of the charge before deciding anything.
            tracing::warn!(%order_id, error = %unanswered, "payment provider did not answer the charge");
            let record =
                PaymentRecord::charge(provider, totals.total_minor, card, Attempt::Unavailable);
            let no_charge = NoCharge {
                reason: "payment_failed",
                attempt: Some(&record),
            };
            settle_with_provider(state, order_id, account_id, no_charge).await
        }
    }
}

/// The charge went through: the order is paid with its charge on record, and the cart it
/// was bought from is emptied.
pub(super) async fn settle_paid(
    state: &AppState,
    order_id: Uuid,
    account_id: Uuid,
    charge: &PaymentRecord<'_>,
) -> Result<Outcome, ApiError> {
    orders::mark_paid(&state.db, order_id, charge).await?;
    if let Err(error) = state.carts.clear(&CartOwner::Account(account_id)).await {
        tracing::warn!(%error, %order_id, "paid order's cart not cleared");
    }
    let order = orders::order(&state.db, order_id, Some(account_id))
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    tracing::info!(%order_id, number = order.number, total = order.totals.total.amount_minor, "order paid");
    Ok(Outcome::Paid(Box::new(order)))
}

/// The charge did not go through: the order is cancelled with its attempt (if one was
/// made) on record and its stock back on the shelf, which public reads must show.
pub(super) async fn cancel_unpaid(
    state: &AppState,
    order_id: Uuid,
    reason: &str,
    attempt: Option<&PaymentRecord<'_>>,
) -> ApiResult<()> {
    orders::cancel_unpaid(&state.db, order_id, reason, attempt).await?;
    state.catalog_cache.invalidate().await;
    Ok(())
}

fn problem_error(line: &CartLine) -> ApiError {
    if line.problem == Some(LineProblem::NotSoldInMarket) {
        return ApiError::conflict(
            "not_sold_in_market",
            format!(
                "{} ({}) is not sold in {}; remove it or ship elsewhere.",
                line.product_name, line.sku, line.unit_price.currency
            ),
        );
    }
    ApiError::Conflict {
        code: "insufficient_stock",
        message: format!(
            "{} ({}) cannot be bought as it is; see the cart.",
            line.product_name, line.sku
        ),
        details: json!({ "sku": line.sku, "available": line.available_quantity }),
    }
}

fn prefix_field(error: ApiError, prefix: &str) -> ApiError {
    match error {
        ApiError::Validation(fields) => ApiError::Validation(
            fields
                .into_iter()
                .map(|f| FieldError::new(format!("{prefix}{}", f.field), f.message))
                .collect(),
        ),
        other => other,
    }
}
