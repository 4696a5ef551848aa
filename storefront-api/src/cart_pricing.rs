//! Cart pricing, the application service the cart routes and checkout share: a cart read
//! once from Redis, re-priced from the catalog, with its problems per line, its currency, the
//! promotions running for it, a discount code the owner may use now, and totals (shipping and
//! tax when there is a destination); and whether units of a variant may be sold into a cart
//! at all.

use storefront_client::cart::Cart;
use uuid::Uuid;

use crate::{
    config::CheckoutSettings,
    domain::{
        account::parse_country,
        cart::{cart_lines, purchasable},
        money::Currency,
        order::{CountryRates, Discount, DiscountRejection, PricingError, ShippingMethod},
        promotions::{CartItem, Delivery, Promotion, price_items},
        tax::{TaxRate, TaxTreatment},
    },
    error::{ApiError, ApiResult},
    state::AppState,
    storage::{carts::CartOwner, catalog::cart_variants, discounts, promotions},
};

/// Where the goods go and how: the country, its market's currency, its rates, and the
/// shipping method.
#[derive(Debug, Clone)]
pub struct Destination {
    /// ISO 3166-1 alpha-2, upper-cased.
    pub country: String,
    /// The currency of the country's market: a cart going there is priced in it.
    pub currency: Currency,
    pub rates: CountryRates,
    pub method: ShippingMethod,
    /// The market's free-shipping threshold, in its currency.
    pub free_standard_from_minor: i64,
}

/// A cart priced for checkout or display.
pub struct PricedCart {
    pub cart: Cart,
    /// The tax in (or on) shipping: the totals' tax less the lines'.
    pub shipping_tax_minor: i64,
    /// The discount code applied to the totals, when one was asked for.
    pub discount: Option<AppliedDiscount>,
}

impl PricedCart {
    /// What promotions take off the goods.
    pub fn promotion_goods_minor(&self) -> i64 {
        self.cart.promotions.iter().map(|p| p.discount_minor).sum()
    }
}

/// A discount code the owner may use now.
pub struct AppliedDiscount {
    pub id: Uuid,
    /// As the shopper typed it, trimmed.
    pub code: String,
    pub discount: Discount,
}

/// Where a shopper's goods would go: a country the shop ships to (a 422 on `country`
/// naming the ones it ships to otherwise), with its market and rates.
pub fn destination(
    settings: &CheckoutSettings,
    country: &str,
    method: ShippingMethod,
) -> ApiResult<Destination> {
    let code = parse_country(country).map_err(|message| ApiError::invalid("country", message))?;
    let terms = settings.countries.get(&code).ok_or_else(|| {
        let shipped: Vec<&str> = settings.countries.keys().map(String::as_str).collect();
        ApiError::invalid(
            "country",
            format!(
                "we do not ship to {code}; we ship to {}",
                shipped.join(", ")
            ),
        )
    })?;
    // `Settings::check` refuses at start-up a country without a market; settings built any
    // other way get an error here, not a panic.
    let market = settings.markets.get(&terms.market).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "checkout.countries.{code}.market names no market: {}",
            terms.market
        ))
    })?;
    let currency = Currency::parse(&market.currency).unwrap_or(Currency::NONE);
    Ok(Destination {
        country: code,
        currency,
        rates: CountryRates {
            tax: TaxRate {
                basis_points: terms.tax_basis_points,
                treatment: TaxTreatment::from_prices_include_tax(market.prices_include_tax),
            },
            standard_minor: terms.standard_minor,
            express_minor: terms.express_minor,
        },
        method,
        free_standard_from_minor: market.free_standard_shipping_from_minor,
    })
}

