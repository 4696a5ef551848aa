//! Two years of order history for the demo customers, up to the shop's end, with churn in it
//! for a model to find.
//!
//! Every customer is a [`Shopper`]: a sign-up date (their account's), a usual gap between
//! orders (lognormal across shoppers, gamma-shaped around it for each one), a lifetime after
//! which they lapse, favourite departments, an address to ship to and a taste for browsing.
//! Orders follow that rhythm with noise: now and then a long pause that ends in a return. In
//! the weeks before a lapsing shopper's last order their orders and their browsing thin out
//! (`behaviour`); after it they stop, save a stray visit. Real but imperfect signal: a long
//! recent gap may be a pause, and a quiet month may be the end.
//!
//! Orders sell real demo variants at their price, are priced as checkout prices a cart
//! (`domain::promotions::price_items`, tax per line) with the shipping and tax of the country
//! they ship to (the compiled-in defaults of
//! `config/default.toml`, so history is the same whatever a deployment configures), and follow
//! the status machine as far as the end, with consistent timestamps: mostly delivered, the
//! last days' still paid, fulfilled or shipped (a refund perhaps still to come), about 3%
//! cancelled and 2% refunded. They come with no stock movements: the stock ledger describes
//! the stock the demo shop holds now, and the history predates it. Nor do they go through
//! the outbox: nobody is to be emailed about them.
//!
//! Pure: each shopper draws from their own ChaCha8 stream of the seed, so the history of the
//! first n customers is the same whether n or all of them are generated. The same draws are
//! made whatever the end, and they are weighed only by durations measured from the end and
//! by days counted back from it, never by the hour an order or a session got (`Slot`): so
//! another end moves the whole history, the same orders and events, each the same number of
//! days before the end and at the same UTC hour, and only how far the last days' orders got
//! differs. Rates and gaps go through `f64` logarithms and exponentials (rounded to whole
//! seconds); those may differ in the last bit between platforms, so history is reproducible
//! on one platform, while the catalog and the accounts, integer-only, are on any.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use storefront_client::account::PostalAddress;
use uuid::Uuid;

use super::{Account, Address, DemoShop, Product, behaviour, new_id, people, pick, pick_distinct};
use crate::{
    config::{CheckoutSettings, Settings},
    domain::{
        account::Role,
        events::BehaviourEvent,
        order::{Discount, OrderStatus, ShippingMethod, Totals},
        promotions::{CartItem, Delivery, price_items},
    },
};

/// Share of customers who ever buy; the others only browse.
const BUYER_SHARE: f64 = 0.96;
/// The usual gap between a shopper's orders is lognormal across shoppers: this median...
const USUAL_GAP_MEDIAN_DAYS: f64 = 32.0;
/// ...this spread (of its logarithm)...
const USUAL_GAP_SIGMA: f64 = 0.5;
/// ...and within these bounds.
const USUAL_GAP_DAYS: (f64, f64) = (7.0, 240.0);
/// Each gap is gamma-distributed around the usual one with this shape: regular-ish buyers.
const GAP_SHAPE: u32 = 3;
/// Days from sign-up to the first order, on average (exponential: many buy at once).
const FIRST_ORDER_MEAN_DAYS: f64 = 3.0;
/// Mean lifetime of a shopper (exponential): about half lapse within the two years.
const MEAN_LIFETIME_DAYS: f64 = 800.0;
/// Share of gaps that become a long pause, this many times longer, after which the shopper
/// returns.
const PAUSE_SHARE: f64 = 0.06;
const PAUSE_FACTOR: (f64, f64) = (3.0, 6.0);
/// How long before their last order a lapsing shopper's engagement starts to fall, in days.
const DECLINE_DAYS: (i64, i64) = (28, 84);
/// Engagement left at the last order of a lapsing shopper: it falls linearly to this.
pub(super) const ENGAGEMENT_AT_LAPSE: f64 = 0.1;
/// Browsing sessions per usual gap between orders: lognormal median and spread.
const BROWSING_MEDIAN: f64 = 0.6;
const BROWSING_SIGMA: f64 = 0.6;
/// Days between visits of someone who never buys (median).
const BROWSER_GAP_MEDIAN_DAYS: f64 = 20.0;
/// Share of picks from a shopper's favourite departments.
const FAVOURITE_SHARE: f64 = 0.7;
/// Order lines per order, weighted.
const LINE_COUNTS: &[(usize, u32)] = &[(1, 55), (2, 28), (3, 12), (4, 5)];
/// Quantity per line, weighted: mostly one.
const QUANTITIES: &[(i32, u32)] = &[(1, 86), (2, 11), (3, 3)];
const EXPRESS_SHARE: f64 = 0.12;
/// Share of orders shipped to a shopper's other saved address, if they have one.
const OTHER_ADDRESS_SHARE: f64 = 0.1;
/// Share of orders cancelled; two in three of them because the card was declined, the
/// others at the customer's request after payment (and refunded).
const CANCELLED_SHARE: f64 = 0.03;
const DECLINED_SHARE_OF_CANCELLED: f64 = 0.67;
/// Share of orders refunded in full after delivery.
const REFUNDED_SHARE: f64 = 0.02;
/// The simulated provider's approved and declined test cards.
const CARD_BRAND: &str = "visa";
const APPROVED_LAST4: &str = "4242";
const DECLINED_LAST4: &str = "0002";
/// Name of the simulated payment provider, as `payments::SimulatedProvider` records it.
pub const PAYMENT_PROVIDER: &str = "simulated";
/// Product popularity is lognormal with this spread: a few best-sellers, a long tail.
const POPULARITY_SIGMA: f64 = 1.0;

