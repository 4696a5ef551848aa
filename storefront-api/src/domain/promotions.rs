//! Automatic promotions: the shop's rules for a new one (every broken rule reported at once,
//! each naming its field), and the one place a cart is priced with them — which promotions
//! it gets, what each takes off which line and why, what is within reach — before a discount
//! code, shipping and tax.
//!
//! Stacking: promotions that combine apply together (any subset of them: one may take the
//! goods below another's threshold); any other applies alone; the shopper gets whichever of
//! these choices costs them least, none at all included. Within a choice, line promotions (buy X
//! get Y, quantity tiers) come first, then spend tiers on what the lines cost after them, then
//! free shipping. A discount code applies on top, to the goods after promotions.
//!
//! Each line promotion is worked out on the list price of the units it covers; together they
//! never take a line below zero. Spend tiers are measured on the goods after line promotions.
//!
//! Money stays in integer minor units. A line promotion's discount lands on the lines of the
//! units it discounts; a spend tier's is spread over the lines it covers (largest remainder);
//! so each order line knows what it was sold for and a return refunds what its units cost.

use chrono::{DateTime, Utc};
use storefront_client::money::Money;
use storefront_client::promotions::{AppliedPromotion, MissingForPromotion, PromotionHint};
use storefront_client::staff::promotions::{
    PromotionDraft, PromotionRule, PromotionScope, QuantityTier, SpendTier,
};
use uuid::Uuid;

use super::FieldError;
use super::money::Currency;
use super::order::{
    CountryRates, Discount, DiscountValue, PricingError, ShippingMethod, Totals,
    apply_basis_points, shipping_minor,
};
use super::tax::{TaxRate, TaxTreatment, allocate, tax_lines};

const MAX_TIERS: usize = 10;
const MAX_SCOPE_IDS: usize = 1000;
/// Combining promotions whose every subset pricing tries (2^8 = 256 pricings of a cart).
const MAX_COMBINING_SEARCHED: usize = 8;

/// A promotion that obeys the shop's rules, as a cart is priced with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub id: Uuid,
    pub title: String,
    /// Checked: tiers ascend strictly by threshold.
    pub rule: PromotionRule,
    pub scope: PromotionScope,
    pub currency: Currency,
    pub combines: bool,
    /// Only for this segment's members: the caller keeps it among the running promotions
    /// only for a cart whose owner belongs.
    pub segment_id: Option<Uuid>,
    /// What is left of its money budget: a cart it would give more is priced without it
    /// (the order could not spend it).
    pub budget_left_minor: Option<i64>,
}

/// A new promotion that obeys the shop's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromotion {
    pub title: String,
    pub rule: PromotionRule,
    pub scope: PromotionScope,
    pub currency: Currency,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub combines: bool,
    pub budget_uses: Option<i32>,
    pub budget_minor: Option<i64>,
    pub segment_id: Option<Uuid>,
}

/// Checks a draft against the rules: a title of 1-80 printable characters; a known
/// currency; a rule whose numbers make sense (percentages 1-10000 basis points, tiers 1-10 of
/// them ascending strictly, amounts positive); a scope that names something; a window that
/// ends after it starts; budgets of at least one use or one minor unit.
pub fn parse_new_promotion(draft: &PromotionDraft) -> Result<NewPromotion, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = draft.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 80 || title.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "title",
            "use 1-80 characters, no control characters",
        ));
    }
    let currency = Currency::parse(&draft.currency)
        .map_err(|message| errors.push(FieldError::new("currency", message)))
        .ok();
    check_rule(&draft.rule, &mut errors);
    match &draft.scope {
        PromotionScope::All => {}
        PromotionScope::Products { product_ids } => {
            check_ids("scope.product_ids", product_ids, &mut errors)
        }
        PromotionScope::Categories { category_ids } => {
            check_ids("scope.category_ids", category_ids, &mut errors)
        }
    }
    for (field, at) in [("starts_at", draft.starts_at), ("ends_at", draft.ends_at)] {
        if at.is_some_and(|at| !(2000..=9999).contains(&chrono::Datelike::year(&at))) {
            errors.push(FieldError::new(
                field,
                "must be a date in the years 2000-9999",
            ));
        }
    }
    if let (Some(starts), Some(ends)) = (draft.starts_at, draft.ends_at)
        && starts >= ends
    {
        errors.push(FieldError::new("ends_at", "must be after starts_at"));
    }
    if draft.budget_uses.is_some_and(|uses| uses < 1) {
        errors.push(FieldError::new("budget_uses", "must be at least 1"));
    }
    if draft.budget_minor.is_some_and(|amount| amount < 1) {
        errors.push(FieldError::new("budget_minor", "must be positive"));
    }
    match (currency, errors.is_empty()) {
        (Some(currency), true) => Ok(NewPromotion {
            title,
            rule: draft.rule.clone(),
            scope: draft.scope.clone(),
            currency,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            combines: draft.combines,
            budget_uses: draft.budget_uses,
            budget_minor: draft.budget_minor,
            segment_id: draft.segment_id,
        }),
        _ => Err(errors),
    }
}