/// Reads the owner's cart once and prices it, in the currency of the destination's market
/// (the default market's without one), with the promotions running now: with a
/// `destination`, shipping and tax too; with a `discount_code`, the code is checked for this
/// owner and the cart's currency (a 422 saying why it cannot be used) and applied. A line
/// whose variant has no price in that currency is not sold there (its problem says so).
pub async fn load_cart(
    state: &AppState,
    owner: Option<&CartOwner>,
    destination: Option<Destination>,
    discount_code: Option<&str>,
) -> ApiResult<PricedCart> {
    let quantities = match owner {
        Some(owner) => state.carts.lines(owner).await?,
        None => Vec::new(),
    };
    let market_currency = destination.as_ref().map_or_else(
        || state.settings.checkout.default_currency(),
        |destination| destination.currency,
    );
    let ids: Vec<Uuid> = quantities.iter().map(|(id, _)| *id).collect();
    let catalog = if ids.is_empty() {
        Vec::new()
    } else {
        cart_variants(&state.db, &ids, market_currency).await?
    };
    let mut lines = cart_lines(&quantities, &catalog);
    let currency = (!lines.is_empty()).then_some(market_currency);
    let code = discount_code.map(str::trim).filter(|code| !code.is_empty());
    let discount = match code {
        None => None,
        Some(code) => {
            let account = match owner {
                Some(CartOwner::Account(id)) => Some(*id),
                _ => None,
            };
            let (id, discount) = usable_discount(state, code, account, currency).await?;
            Some(AppliedDiscount {
                id,
                code: code.to_owned(),
                discount,
            })
        }
    };
    let running = match currency {
        Some(currency) => promotions::running(&state.db, currency, chrono::Utc::now()).await?,
        None => Vec::new(),
    };
    let running = for_this_customer(state, owner, running).await;
    let (indexes, items): (Vec<usize>, Vec<CartItem>) =
        purchasable(&lines, &catalog).into_iter().unzip();
    let delivery = destination.map(|destination| Delivery {
        method: destination.method,
        rates: destination.rates,
        free_standard_from_minor: destination.free_standard_from_minor,
    });
    let priced = price_items(
        &items,
        &running,
        discount.as_ref().map(|applied| applied.discount),
        delivery,
    )
    .map_err(pricing_error)?;
    for (index, charge) in indexes.into_iter().zip(&priced.charges) {
        lines[index].promotion_discount_minor = charge.promotion_minor;
        lines[index].code_discount_minor = charge.code_minor;
        lines[index].tax_minor = charge.tax_minor;
    }
    let cart = Cart {
        token: match owner {
            Some(CartOwner::Guest(token)) => Some(token.clone()),
            _ => None,
        },
        item_count: lines
            .iter()
            .filter(|line| line.problem.is_none())
            .map(|line| i64::from(line.quantity))
            .sum(),
        currency,
        ready_for_checkout: !lines.is_empty() && lines.iter().all(|line| line.problem.is_none()),
        totals: Some(priced.totals),
        lines,
        promotions: priced.applied,
        promotion_hints: priced.hints,
    };
    Ok(PricedCart {
        cart,
        shipping_tax_minor: priced.shipping_tax_minor,
        discount,
    })
}

/// The running promotions this cart's owner may have: a segment's promotion only for a
/// signed-in member (each segment asked once).
async fn for_this_customer(
    state: &AppState,
    owner: Option<&CartOwner>,
    running: Vec<Promotion>,
) -> Vec<Promotion> {
    let account = match owner {
        Some(CartOwner::Account(id)) => Some(*id),
        _ => None,
    };
    let mut answers: Vec<(Uuid, bool)> = Vec::new();
    let mut kept = Vec::with_capacity(running.len());
    for promotion in running {
        let Some(segment_id) = promotion.segment_id else {
            kept.push(promotion);
            continue;
        };
        let Some(account) = account else { continue };
        let member = match answers.iter().find(|(id, _)| *id == segment_id) {
            Some((_, member)) => *member,
            None => {
                let member = crate::segments::includes(state, segment_id, account).await;
                answers.push((segment_id, member));
                member
            }
        };
        if member {
            kept.push(promotion);
        }
    }
    kept
}

/// A discount code the caller may use now, or a 422 saying why not.
async fn usable_discount(
    state: &AppState,
    code: &str,
    account_id: Option<Uuid>,
    currency: Option<Currency>,
) -> ApiResult<(Uuid, Discount)> {
    let (id, rule, used) = discounts::find(&state.db, code, account_id)
        .await?
        .ok_or_else(|| ApiError::invalid("discount_code", "there is no such code"))?;
    let currency = currency.or(rule.currency).unwrap_or(Currency::NONE);
    let discount = rule
        .check(chrono::Utc::now(), currency, account_id, used)
        .map_err(|rejection| ApiError::invalid("discount_code", rejection.to_string()))?;
    Ok((id, discount))
}

fn pricing_error(error: PricingError) -> ApiError {
    match error {
        PricingError::BelowMinimum { min_subtotal_minor } => ApiError::invalid(
            "discount_code",
            DiscountRejection::BelowMinimum { min_subtotal_minor }.to_string(),
        ),
        PricingError::Overflow => ApiError::invalid("quantity", "the cart total is too large"),
    }
}

/// Checks that `quantity` units of the variant can be sold at all. (Whether it is sold in
/// the shopper's market shows when the cart is priced for it: a cart has no market of its
/// own, its reader says where it goes.)
pub async fn check_sellable(state: &AppState, variant_id: Uuid, quantity: i32) -> ApiResult<()> {
    let variant = cart_variants(
        &state.db,
        &[variant_id],
        state.settings.checkout.default_currency(),
    )
    .await?
    .into_iter()
    .next()
    .ok_or(ApiError::NotFound("variant"))?;
    if !variant.is_for_sale() {
        return Err(ApiError::conflict(
            "not_for_sale",
            format!("{} is no longer sold.", variant.product_name),
        ));
    }
    if variant.stock_on_hand < quantity {
        return Err(ApiError::Conflict {
            code: "insufficient_stock",
            message: format!(
                "Only {} of {} left.",
                variant.stock_on_hand.max(0),
                variant.product_name
            ),
            details: serde_json::json!({ "variant_id": variant_id, "available": variant.stock_on_hand.max(0) }),
        });
    }
    Ok(())
}