/// ChaCha8 stream of the product popularity draws.
const SHELF_STREAM: u64 = 2;
/// Shopper n draws from stream `SHOPPER_STREAMS + n`.
const SHOPPER_STREAMS: u64 = 1 << 32;

/// Whose history a load writes: every customer (the CLI), or the first few (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryScope {
    AllCustomers,
    FirstCustomers(usize),
}

/// A customer as the history generator sees them: the truth a churn model tries to recover.
#[derive(Debug, Clone, PartialEq)]
pub struct Shopper {
    pub account_id: Uuid,
    pub signed_up_at: DateTime<Utc>,
    /// Days between orders on average while active; `None` for someone who only browses.
    pub usual_gap_days: Option<f64>,
    /// When the shopper lapses, if before the end: the last order falls before it, and
    /// browsing stops soon after.
    pub lapses_at: Option<DateTime<Utc>>,
}

/// An order of the demo history, as it stands at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub account_id: Uuid,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    /// The tax in (or on) shipping: the totals' tax less the lines'.
    pub shipping_tax_minor: i64,
    pub refunded_minor: i64,
    pub shipping_method: ShippingMethod,
    pub shipping_address: PostalAddress,
    pub cancel_reason: Option<&'static str>,
    pub tracking_number: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The charge (declined or succeeded), then the refund if any.
    pub payments: Vec<Payment>,
}

/// What was bought, copied from the catalog as checkout does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub variant_title: String,
    pub unit_price_minor: i64,
    pub quantity: i32,
    /// The line's share of the order's discount code, and its tax (set when the order is
    /// priced).
    pub code_discount_minor: i64,
    pub tax_minor: i64,
}

impl OrderLine {
    /// A line of `quantity` of the variant at its price.
    fn of(product: &Product, variant: &super::Variant, quantity: i32) -> Self {
        Self {
            variant_id: variant.id,
            product_id: product.id,
            sku: variant.sku.clone(),
            product_name: product.name.clone(),
            variant_title: variant.title.clone(),
            unit_price_minor: variant.price_minor,
            quantity,
            code_discount_minor: 0,
            tax_minor: 0,
        }
    }

    pub fn line_total_minor(&self) -> i64 {
        self.unit_price_minor * i64::from(self.quantity)
    }
}

/// A payment attempt, as `storage::orders` records one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    /// `charge` or `refund`.
    pub kind: &'static str,
    /// `succeeded` or `declined`.
    pub outcome: &'static str,
    pub amount_minor: i64,
    pub provider_reference: Option<String>,
    pub card_brand: Option<&'static str>,
    pub card_last4: Option<&'static str>,
    pub failure_code: Option<&'static str>,
    pub created_at: DateTime<Utc>,
}

/// The shop's past: who the customers are, what they ordered, what they did on the site.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Where it ends, the shop's end: nothing in it is dated later.
    pub ends_at: DateTime<Utc>,
    /// In customer number order.
    pub shoppers: Vec<Shopper>,
    /// In the order they were placed (order numbers follow it).
    pub orders: Vec<Order>,
    /// Shopper by shopper, each one's in time order.
    pub events: Vec<BehaviourEvent>,
}

