//! Checkout and the customer's orders.
//!
//! `POST /api/v1/checkout` turns the caller's cart into a paid order. It requires an
//! `Idempotency-Key`: the same key with the same body answers exactly as the first time (also
//! while the first request is still running: it waits, then replays), the same key with
//! another body is a 422, and no key ever makes a second order. Stock is taken in the
//! transaction that creates the order; the payment provider is called after that transaction
//! committed; a declined or failed payment cancels the order and puts the stock back.

use std::time::{Duration, Instant};

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use storefront_client::orders::{CheckoutRequest, OrderEnvelope, OrderList, OrderListParams};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{
        FieldError,
        account::{AddressInput, check_address},
        cart::CartLine,
        payment::Card,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    payments::{ChargeOutcome, ChargeRequest},
    routes::{
        cart::{country_rates, load_cart, usable_discount},
        catalog::{page_number, page_size},
    },
    state::AppState,
    storage::{
        StoreError, accounts,
        carts::CartOwner,
        orders::{self, CheckoutStart, LineToBuy, NewOrder, PaymentRecord, PlaceError},
        paged,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout))
        .routes(routes!(my_orders))
        .routes(routes!(my_order))
}

pub use storefront_client::orders::IDEMPOTENCY_KEY;
/// How long a repeated request waits for the first one to finish before giving up.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(30);

/// The fingerprint of a request for idempotency: everything but the full card number and
/// CVC, which are never stored, not even hashed.
fn fingerprint(request: &CheckoutRequest) -> String {
    let digits: String = request
        .payment
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    let material = json!({
        "shipping_address": request.shipping_address,
        "address_id": request.address_id,
        "shipping_method": request.shipping_method,
        "discount_code": request.discount_code.as_deref().map(|c| c.trim().to_uppercase()),
        "card_last4": last4,
        "expiry": [request.payment.expiry_month, request.payment.expiry_year],
    });
    let digest = Sha256::digest(material.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if key.is_empty() {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            "Send an Idempotency-Key header (for example a UUID) with every checkout.",
        ));
    }
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key must be 1-255 visible ASCII characters.",
        ));
    }
    Ok(key.to_owned())
}

fn address_json(input: &AddressInput) -> Value {
    json!({
        "full_name": input.full_name, "line1": input.line1, "line2": input.line2,
        "city": input.city, "region": input.region, "postal_code": input.postal_code,
        "country": input.country, "phone": input.phone,
    })
}

/// The shipping address, checked: given inline or a saved one of the caller's.
async fn shipping_address(
    state: &AppState,
    account_id: Uuid,
    request: &CheckoutRequest,
) -> ApiResult<AddressInput> {
    match (&request.shipping_address, request.address_id) {
        (Some(address), None) => {
            let input = AddressInput {
                label: None,
                full_name: address.full_name.trim().to_owned(),
                line1: address.line1.trim().to_owned(),
                line2: address.line2.clone().filter(|v| !v.trim().is_empty()),
                city: address.city.trim().to_owned(),
                region: address.region.clone().filter(|v| !v.trim().is_empty()),
                postal_code: address.postal_code.trim().to_owned(),
                country: address.country.trim().to_uppercase(),
                phone: address.phone.clone().filter(|v| !v.trim().is_empty()),
                is_default: false,
            };
            let errors: Vec<FieldError> = check_address(&input)
                .into_iter()
                .map(|e| FieldError::new(format!("shipping_address.{}", e.field), e.message))
                .collect();
            if errors.is_empty() {
                Ok(input)
            } else {
                Err(ApiError::Validation(errors))
            }
        }
        (None, Some(id)) => {
            let saved = accounts::addresses(&state.db, account_id)
                .await?
                .into_iter()
                .find(|a| a.id == id)
                .ok_or_else(|| ApiError::invalid("address_id", "is not one of your addresses"))?;
            Ok(AddressInput {
                label: saved.label,
                full_name: saved.full_name,
                line1: saved.line1,
                line2: saved.line2,
                city: saved.city,
                region: saved.region,
                postal_code: saved.postal_code,
                country: saved.country,
                phone: saved.phone,
                is_default: saved.is_default,
            })
        }
        _ => Err(ApiError::invalid(
            "shipping_address",
            "give either shipping_address or address_id",
        )),
    }
}

fn problem_error(line: &CartLine) -> ApiError {
    ApiError::Conflict {
        code: "insufficient_stock",
        message: format!(
            "{} ({}) cannot be bought as it is; see the cart.",
            line.product_name, line.sku
        ),
        details: json!({ "sku": line.sku, "available": line.available_quantity }),
    }
}