fn check_ids(field: &str, ids: &[Uuid], errors: &mut Vec<FieldError>) {
    if ids.is_empty() || ids.len() > MAX_SCOPE_IDS {
        errors.push(FieldError::new(
            field,
            format!("name 1-{MAX_SCOPE_IDS} of them"),
        ));
    }
}

fn check_percent(field: String, basis_points: u32, errors: &mut Vec<FieldError>) {
    if !(1..=10_000).contains(&basis_points) {
        errors.push(FieldError::new(field, "must be 1-10000 (basis points)"));
    }
}

fn check_tier_count(count: usize, errors: &mut Vec<FieldError>) -> bool {
    if (1..=MAX_TIERS).contains(&count) {
        return true;
    }
    errors.push(FieldError::new(
        "rule.tiers",
        format!("give 1-{MAX_TIERS} tiers"),
    ));
    false
}

fn check_rule(rule: &PromotionRule, errors: &mut Vec<FieldError>) {
    match rule {
        PromotionRule::BuyXGetY {
            buy,
            get,
            off_basis_points,
        } => {
            if !(1..=99).contains(buy) {
                errors.push(FieldError::new("rule.buy", "must be 1-99"));
            }
            if !(1..=99).contains(get) {
                errors.push(FieldError::new("rule.get", "must be 1-99"));
            }
            check_percent("rule.off_basis_points".into(), *off_basis_points, errors);
        }
        PromotionRule::QuantityTiers { tiers } => {
            if !check_tier_count(tiers.len(), errors) {
                return;
            }
            let mut previous = 0;
            for (index, tier) in tiers.iter().enumerate() {
                if tier.min_quantity < 1 || tier.min_quantity <= previous {
                    errors.push(FieldError::new(
                        format!("rule.tiers[{index}].min_quantity"),
                        "must be at least 1 and above the tier before",
                    ));
                }
                previous = tier.min_quantity;
                check_percent(
                    format!("rule.tiers[{index}].off_basis_points"),
                    tier.off_basis_points,
                    errors,
                );
            }
        }
        PromotionRule::SpendTiers { tiers } => {
            if !check_tier_count(tiers.len(), errors) {
                return;
            }
            let mut previous = -1;
            for (index, tier) in tiers.iter().enumerate() {
                if tier.min_spend_minor < 0 || tier.min_spend_minor <= previous {
                    errors.push(FieldError::new(
                        format!("rule.tiers[{index}].min_spend_minor"),
                        "must not be negative and must be above the tier before",
                    ));
                }
                previous = tier.min_spend_minor;
                match (tier.off_basis_points, tier.off_minor) {
                    (Some(basis_points), None) => check_percent(
                        format!("rule.tiers[{index}].off_basis_points"),
                        basis_points,
                        errors,
                    ),
                    (None, Some(amount)) if amount > 0 => {}
                    (None, Some(_)) => errors.push(FieldError::new(
                        format!("rule.tiers[{index}].off_minor"),
                        "must be positive",
                    )),
                    _ => errors.push(FieldError::new(
                        format!("rule.tiers[{index}].off_basis_points"),
                        "give either off_basis_points or off_minor",
                    )),
                }
            }
        }
        PromotionRule::FreeShipping {
            min_spend_minor, ..
        } => {
            if *min_spend_minor < 0 {
                errors.push(FieldError::new(
                    "rule.min_spend_minor",
                    "must not be negative",
                ));
            }
        }
    }
}

/// A purchasable cart line as promotions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartItem {
    pub product_id: Uuid,
    /// The product's category and every category above it.
    pub categories: Vec<Uuid>,
    pub unit_price_minor: i64,
    pub quantity: i32,
}