/// How much history there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCounts {
    pub orders: usize,
    pub order_lines: usize,
    pub payments: usize,
    pub events: usize,
}

/// The churn in the history, as of its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChurnSummary {
    pub customers: usize,
    /// Share of customers who lapsed at some point before the end.
    pub lapsed_share: f64,
    /// Share of customers without an order in the 90 (180) days before the end, never-buyers
    /// included.
    pub quiet_90_days_share: f64,
    pub quiet_180_days_share: f64,
    /// Median days between consecutive orders of the same customer, over all such pairs.
    pub median_repeat_gap_days: f64,
}

impl History {
    pub fn counts(&self) -> HistoryCounts {
        HistoryCounts {
            orders: self.orders.len(),
            order_lines: self.orders.iter().map(|o| o.lines.len()).sum(),
            payments: self.orders.iter().map(|o| o.payments.len()).sum(),
            events: self.events.len(),
        }
    }

    pub fn churn_summary(&self) -> ChurnSummary {
        let end = self.ends_at;
        let mut last_order: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        let mut gaps = Vec::new();
        for order in &self.orders {
            if let Some(previous) = last_order.insert(order.account_id, order.placed_at) {
                gaps.push((order.placed_at - previous).num_seconds() as f64 / 86_400.0);
            }
        }
        gaps.sort_by(f64::total_cmp);
        let customers = self.shoppers.len();
        let share = |n: usize| n as f64 / customers.max(1) as f64;
        let quiet = |days: i64| {
            let since = end - TimeDelta::days(days);
            share(
                self.shoppers
                    .iter()
                    .filter(|s| last_order.get(&s.account_id).is_none_or(|at| *at < since))
                    .count(),
            )
        };
        ChurnSummary {
            customers,
            lapsed_share: share(
                self.shoppers
                    .iter()
                    .filter(|s| s.lapses_at.is_some())
                    .count(),
            ),
            quiet_90_days_share: quiet(90),
            quiet_180_days_share: quiet(180),
            median_repeat_gap_days: gaps.get(gaps.len() / 2).copied().unwrap_or(0.0),
        }
    }
}

/// Generates the history of the shop's customers up to its end. Pure and deterministic.
pub fn generate(shop: &DemoShop, seed: u64, scope: HistoryScope) -> History {
    let checkout = Settings::defaults().checkout;
    let shelf = Shelf::stock(shop, seed);
    let mut addresses: HashMap<Uuid, Vec<&Address>> = HashMap::new();
    for address in &shop.addresses {
        addresses
            .entry(address.account_id)
            .or_default()
            .push(address);
    }
    let limit = match scope {
        HistoryScope::AllCustomers => usize::MAX,
        HistoryScope::FirstCustomers(n) => n,
    };
    let customers = shop
        .accounts
        .iter()
        .filter(|a| a.role == Role::Customer)
        .take(limit);
    let mut history = History {
        ends_at: shop.ends_at,
        shoppers: Vec::new(),
        orders: Vec::new(),
        events: Vec::new(),
    };
    for (number, account) in (1..).zip(customers) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(SHOPPER_STREAMS + number);
        let saved = addresses.get(&account.id).map_or(&[][..], Vec::as_slice);
        shopper_history(&mut rng, &shelf, &checkout, account, saved, &mut history);
    }
    history.orders.sort_by_key(|o| (o.placed_at, o.id));
    history
}

/// The catalog as history sees it: every product from the day it arrived, best-sellers more
/// often than the long tail, by department.
pub(super) struct Shelf<'a> {
    everything: Aisle<'a>,
    departments: Vec<Aisle<'a>>,
}

/// Products in order of arrival, with their cumulative popularity.
#[derive(Default)]
struct Aisle<'a> {
    products: Vec<&'a Product>,
    cumulative: Vec<f64>,
}