/// Places the order, charges it, and records the result. Client refusals come back as
/// `Ok(Err(error))` so that they are stored and replayed; internal failures as `Err`.
async fn run_checkout(
    state: &AppState,
    account_id: Uuid,
    request: &CheckoutRequest,
    card: &Card,
    address: &AddressInput,
) -> Result<Result<(StatusCode, Value, Uuid), ApiError>, ApiError> {
    let (_, rates) = match country_rates(&state.settings.checkout, &address.country) {
        Ok(found) => found,
        Err(error) => return Ok(Err(prefix_field(error, "shipping_address."))),
    };
    let owner = CartOwner::Account(account_id);
    let code = request
        .discount_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let discount = match code {
        None => None,
        Some(code) => {
            let plain = load_cart(state, Some(&owner), None, None).await?;
            match usable_discount(state, code, Some(account_id), plain.currency).await {
                Ok((id, discount)) => Some((id, code, discount)),
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
    };
    let cart = match load_cart(
        state,
        Some(&owner),
        Some((rates, request.shipping_method)),
        discount.map(|(_, _, d)| d),
    )
    .await
    {
        Ok(cart) => cart,
        Err(refusal @ ApiError::Validation(_)) => return Ok(Err(refusal)),
        Err(other) => return Err(other),
    };
    if cart.lines.is_empty() {
        return Ok(Err(ApiError::conflict("cart_empty", "The cart is empty.")));
    }
    if let Some(line) = cart.lines.iter().find(|line| line.problem.is_some()) {
        return Ok(Err(problem_error(line)));
    }
    let (Some(currency), Some(totals)) = (cart.currency, cart.totals) else {
        return Ok(Err(ApiError::conflict("cart_empty", "The cart is empty.")));
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
        })
        .collect();
    let new = NewOrder {
        account_id,
        discount_code: discount.map(|(id, code, _)| (id, code)),
        currency,
        lines: &lines,
        totals,
        shipping_method: request.shipping_method,
        shipping_address: address_json(address),
    };
    let (order_id, _number) = match orders::place_order(&state.db, &new).await {
        Ok(placed) => placed,
        Err(PlaceError::OutOfStock { sku, available }) => {
            return Ok(Err(ApiError::Conflict {
                code: "insufficient_stock",
                message: format!("Only {available} of {sku} left."),
                details: json!({ "sku": sku, "available": available }),
            }));
        }
        Err(PlaceError::PriceChanged { sku }) => {
            return Ok(Err(ApiError::Conflict {
                code: "price_changed",
                message: format!("The price of {sku} changed; review the cart and try again."),
                details: json!({ "sku": sku }),
            }));
        }
        Err(PlaceError::DiscountRejected(rejection)) => {
            return Ok(Err(ApiError::invalid(
                "discount_code",
                rejection.to_string(),
            )));
        }
        Err(PlaceError::Store(error)) => return Err(error.into()),
    };
    // Stock and "in stock" changed: public reads must show it.
    state.catalog_cache.invalidate().await;
    let charge = state
        .payments
        .charge(ChargeRequest {
            order_id,
            amount_minor: totals.total_minor,
            currency: currency.code(),
            card,
        })
        .await;
    match charge {
        Ok(ChargeOutcome::Approved { reference }) => {
            orders::mark_paid(
                &state.db,
                order_id,
                &PaymentRecord {
                    kind: "charge",
                    outcome: "succeeded",
                    amount_minor: totals.total_minor,
                    provider: state.payments.name(),
                    provider_reference: Some(&reference),
                    card_brand: card.brand(),
                    card_last4: card.last4(),
                    failure_code: None,
                },
            )
            .await?;
            if let Err(error) = state.carts.clear(&owner).await {
                tracing::warn!(%error, %order_id, "paid order's cart not cleared");
            }
            let order = orders::order(&state.db, order_id, Some(account_id))
                .await?
                .ok_or(ApiError::NotFound("order"))?;
            tracing::info!(%order_id, number = order.number, total = totals.total_minor, "order paid");
            Ok(Ok((
                StatusCode::CREATED,
                json!({ "order": order }),
                order_id,
            )))
        }
        Ok(ChargeOutcome::Declined { code, message }) => {
            orders::cancel_unpaid(
                &state.db,
                order_id,
                "payment_declined",
                Some(&PaymentRecord {
                    kind: "charge",
                    outcome: "declined",
                    amount_minor: totals.total_minor,
                    provider: state.payments.name(),
                    provider_reference: None,
                    card_brand: card.brand(),
                    card_last4: card.last4(),
                    failure_code: Some(&code),
                }),
            )
            .await?;
            state.catalog_cache.invalidate().await;
            Ok(Err(ApiError::PaymentDeclined {
                code,
                message,
                order_id,
            }))
        }
        Err(unavailable) => {
            tracing::warn!(%order_id, error = %unavailable, "payment provider failed");
            orders::cancel_unpaid(
                &state.db,
                order_id,
                "payment_failed",
                Some(&PaymentRecord {
                    kind: "charge",
                    outcome: "failed",
                    amount_minor: totals.total_minor,
                    provider: state.payments.name(),
                    provider_reference: None,
                    card_brand: card.brand(),
                    card_last4: card.last4(),
                    failure_code: Some("provider_unavailable"),
                }),
            )
            .await?;
            state.catalog_cache.invalidate().await;
            Ok(Err(ApiError::PaymentUnavailable { order_id }))
        }
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

fn replay(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// Turns the caller's cart into an order and pays for it.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "checkout", request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per checkout attempt, e.g. a UUID")),
    responses((status = 201, body = OrderEnvelope),
              (status = 400, description = "Missing Idempotency-Key", body = crate::error::ErrorEnvelope),
              (status = 402, description = "Payment declined; the cart is kept", body = crate::error::ErrorEnvelope),
              (status = 409, description = "Out of stock, empty cart, or still running", body = crate::error::ErrorEnvelope),
              (status = 422, description = "Invalid request, or the key was used with another body", body = crate::error::ErrorEnvelope),
              (status = 503, description = "Payment provider unavailable; the cart is kept", body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn checkout(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    headers: HeaderMap,
    Json(request): Json<CheckoutRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let account_id = session.account_id;
    let card = Card::parse(
        &request.payment.card_number,
        request.payment.expiry_month,
        request.payment.expiry_year,
        &request.payment.cvc,
        chrono::Utc::now().date_naive(),
    )
    .map_err(ApiError::Validation)?;
    let address = shipping_address(&state, account_id, &request).await?;
    let hash = fingerprint(&request);
    match orders::start_checkout(&state.db, account_id, &key, &hash).await? {
        CheckoutStart::Owner => {}
        CheckoutStart::Replay { status, body } => return Ok(replay(status, body)),
        CheckoutStart::Mismatch => return Err(key_reused()),
        CheckoutStart::InProgress => return wait_for_first(&state, account_id, &key, &hash).await,
    }
    match run_checkout(&state, account_id, &request, &card, &address).await {
        Ok(Ok((status, body, order_id))) => {
            orders::finish_checkout(
                &state.db,
                account_id,
                &key,
                status.as_u16(),
                &body,
                Some(order_id),
            )
            .await?;
            Ok(replay(status.as_u16(), body))
        }
        Ok(Err(refusal)) => {
            let status = refusal.status();
            let order_id = refusal.order_id();
            let body = refusal.envelope();
            orders::finish_checkout(
                &state.db,
                account_id,
                &key,
                status.as_u16(),
                &body,
                order_id,
            )
            .await?;
            Ok(replay(status.as_u16(), body))
        }
        Err(internal) => {
            // Nothing to replay: let a retry with the same key start over.
            if let Err(error) = orders::forget_checkout(&state.db, account_id, &key).await {
                tracing::error!(%error, "checkout request could not be forgotten after a failure");
            }
            Err(internal)
        }
    }
}

fn key_reused() -> ApiError {
    ApiError::invalid(
        "Idempotency-Key",
        "was already used for a different checkout request; use a new key",
    )
}

/// Waits (bounded) for the first request with this key to finish, then answers as it did.
async fn wait_for_first(
    state: &AppState,
    account_id: Uuid,
    key: &str,
    hash: &str,
) -> ApiResult<Response> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    while started.elapsed() < WAIT_FOR_FIRST {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
        match orders::recorded_checkout(&state.db, account_id, key, hash).await {
            Ok(CheckoutStart::Replay { status, body }) => return Ok(replay(status, body)),
            Ok(CheckoutStart::Mismatch) => return Err(key_reused()),
            Ok(CheckoutStart::InProgress | CheckoutStart::Owner) => {}
            // The first request failed internally and forgot the key: this one may start over.
            Err(StoreError::Database(sqlx::Error::RowNotFound)) => {
                return Err(ApiError::conflict(
                    "checkout_retry",
                    "The first attempt failed; send the request again.",
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::conflict(
        "checkout_in_progress",
        "A checkout with this Idempotency-Key is still running; try again shortly.",
    ))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "checkout", params(OrderListParams),
    responses((status = 200, body = OrderList), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn my_orders(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Query(params): Query<OrderListParams>,
) -> ApiResult<Json<OrderList>> {
    let limit = page_size(params.limit)?;
    let page = page_number(params.page)?;
    let (orders, total) = paged(limit, (page - 1) * limit, |limit, offset| {
        orders::customer_orders(&state.db, session.account_id, limit, offset)
    })
    .await?;
    Ok(Json(OrderList {
        orders,
        meta: crate::routes::admin::catalog::StaffListMeta { total, page, limit },
    }))
}

/// One of the caller's orders; another customer's order is a 404.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "checkout",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn my_order(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<OrderEnvelope>> {
    let order = orders::order(&state.db, id, Some(session.account_id))
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    Ok(Json(OrderEnvelope { order }))
}