impl CartItem {
    fn total(&self) -> i64 {
        self.unit_price_minor
            .saturating_mul(i64::from(self.quantity))
    }
}

fn in_scope(scope: &PromotionScope, item: &CartItem) -> bool {
    match scope {
        PromotionScope::All => true,
        PromotionScope::Products { product_ids } => product_ids.contains(&item.product_id),
        PromotionScope::Categories { category_ids } => item
            .categories
            .iter()
            .any(|category| category_ids.contains(category)),
    }
}

/// Where and how the goods go, to price shipping and tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub method: ShippingMethod,
    pub rates: CountryRates,
    /// Standard shipping is free from this much of goods after discounts (the shop's rule,
    /// whatever the promotions).
    pub free_standard_from_minor: i64,
}

/// A cart priced with its promotions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedItems {
    pub totals: Totals,
    /// What each item is charged, in the items' order: they add up to the totals.
    pub charges: Vec<ItemCharge>,
    /// The tax in shipping (the rest of the totals' tax is the items').
    pub shipping_tax_minor: i64,
    pub applied: Vec<AppliedPromotion>,
    pub hints: Vec<PromotionHint>,
}

/// What one item (a cart or order line) comes to: its list price less what promotions and
/// its share of the discount code take off, with the tax in (or on) what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemCharge {
    pub promotion_minor: i64,
    pub code_minor: i64,
    pub tax_minor: i64,
}

impl PricedItems {
    /// What the promotions take off the goods (the rest of the totals' discount is the code's).
    pub fn promotion_goods_minor(&self) -> i64 {
        self.charges
            .iter()
            .map(|charge| charge.promotion_minor)
            .sum()
    }
}

/// Prices the items: the promotions the shopper is best off with, a discount code on what is
/// left of the goods, shipping (less a free-shipping promotion) and tax when there is a
/// delivery. `running` are the promotions running now for the cart's currency, oldest first.
pub fn price_items(
    items: &[CartItem],
    running: &[Promotion],
    code: Option<Discount>,
    delivery: Option<Delivery>,
) -> Result<PricedItems, PricingError> {
    let mut subtotal: i64 = 0;
    for item in items {
        let total = item
            .unit_price_minor
            .checked_mul(i64::from(item.quantity))
            .ok_or(PricingError::Overflow)?;
        subtotal = subtotal.checked_add(total).ok_or(PricingError::Overflow)?;
    }
    if let Some(code) = code
        && subtotal < code.min_subtotal_minor
    {
        return Err(PricingError::BelowMinimum {
            min_subtotal_minor: code.min_subtotal_minor,
        });
    }
    let combining: Vec<&Promotion> = running.iter().filter(|p| p.combines).collect();
    // Every non-empty subset of the combining promotions, the whole set first: one can take
    // the goods below another's threshold, so "all of them" is not always the cheapest. Past
    // a handful, only the whole set. Then each other promotion alone, then none at all — a
    // tie keeps the earlier choice, so promotions win ties against nothing.
    let mut choices: Vec<Vec<&Promotion>> = if combining.len() <= MAX_COMBINING_SEARCHED {
        (1..1u32 << combining.len())
            .rev()
            .map(|mask| {
                combining
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| mask & (1 << index) != 0)
                    .map(|(_, promotion)| *promotion)
                    .collect()
            })
            .collect()
    } else {
        vec![combining]
    };
    choices.extend(
        running
            .iter()
            .filter(|p| !p.combines)
            .map(|promotion| vec![promotion]),
    );
    choices.push(Vec::new());
    let mut best: Option<Choice> = None;
    for promotions in &choices {
        let choice = Choice::evaluate(items, subtotal, promotions, code, delivery)?;
        if best
            .as_ref()
            .is_none_or(|best| choice.totals.total_minor < best.totals.total_minor)
        {
            best = Some(choice);
        }
    }
    let best = best.expect("there is always a choice");
    let hints = hints(items, running, &best);
    Ok(PricedItems {
        totals: best.totals,
        charges: best.charges,
        shipping_tax_minor: best.shipping_tax_minor,
        applied: best.applied,
        hints,
    })
}

/// One way of combining promotions, evaluated.
struct Choice {
    totals: Totals,
    charges: Vec<ItemCharge>,
    shipping_tax_minor: i64,
    /// What line promotions alone take off each item: thresholds (spend tiers, free
    /// shipping) measure the goods after these.
    item_offers: Vec<i64>,
    applied: Vec<AppliedPromotion>,
}