impl<'a> Aisle<'a> {
    fn stock(mut products: Vec<(&'a Product, f64)>) -> Self {
        products.sort_by_key(|(p, _)| (p.created_at, p.id));
        let mut total = 0.0;
        let mut aisle = Self::default();
        for (product, popularity) in products {
            total += popularity;
            aisle.products.push(product);
            aisle.cumulative.push(total);
        }
        aisle
    }

    /// A product already in the shop at `at`, by popularity.
    fn pick(&self, rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> Option<&'a Product> {
        let available = self.products.partition_point(|p| p.created_at <= at);
        let total = *self.cumulative.get(available.checked_sub(1)?)?;
        let ticket = rng.random::<f64>() * total;
        let index = self.cumulative[..available].partition_point(|c| *c <= ticket);
        self.products.get(index.min(available - 1)).copied()
    }
}

impl<'a> Shelf<'a> {
    /// The shop's products by popularity, as every history of `seed` draws them.
    pub(super) fn stock(shop: &'a DemoShop, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(SHELF_STREAM);
        let departments: Vec<Uuid> = shop
            .categories
            .iter()
            .filter(|c| c.parent_id.is_none())
            .map(|c| c.id)
            .collect();
        let department_of: HashMap<Uuid, usize> = shop
            .categories
            .iter()
            .filter_map(|c| {
                let department = c.parent_id.unwrap_or(c.id);
                Some((c.id, departments.iter().position(|d| *d == department)?))
            })
            .collect();
        let mut by_department: Vec<Vec<(&Product, f64)>> = vec![Vec::new(); departments.len()];
        let mut everything = Vec::new();
        for product in &shop.products {
            let popularity = lognormal(&mut rng, 1.0, POPULARITY_SIGMA);
            everything.push((product, popularity));
            if let Some(&department) = department_of.get(&product.category_id) {
                by_department[department].push((product, popularity));
            }
        }
        Self {
            everything: Aisle::stock(everything),
            departments: by_department.into_iter().map(Aisle::stock).collect(),
        }
    }

    /// A product for someone with these favourite departments, available at `at`.
    pub(super) fn pick(
        &self,
        rng: &mut ChaCha8Rng,
        favourites: &[usize],
        at: DateTime<Utc>,
    ) -> Option<&'a Product> {
        if !favourites.is_empty() && rng.random_bool(FAVOURITE_SHARE) {
            let department = *pick(rng, favourites);
            if let Some(product) = self
                .departments
                .get(department)
                .and_then(|aisle| aisle.pick(rng, at))
            {
                return Some(product);
            }
        }
        self.everything.pick(rng, at)
    }
}

/// A shopper's traits that shape their history.
pub(super) struct Profile<'a> {
    pub account: &'a Account,
    pub anonymous_id: String,
    pub favourites: Vec<usize>,
    /// Where orders go. The first is the usual one.
    destinations: Vec<PostalAddress>,
    pub usual_gap_days: Option<f64>,
    pub lapses_at: Option<DateTime<Utc>>,
    /// The end of the history.
    pub ends_at: DateTime<Utc>,
    /// How long before their last order a lapsing shopper's engagement starts to fall.
    pub decline: TimeDelta,
    /// Browsing sessions per day while fully engaged.
    pub browsing_per_day: f64,
}

fn profile<'a>(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    account: &'a Account,
    saved: &[&Address],
    ends_at: DateTime<Utc>,
) -> Profile<'a> {
    let anonymous_id = format!("v-{:016x}", rng.random::<u64>());
    let department_count = if rng.random_bool(0.6) { 1 } else { 2 };
    let departments: Vec<usize> = (0..shelf.departments.len()).collect();
    let favourites = pick_distinct(rng, &departments, department_count)
        .into_iter()
        .copied()
        .collect();
    let mut destinations: Vec<PostalAddress> = saved.iter().map(|a| a.postal.clone()).collect();
    if destinations.is_empty() {
        // Typed in at checkout, never saved.
        let country = people::home_country(rng);
        let typed = people::address(rng, country, account, None, false, ends_at);
        destinations.push(typed.postal);
    }
    let buys = rng.random_bool(BUYER_SHARE);
    let usual_gap_days = buys.then(|| {
        let (shortest, longest) = USUAL_GAP_DAYS;
        lognormal(rng, USUAL_GAP_MEDIAN_DAYS, USUAL_GAP_SIGMA).clamp(shortest, longest)
    });
    let lifetime = days(exponential(rng, MEAN_LIFETIME_DAYS));
    let lapses_at = Some(account.created_at + lifetime).filter(|at| *at < ends_at);
    let decline = TimeDelta::days(rng.random_range(DECLINE_DAYS.0..=DECLINE_DAYS.1));
    let browsing_per_day = match usual_gap_days {
        Some(gap) => lognormal(rng, BROWSING_MEDIAN, BROWSING_SIGMA).clamp(0.1, 6.0) / gap,
        None => 1.0 / lognormal(rng, BROWSER_GAP_MEDIAN_DAYS, 0.5),
    };
    Profile {
        account,
        anonymous_id,
        favourites,
        destinations,
        usual_gap_days,
        lapses_at,
        ends_at,
        decline,
        browsing_per_day,
    }
}

