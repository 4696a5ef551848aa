//! Placing an order and settling its payment: the order and its stock in one transaction,
//! then (after the provider answered, with no lock held) paid or cancelled with the stock
//! back on the shelf.

use sqlx::PgPool;
use storefront_client::account::PostalAddress;
use storefront_client::promotions::AppliedPromotion;
use uuid::Uuid;

use super::{
    Lease, PaymentRecord, checkout_requests::link_order, lock_order_products, publish,
    record_payment,
};
use crate::domain::{
    catalog::StockReason,
    money::Currency,
    order::{ShippingMethod, Totals},
};
use crate::storage::{StoreError, stock};

/// One line to buy: the variant and how many, at the price the checkout quoted.
pub struct LineToBuy {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub variant_title: String,
    pub unit_price_minor: i64,
    pub quantity: i32,
    /// What promotions take off the line.
    pub promotion_discount_minor: i64,
    /// The line's share of the discount code.
    pub code_discount_minor: i64,
    /// The tax in (or on) what the line costs after its discounts.
    pub tax_minor: i64,
}

pub struct NewOrder<'a> {
    /// The checkout request the order is placed for (and its customer).
    pub checkout: &'a Lease,
    /// The discount code applied (its id and text as entered), redeemed with the order.
    pub discount_code: Option<(Uuid, &'a str)>,
    pub currency: Currency,
    pub lines: &'a [LineToBuy],
    /// The promotions the quote applied, whose budgets the order spends.
    pub promotions: &'a [AppliedPromotion],
    pub totals: Totals,
    /// The tax in (or on) shipping; with the lines' tax it makes the totals' tax.
    pub shipping_tax_minor: i64,
    pub shipping_method: ShippingMethod,
    pub shipping_address: &'a PostalAddress,
}