impl Choice {
    fn evaluate(
        items: &[CartItem],
        subtotal: i64,
        promotions: &[&Promotion],
        code: Option<Discount>,
        delivery: Option<Delivery>,
    ) -> Result<Self, PricingError> {
        let mut lines = vec![0i64; items.len()];
        let mut applied = Vec::new();
        for promotion in promotions {
            if let Some((discounts, reason)) = line_promotion(items, promotion) {
                give(
                    items,
                    &mut lines,
                    &mut applied,
                    promotion,
                    discounts,
                    reason,
                );
            }
        }
        let item_offers = lines.clone();
        for promotion in promotions {
            let remaining: Vec<i64> = (0..items.len())
                .map(|index| items[index].total() - lines[index])
                .collect();
            if let Some((discounts, reason)) =
                spend_promotion(items, &item_offers, &remaining, promotion)
            {
                give(
                    items,
                    &mut lines,
                    &mut applied,
                    promotion,
                    discounts,
                    reason,
                );
            }
        }
        let promotion_minor: i64 = lines.iter().sum();
        let goods = subtotal - promotion_minor;
        let code_minor = match code {
            None => 0,
            Some(Discount {
                value: DiscountValue::Percent { basis_points },
                ..
            }) => apply_basis_points(goods, basis_points.min(10_000)),
            Some(Discount {
                value: DiscountValue::Fixed { amount_minor },
                ..
            }) => amount_minor.clamp(0, goods),
        };
        let (mut shipping, tax_rate) = match delivery {
            Some(delivery) if !items.is_empty() => (
                shipping_minor(
                    delivery.method,
                    delivery.rates,
                    goods - code_minor,
                    delivery.free_standard_from_minor,
                ),
                delivery.rates.tax,
            ),
            _ => (0, TaxRate::NONE),
        };
        for promotion in promotions {
            let PromotionRule::FreeShipping {
                min_spend_minor,
                include_express,
            } = promotion.rule
            else {
                continue;
            };
            let spend = scope_spend(items, &item_offers, promotion);
            let method_covered = delivery.is_none_or(|delivery| {
                delivery.method == ShippingMethod::Standard || include_express
            });
            if spend == 0 || spend < min_spend_minor || !method_covered {
                continue;
            }
            if promotion
                .budget_left_minor
                .is_some_and(|left| shipping > left)
            {
                continue;
            }
            // With no delivery yet there is nothing to take off, but the shopper should know
            // shipping will be free.
            if shipping > 0 || delivery.is_none() {
                applied.push(AppliedPromotion {
                    promotion_id: promotion.id,
                    title: promotion.title.clone(),
                    reason: format!(
                        "free {}shipping from {} spent",
                        if include_express { "" } else { "standard " },
                        Money::new(min_spend_minor, promotion.currency)
                    ),
                    discount_minor: 0,
                    shipping_discount_minor: shipping,
                });
                shipping = 0;
            }
        }
        // The code's discount is shared over the lines by what they cost after promotions,
        // so that each line is taxed (and later refunded) on what it was really sold for.
        let after_promotions: Vec<i64> = (0..items.len())
            .map(|index| items[index].total() - lines[index])
            .collect();
        let code_shares = allocate(code_minor, &after_promotions);
        let line_amounts: Vec<i64> = after_promotions
            .iter()
            .zip(&code_shares)
            .map(|(amount, share)| amount - share)
            .collect();
        let taxed = tax_lines(&line_amounts, shipping, tax_rate);
        let tax_minor = taxed.total().ok_or(PricingError::Overflow)?;
        let payable = (goods - code_minor)
            .checked_add(shipping)
            .ok_or(PricingError::Overflow)?;
        let total_minor = match tax_rate.treatment {
            TaxTreatment::Included => payable,
            TaxTreatment::Added => payable
                .checked_add(tax_minor)
                .ok_or(PricingError::Overflow)?,
        };
        let charges = (0..items.len())
            .map(|index| ItemCharge {
                promotion_minor: lines[index],
                code_minor: code_shares[index],
                tax_minor: taxed.lines[index],
            })
            .collect();
        Ok(Choice {
            totals: Totals {
                subtotal_minor: subtotal,
                discount_minor: promotion_minor + code_minor,
                shipping_minor: shipping,
                tax_rate_basis_points: tax_rate.basis_points,
                prices_include_tax: tax_rate.treatment.prices_include_tax(),
                tax_minor,
                total_minor,
            },
            charges,
            shipping_tax_minor: taxed.shipping_minor,
            item_offers,
            applied,
        })
    }
}