/// A stretch of time in which the shopper was away and came back.
pub(super) type Pause = (DateTime<Utc>, DateTime<Utc>);

/// When an order is placed. `due` is the moment of the shopper's rhythm it answers, a
/// duration from their sign-up and so from the end; `placed` is an hour people shop (a UTC
/// hour) on the same day, days being counted back from the end. What is drawn afterwards
/// depends on `due` and on those days, never on `placed`: where the end falls in its UTC day
/// changes the hours' places within the days, and nothing else.
#[derive(Debug, Clone, Copy)]
struct Slot {
    due: DateTime<Utc>,
    placed: DateTime<Utc>,
}

/// An order and the moment of the shopper's rhythm it answers.
pub(super) struct Booked {
    pub due: DateTime<Utc>,
    pub order: Order,
}

fn shopper_history(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    checkout: &CheckoutSettings,
    account: &Account,
    saved: &[&Address],
    history: &mut History,
) {
    let profile = profile(rng, shelf, account, saved, history.ends_at);
    let (slots, pauses) = order_times(rng, &profile);
    // In the order of their rhythm, not of their hours, which the end's time of day moves.
    let booked: Vec<Booked> = slots
        .into_iter()
        .filter_map(|slot| {
            let order = order(rng, shelf, checkout, &profile, slot)?;
            Some(Booked {
                due: slot.due,
                order,
            })
        })
        .collect();
    let events = behaviour::events(rng, shelf, &profile, &booked, &pauses);
    history.shoppers.push(Shopper {
        account_id: account.id,
        signed_up_at: account.created_at,
        usual_gap_days: profile.usual_gap_days,
        lapses_at: profile.lapses_at,
    });
    history.orders.extend(booked.into_iter().map(|b| b.order));
    history.events.extend(events);
}

/// When the shopper orders: a renewal process at their usual gap from soon after sign-up
/// until they lapse or the history ends, with pauses; for a shopper who lapses, the orders in
/// the weeks before the last one are thinned as their engagement falls.
fn order_times(rng: &mut ChaCha8Rng, profile: &Profile<'_>) -> (Vec<Slot>, Vec<Pause>) {
    let mut slots = Vec::new();
    let mut pauses = Vec::new();
    let Some(usual_gap) = profile.usual_gap_days else {
        return (slots, pauses);
    };
    let signed_up_at = profile.account.created_at;
    let ends_at = profile.ends_at;
    let end = profile.lapses_at.unwrap_or(ends_at);
    let mut at = signed_up_at + days(exponential(rng, FIRST_ORDER_MEAN_DAYS));
    while at < end {
        // A day's orders come at shopping hours, never before the account or after the end.
        let placed = within(
            at_shopping_hour(rng, at, ends_at),
            signed_up_at + TimeDelta::minutes(5),
            ends_at - TimeDelta::minutes(10),
        );
        slots.push(Slot { due: at, placed });
        let mut gap = gamma(rng, GAP_SHAPE, usual_gap);
        if rng.random_bool(PAUSE_SHARE) {
            gap *= rng.random_range(PAUSE_FACTOR.0..PAUSE_FACTOR.1);
            pauses.push((at, at + days(gap)));
        }
        at += days(gap);
    }
    if profile.lapses_at.is_some()
        && let Some(last) = slots.last().map(|slot| slot.due)
    {
        let falling_from = last - profile.decline;
        slots.retain(|slot| {
            slot.due == last
                || rng.random_bool(engagement_while_lapsing(slot.due, falling_from, last))
        });
    }
    (slots, pauses)
}