/// Why an order could not be placed.
pub enum PlaceError {
    /// Not enough stock (or no longer sold) for this SKU.
    OutOfStock {
        sku: String,
        available: i32,
    },
    /// A price changed between the quote and the order.
    PriceChanged {
        sku: String,
    },
    /// The discount code could no longer be used (its limit was reached meanwhile, …).
    DiscountRejected(crate::domain::order::DiscountRejection),
    /// A promotion of the quote ended or has not enough budget left for this order.
    PromotionEnded {
        title: String,
    },
    Store(StoreError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<StoreError> for PlaceError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Creates the order as `pending_payment` and takes its stock, or takes nothing.
pub async fn place_order(db: &PgPool, new: &NewOrder<'_>) -> Result<(Uuid, i64), PlaceError> {
    let mut tx = db.begin().await?;
    let product_ids: Vec<Uuid> = new.lines.iter().map(|line| line.product_id).collect();
    stock::lock_products(&mut tx, &product_ids).await?;
    let order_id = Uuid::now_v7();
    let number = sqlx::query_scalar!(
        r#"INSERT INTO orders (id, account_id, currency, subtotal_minor, discount_minor,
                               shipping_minor, tax_rate_basis_points, tax_minor, total_minor,
                               shipping_method, shipping_address, discount_code,
                               prices_include_tax, shipping_tax_minor)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           RETURNING number"#,
        order_id,
        new.checkout.account_id,
        new.currency.code(),
        new.totals.subtotal_minor,
        new.totals.discount_minor,
        new.totals.shipping_minor,
        i32::try_from(new.totals.tax_rate_basis_points).unwrap_or(i32::MAX),
        new.totals.tax_minor,
        new.totals.total_minor,
        new.shipping_method.as_str(),
        // Stored as JSON: an order keeps the address it was shipped to, whatever the
        // account later does to its saved ones.
        sqlx::types::Json(new.shipping_address) as _,
        new.discount_code.map(|(_, code)| code),
        new.totals.prices_include_tax,
        new.shipping_tax_minor,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !link_order(&mut tx, new.checkout, order_id).await? {
        return Err(PlaceError::Store(StoreError::conflict(
            "checkout_taken_over",
            "The checkout was interrupted and taken over; its answer comes from there.",
        )));
    }
    if let Some((code_id, _)) = new.discount_code
        && let Err(rejection) = crate::storage::discounts::redeem(
            &mut tx,
            code_id,
            new.checkout.account_id,
            order_id,
            new.currency,
        )
        .await?
    {
        return Err(PlaceError::DiscountRejected(rejection));
    }
    let mut lines: Vec<&LineToBuy> = new.lines.iter().collect();
    lines.sort_by_key(|line| line.variant_id);
    for (index, line) in lines.iter().enumerate() {
        let Some(taken) =
            stock::take_for_sale(&mut tx, line.variant_id, line.quantity, new.currency).await?
        else {
            let available = stock::on_hand(&mut tx, line.variant_id).await?.unwrap_or(0);
            return Err(PlaceError::OutOfStock {
                sku: line.sku.clone(),
                available,
            });
        };
        if taken.price_minor != Some(line.unit_price_minor) {
            return Err(PlaceError::PriceChanged {
                sku: line.sku.clone(),
            });
        }
        stock::record(
            &mut tx,
            &stock::Movement {
                variant_id: line.variant_id,
                delta: -line.quantity,
                reason: StockReason::Sale,
                note: None,
                stock_after: taken.stock_on_hand,
                order_id: Some(order_id),
                actor_id: None,
            },
        )
        .await?;
        sqlx::query!(
            r#"INSERT INTO order_lines (order_id, line_number, variant_id, product_id, sku,
                                        product_name, variant_title, unit_price_minor, quantity,
                                        line_total_minor, promotion_discount_minor,
                                        code_discount_minor, tax_minor)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"#,
            order_id,
            i32::try_from(index + 1).unwrap_or(i32::MAX),
            line.variant_id,
            line.product_id,
            line.sku,
            line.product_name,
            line.variant_title,
            line.unit_price_minor,
            line.quantity,
            line.unit_price_minor * i64::from(line.quantity),
            line.promotion_discount_minor,
            line.code_discount_minor,
            line.tax_minor,
        )
        .execute(&mut *tx)
        .await?;
    }
    stock::refresh_rollups(&mut tx, &product_ids).await?;
    // Last, so that checkouts under one promotion hold its row for as short as can be.
    if let Err(title) =
        crate::storage::promotions::redeem(&mut tx, order_id, new.promotions).await?
    {
        return Err(PlaceError::PromotionEnded { title });
    }
    publish(
        &mut tx,
        "order.placed",
        serde_json::json!({ "order_id": order_id, "number": number }),
    )
    .await?;
    tx.commit().await?;
    Ok((order_id, number))
}

/// The charge succeeded: the order is paid.
pub async fn mark_paid(
    db: &PgPool,
    order_id: Uuid,
    payment: &PaymentRecord<'_>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let moved = sqlx::query!(
        r#"UPDATE orders SET status = 'paid', paid_at = now(), updated_at = now()
            WHERE id = $1 AND status = 'pending_payment'"#,
        order_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(StoreError::conflict(
            "order_not_pending",
            "The order is no longer awaiting payment.",
        ));
    }
    record_payment(&mut tx, order_id, payment).await?;
    publish(
        &mut tx,
        "order.paid",
        serde_json::json!({ "order_id": order_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The charge failed: the order is cancelled and its stock goes back on the shelf.
pub async fn cancel_unpaid(
    db: &PgPool,
    order_id: Uuid,
    reason: &str,
    payment: Option<&PaymentRecord<'_>>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let lines = lock_order_products(&mut tx, order_id).await?;
    let moved = sqlx::query!(
        r#"UPDATE orders SET status = 'cancelled', cancel_reason = $2, cancelled_at = now(),
                             updated_at = now()
            WHERE id = $1 AND status = 'pending_payment'"#,
        order_id,
        reason
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(StoreError::conflict(
            "order_not_pending",
            "The order is no longer awaiting payment.",
        ));
    }
    stock::return_to_shelf(&mut tx, order_id, &lines, None).await?;
    crate::storage::discounts::release(&mut tx, order_id).await?;
    crate::storage::promotions::release(&mut tx, order_id).await?;
    if let Some(payment) = payment {
        record_payment(&mut tx, order_id, payment).await?;
    }
    publish(
        &mut tx,
        "order.cancelled",
        serde_json::json!({ "order_id": order_id, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