/// Takes a promotion's discounts off the lines — never below zero on a line, whatever
/// promotions meet on it — and records it as applied if it gave anything.
fn give(
    items: &[CartItem],
    lines: &mut [i64],
    applied: &mut Vec<AppliedPromotion>,
    promotion: &Promotion,
    discounts: Vec<i64>,
    reason: String,
) {
    let taken: Vec<i64> = discounts
        .into_iter()
        .enumerate()
        .map(|(index, discount)| discount.min(items[index].total() - lines[index]).max(0))
        .collect();
    let given: i64 = taken.iter().sum();
    if promotion.budget_left_minor.is_some_and(|left| given > left) {
        return;
    }
    for (line, taken) in lines.iter_mut().zip(taken) {
        *line += taken;
    }
    if given > 0 {
        applied.push(AppliedPromotion {
            promotion_id: promotion.id,
            title: promotion.title.clone(),
            reason,
            discount_minor: given,
            shipping_discount_minor: 0,
        });
    }
}

/// Units in scope, and each unit's price with its item, cheapest first (ties: earlier item).
fn units_in_scope(items: &[CartItem], promotion: &Promotion) -> Vec<(i64, usize)> {
    let mut units: Vec<(i64, usize)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| in_scope(&promotion.scope, item))
        .flat_map(|(index, item)| {
            std::iter::repeat_n(
                (item.unit_price_minor, index),
                usize::try_from(item.quantity).unwrap_or(0),
            )
        })
        .collect();
    units.sort();
    units
}

fn percent(basis_points: u32) -> String {
    if basis_points == 10_000 {
        return "free".into();
    }
    let whole = basis_points / 100;
    match basis_points % 100 {
        0 => format!("{whole} % off"),
        cents => format!("{whole}.{cents:02} % off"),
    }
}

/// What a line promotion takes off each item, and why; `None` when it gives nothing.
fn line_promotion(items: &[CartItem], promotion: &Promotion) -> Option<(Vec<i64>, String)> {
    let mut discounts = vec![0; items.len()];
    match &promotion.rule {
        PromotionRule::BuyXGetY {
            buy,
            get,
            off_basis_points,
        } => {
            let units = units_in_scope(items, promotion);
            let group = usize::try_from(buy + get).ok()?;
            let discounted = units.len() / group * usize::try_from(*get).ok()?;
            if discounted == 0 {
                return None;
            }
            for (price, index) in &units[..discounted] {
                discounts[*index] += apply_basis_points(*price, *off_basis_points);
            }
            let reason = format!(
                "{} items of the offer: {discounted} {}",
                units.len(),
                percent(*off_basis_points)
            );
            Some((discounts, reason))
        }
        PromotionRule::QuantityTiers { tiers } => {
            let units = units_in_scope(items, promotion).len();
            let tier = reached_quantity_tier(tiers, units)?;
            for (index, item) in items.iter().enumerate() {
                if in_scope(&promotion.scope, item) {
                    discounts[index] = apply_basis_points(item.total(), tier.off_basis_points);
                }
            }
            let reason = format!(
                "{units} items of the offer: {} each",
                percent(tier.off_basis_points)
            );
            Some((discounts, reason))
        }
        PromotionRule::SpendTiers { .. } | PromotionRule::FreeShipping { .. } => None,
    }
}

fn reached_quantity_tier(tiers: &[QuantityTier], units: usize) -> Option<QuantityTier> {
    tiers
        .iter()
        .rev()
        .find(|tier| usize::try_from(tier.min_quantity).is_ok_and(|min| units >= min))
        .copied()
}

fn reached_spend_tier(tiers: &[SpendTier], spend: i64) -> Option<SpendTier> {
    tiers
        .iter()
        .rev()
        .find(|tier| spend >= tier.min_spend_minor)
        .copied()
}

/// What the items in scope cost after the given discounts.
fn scope_spend(items: &[CartItem], lines: &[i64], promotion: &Promotion) -> i64 {
    items
        .iter()
        .zip(lines)
        .filter(|(item, _)| in_scope(&promotion.scope, item))
        .map(|(item, discount)| item.total() - discount)
        .sum()
}