/// The engagement of a lapsing shopper at `at`: full until `falling_from`, then falling
/// linearly to [`ENGAGEMENT_AT_LAPSE`] at their last moment of activity, nothing after.
pub(super) fn engagement_while_lapsing(
    at: DateTime<Utc>,
    falling_from: DateTime<Utc>,
    last: DateTime<Utc>,
) -> f64 {
    if at > last {
        return 0.0;
    }
    if at <= falling_from {
        return 1.0;
    }
    let span = (last - falling_from).num_seconds().max(1) as f64;
    let left = (last - at).num_seconds() as f64 / span;
    (ENGAGEMENT_AT_LAPSE + (1.0 - ENGAGEMENT_AT_LAPSE) * left).clamp(0.0, 1.0)
}

/// One order placed in its slot, or `None` if the shop had nothing to sell yet.
fn order(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    checkout: &CheckoutSettings,
    profile: &Profile<'_>,
    slot: Slot,
) -> Option<Order> {
    let placed_at = slot.placed;
    // What the shop held when the order's day began: it was placed later that day.
    let stocked = day_of(slot.due, profile.ends_at);
    let wanted = weighted(rng, LINE_COUNTS);
    let mut lines: Vec<OrderLine> = Vec::with_capacity(wanted);
    for _ in 0..wanted * 3 {
        if lines.len() == wanted {
            break;
        }
        let product = shelf.pick(rng, &profile.favourites, stocked)?;
        let variant = pick(rng, &product.variants);
        if lines.iter().any(|line| line.variant_id == variant.id) {
            continue;
        }
        lines.push(OrderLine::of(product, variant, weighted(rng, QUANTITIES)));
    }
    let address = if profile.destinations.len() > 1 && rng.random_bool(OTHER_ADDRESS_SHARE) {
        pick(rng, &profile.destinations[1..])
    } else {
        profile.destinations.first()?
    };
    let method = if rng.random_bool(EXPRESS_SHARE) {
        ShippingMethod::Express
    } else {
        ShippingMethod::Standard
    };
    let placed = Placed {
        account_id: profile.account.id,
        address: address.clone(),
        method,
        discount: None,
        at: placed_at,
    };
    placed_order(rng, checkout, lines, placed, profile.ends_at)
}

/// Where, how and when an order was placed.
struct Placed {
    account_id: Uuid,
    address: PostalAddress,
    method: ShippingMethod,
    discount: Option<Discount>,
    at: DateTime<Utc>,
}

/// An order of `lines`, priced as checkout prices it (the shipping and tax of the country it
/// ships to, the discount if any) and taken through its life up to `ends_at`; `None` when
/// the shop does not ship there.
fn placed_order(
    rng: &mut ChaCha8Rng,
    checkout: &CheckoutSettings,
    lines: Vec<OrderLine>,
    placed: Placed,
    ends_at: DateTime<Utc>,
) -> Option<Order> {
    let destination =
        crate::cart_pricing::destination(checkout, &placed.address.country, placed.method).ok()?;
    let items: Vec<CartItem> = lines
        .iter()
        .map(|line| CartItem {
            product_id: line.product_id,
            categories: Vec::new(),
            unit_price_minor: line.unit_price_minor,
            quantity: line.quantity,
        })
        .collect();
    let delivery = Delivery {
        method: placed.method,
        rates: destination.rates,
        free_standard_from_minor: destination.free_standard_from_minor,
    };
    let priced = price_items(&items, &[], placed.discount, Some(delivery)).ok()?;
    let mut lines = lines;
    for (line, charge) in lines.iter_mut().zip(&priced.charges) {
        line.code_discount_minor = charge.code_minor;
        line.tax_minor = charge.tax_minor;
    }
    let totals = priced.totals;
    let id = new_id(rng);
    let mut order = Order {
        id,
        account_id: placed.account_id,
        status: OrderStatus::PendingPayment,
        lines,
        totals,
        shipping_tax_minor: priced.shipping_tax_minor,
        refunded_minor: 0,
        shipping_method: placed.method,
        shipping_address: placed.address,
        cancel_reason: None,
        tracking_number: None,
        placed_at: placed.at,
        paid_at: None,
        fulfilled_at: None,
        shipped_at: None,
        delivered_at: None,
        cancelled_at: None,
        updated_at: placed.at,
        payments: Vec::new(),
    };
    live(rng, &mut order, ends_at);
    Some(order)
}