/// What a spend promotion takes off each item, and why; `None` when it gives nothing. The
/// tier is the one the goods in scope reach after item offers; its discount is spread over
/// those items by what is left of them (after earlier spend promotions too).
fn spend_promotion(
    items: &[CartItem],
    item_offers: &[i64],
    remaining: &[i64],
    promotion: &Promotion,
) -> Option<(Vec<i64>, String)> {
    let PromotionRule::SpendTiers { tiers } = &promotion.rule else {
        return None;
    };
    let tier = reached_spend_tier(tiers, scope_spend(items, item_offers, promotion))?;
    let weights: Vec<i64> = items
        .iter()
        .zip(remaining)
        .map(|(item, left)| {
            if in_scope(&promotion.scope, item) {
                *left
            } else {
                0
            }
        })
        .collect();
    let spend: i64 = weights.iter().sum();
    if spend <= 0 {
        return None;
    }
    let (discount, what) = match (tier.off_basis_points, tier.off_minor) {
        (Some(basis_points), _) => (
            apply_basis_points(spend, basis_points),
            percent(basis_points),
        ),
        (None, Some(amount)) => (
            amount.min(spend),
            format!("{} off", Money::new(amount, promotion.currency)),
        ),
        (None, None) => return None,
    };
    let reason = format!(
        "{what} from {} spent",
        Money::new(tier.min_spend_minor, promotion.currency)
    );
    Some((allocate(discount, &weights), reason))
}

/// Promotions within reach, with what the cart lacks: units or spend for a promotion's next
/// tier, or — for one that does not combine and would give something but is not given — the
/// better offer the shopper got instead.
fn hints(items: &[CartItem], running: &[Promotion], chosen: &Choice) -> Vec<PromotionHint> {
    let mut hints = Vec::new();
    for promotion in running {
        let units = units_in_scope(items, promotion).len();
        if units == 0 {
            continue;
        }
        let gets_it = chosen
            .applied
            .iter()
            .any(|applied| applied.promotion_id == promotion.id);
        let spend = scope_spend(items, &chosen.item_offers, promotion);
        let missing = match &promotion.rule {
            PromotionRule::BuyXGetY { buy, get, .. } => {
                let group = usize::try_from(buy + get).unwrap_or(usize::MAX);
                let into_group = units % group;
                (into_group >= usize::try_from(*buy).unwrap_or(usize::MAX)).then(|| {
                    MissingForPromotion::Units {
                        units: u32::try_from(group - into_group).unwrap_or(u32::MAX),
                    }
                })
            }
            PromotionRule::QuantityTiers { tiers } => tiers
                .iter()
                .find(|tier| usize::try_from(tier.min_quantity).is_ok_and(|min| min > units))
                .map(|tier| MissingForPromotion::Units {
                    units: tier.min_quantity - u32::try_from(units).unwrap_or(u32::MAX),
                }),
            PromotionRule::SpendTiers { tiers } => tiers
                .iter()
                .find(|tier| tier.min_spend_minor > spend)
                .map(|tier| MissingForPromotion::Spend {
                    amount_minor: tier.min_spend_minor - spend,
                }),
            PromotionRule::FreeShipping {
                min_spend_minor, ..
            } => (*min_spend_minor > spend).then(|| MissingForPromotion::Spend {
                amount_minor: min_spend_minor - spend,
            }),
        };
        let lost_to = (!promotion.combines && !gets_it && gives_alone(items, promotion))
            .then(|| chosen.applied.first())
            .flatten();
        let missing = match (lost_to, missing) {
            (Some(applied), _) => MissingForPromotion::BetterOffer {
                applied: applied.title.clone(),
            },
            (None, Some(missing)) => missing,
            (None, None) => continue,
        };
        hints.push(PromotionHint {
            promotion_id: promotion.id,
            title: promotion.title.clone(),
            missing,
        });
    }
    hints
}

/// Whether a goods promotion would take something off these items on its own.
fn gives_alone(items: &[CartItem], promotion: &Promotion) -> bool {
    let gives = |found: Option<(Vec<i64>, String)>| {
        found.is_some_and(|(discounts, _)| discounts.iter().any(|d| *d > 0))
    };
    let whole: Vec<i64> = items.iter().map(CartItem::total).collect();
    let none = vec![0; items.len()];
    gives(line_promotion(items, promotion))
        || gives(spend_promotion(items, &none, &whole, promotion))
}

#[cfg(test)]
mod tests;