/// An order placed with a campaign's code, as a shopper answering an offer would: products
/// by popularity until the offer's minimum spend is met, shipped to `address` (where their
/// last order went), priced with the discount and taken through its life up to the shop's
/// end like any other order; `None` when the shop had nothing to sell.
pub(super) fn offer_order(
    rng: &mut ChaCha8Rng,
    shop: &DemoShop,
    shelf: &Shelf<'_>,
    account_id: Uuid,
    address: PostalAddress,
    placed_at: DateTime<Utc>,
    discount: Discount,
) -> Option<Order> {
    let checkout = Settings::defaults().checkout;
    let mut lines: Vec<OrderLine> = Vec::new();
    let goods = |lines: &[OrderLine]| lines.iter().map(OrderLine::line_total_minor).sum::<i64>();
    for _ in 0..20 {
        if !lines.is_empty() && goods(&lines) >= discount.min_subtotal_minor {
            break;
        }
        let product = shelf.pick(rng, &[], placed_at)?;
        let variant = pick(rng, &product.variants);
        if lines.iter().any(|line| line.variant_id == variant.id) {
            continue;
        }
        lines.push(OrderLine::of(product, variant, 1));
    }
    let placed = Placed {
        account_id,
        address,
        method: ShippingMethod::Standard,
        discount: Some(discount),
        at: placed_at,
    };
    placed_order(rng, &checkout, lines, placed, shop.ends_at)
}

/// Takes a placed order through its life up to the end: payment, then fulfilment, shipping
/// and delivery, or a cancellation or refund on the way. Each step's moment and id is drawn
/// whether or not it comes before the end, so that the draws after it do not depend on where
/// the end falls.
fn live(rng: &mut ChaCha8Rng, order: &mut Order, ends_at: DateTime<Utc>) {
    let total = order.totals.total_minor;
    let charged_at = order.placed_at + TimeDelta::seconds(rng.random_range(2..=40));
    let fate = rng.random::<f64>();
    if fate < CANCELLED_SHARE * DECLINED_SHARE_OF_CANCELLED {
        order.status = OrderStatus::Cancelled;
        order.cancel_reason = Some("payment_declined");
        order.cancelled_at = Some(charged_at);
        order.updated_at = charged_at;
        order.payments.push(Payment {
            id: new_id(rng),
            kind: "charge",
            outcome: "declined",
            amount_minor: total,
            provider_reference: None,
            card_brand: Some(CARD_BRAND),
            card_last4: Some(DECLINED_LAST4),
            failure_code: Some("card_declined"),
            created_at: charged_at,
        });
        return;
    }
    let reference = format!("sim_{}", order.id.simple());
    order.status = OrderStatus::Paid;
    order.paid_at = Some(charged_at);
    order.updated_at = charged_at;
    order.payments.push(Payment {
        id: new_id(rng),
        kind: "charge",
        outcome: "succeeded",
        amount_minor: total,
        provider_reference: Some(reference.clone()),
        card_brand: Some(CARD_BRAND),
        card_last4: Some(APPROVED_LAST4),
        failure_code: None,
        created_at: charged_at,
    });
    if fate < CANCELLED_SHARE {
        let cancelled_at = charged_at + TimeDelta::minutes(rng.random_range(10..=12 * 60));
        let refund_id = new_id(rng);
        if cancelled_at < ends_at {
            order.status = OrderStatus::Cancelled;
            order.cancel_reason = Some("customer_request");
            order.cancelled_at = Some(cancelled_at);
            refund(order, refund_id, &reference, cancelled_at);
        }
        return;
    }
    let fulfilled_at = charged_at + TimeDelta::minutes(rng.random_range(2 * 60..=36 * 60));
    let shipped_at = fulfilled_at + TimeDelta::minutes(rng.random_range(60..=24 * 60));
    let delivered_at = shipped_at + TimeDelta::minutes(rng.random_range(24 * 60..=5 * 24 * 60));
    let tracking_number = format!("JJD{:014}", rng.random_range(0..100_000_000_000_000u64));
    let refunded_at = delivered_at + TimeDelta::minutes(rng.random_range(24 * 60..=21 * 24 * 60));
    let refund_id = (fate < CANCELLED_SHARE + REFUNDED_SHARE).then(|| new_id(rng));
    if fulfilled_at >= ends_at {
        return;
    }
    order.status = OrderStatus::Fulfilled;
    order.fulfilled_at = Some(fulfilled_at);
    order.updated_at = fulfilled_at;
    if shipped_at >= ends_at {
        return;
    }
    order.status = OrderStatus::Shipped;
    order.shipped_at = Some(shipped_at);
    order.tracking_number = Some(tracking_number);
    order.updated_at = shipped_at;
    if delivered_at >= ends_at {
        return;
    }
    order.status = OrderStatus::Delivered;
    order.delivered_at = Some(delivered_at);
    order.updated_at = delivered_at;
    if let Some(refund_id) = refund_id
        && refunded_at < ends_at
    {
        refund(order, refund_id, &reference, refunded_at);
    }
}

/// Gives the whole total back: the order becomes `refunded` (or stays `cancelled`).
fn refund(order: &mut Order, id: Uuid, charge_reference: &str, at: DateTime<Utc>) {
    let total = order.totals.total_minor;
    if order.status != OrderStatus::Cancelled {
        order.status = OrderStatus::Refunded;
    }
    order.refunded_minor = total;
    order.updated_at = at;
    order.payments.push(Payment {
        id,
        kind: "refund",
        outcome: "succeeded",
        amount_minor: total,
        // As the simulated provider names its refunds.
        provider_reference: Some(format!("{charge_reference}_refund_{total}")),
        card_brand: Some(CARD_BRAND),
        card_last4: Some(APPROVED_LAST4),
        failure_code: None,
        created_at: at,
    });
}

/// Relative weight of each hour of the day (UTC, the shop's customers being in Europe):
/// quiet at night, busiest in the evening.
const SHOPPING_HOURS: [u32; 24] = [
    6, 3, 2, 1, 1, 2, 5, 10, 16, 20, 22, 24, 26, 24, 22, 22, 25, 30, 36, 42, 45, 40, 28, 14,
];

const DAY_SECONDS: i64 = 86_400;

/// The start of the day that holds `at`, days being counted back from `ends_at`: they are UTC
/// days when the history ends at midnight.
pub(super) fn day_of(at: DateTime<Utc>, ends_at: DateTime<Utc>) -> DateTime<Utc> {
    at - TimeDelta::seconds((at - ends_at).num_seconds().rem_euclid(DAY_SECONDS))
}

/// The same day as `at` (see [`day_of`]), at an hour people shop: a UTC hour, so the shop is
/// busiest in the European evening wherever the end falls in its day.
pub(super) fn at_shopping_hour(
    rng: &mut ChaCha8Rng,
    at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let day = day_of(at, ends_at);
    let total: u32 = SHOPPING_HOURS.iter().sum();
    let mut ticket = rng.random_range(0..total);
    let mut hour = 0;
    for (h, weight) in (0..).zip(SHOPPING_HOURS) {
        if ticket < weight {
            hour = h;
            break;
        }
        ticket -= weight;
    }
    let time_of_day = hour * 3_600 + rng.random_range(0..3_600);
    day + TimeDelta::seconds((time_of_day - day.timestamp()).rem_euclid(DAY_SECONDS))
}

/// `at`, moved into `[earliest, latest]`; `latest` wins if they cross.
pub(super) fn within(
    at: DateTime<Utc>,
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
) -> DateTime<Utc> {
    at.max(earliest).min(latest)
}

/// One of a weighted table of values.
pub(super) fn weighted<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let mut ticket = rng.random_range(0..total.max(1));
    for &(value, weight) in table {
        if ticket < weight {
            return value;
        }
        ticket -= weight;
    }
    table[0].0
}

/// A duration of (fractional) days, to the second.
pub(super) fn days(days: f64) -> TimeDelta {
    TimeDelta::seconds((days * 86_400.0).round() as i64)
}

/// Exponentially distributed with this mean.
pub(super) fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// Gamma-distributed with an integer shape and this mean: a sum of exponentials.
pub(super) fn gamma(rng: &mut ChaCha8Rng, shape: u32, mean: f64) -> f64 {
    let shape = shape.max(1);
    (0..shape)
        .map(|_| exponential(rng, mean / f64::from(shape)))
        .sum()
}

/// Lognormal with this median and spread of its logarithm (Box–Muller normal draw).
pub(super) fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
    let angle = std::f64::consts::TAU * rng.random::<f64>();
    median * (sigma * radius * angle.cos()).exp()
}
