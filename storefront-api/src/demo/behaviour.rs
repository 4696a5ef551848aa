//! A shopper's behaviour events: a first visit when they sign up, a session before each
//! order (views of what they buy, the adds to cart, the checkout), and browsing sessions in
//! between (views, searches, carts now and then abandoned), typed as `domain::events` types
//! them.
//!
//! Browsing comes at a rate of its own for each shopper and follows their engagement: full
//! while active, lower during a pause, falling steadily in the weeks before they lapse and
//! gone after their last order, apart from the odd stray visit. Most sessions are logged in
//! (`customer_id` set); some are not, and carry only the shopper's `anonymous_id`.
//!
//! As for orders (`history::Slot`), every draw is made wherever the end falls, and weighed
//! by engagement measured on the shopper's rhythm and by what the shop held on days counted
//! back from the end, never by the hour a session got: so another end moves the events with
//! the orders, the same ones, the same number of them.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    Product,
    history::{
        Booked, Order, Pause, Profile, Shelf, at_shopping_hour, day_of, days,
        engagement_while_lapsing, exponential,
    },
    pick,
};
use crate::domain::events::{BehaviourEvent, EventKind};

/// Engagement a shopper keeps during a pause.
const ENGAGEMENT_IN_PAUSE: f64 = 0.35;
/// Share of browsing sessions while logged in.
const LOGGED_IN_SHARE: f64 = 0.85;
/// In a browsing session: chance of a search, most extra product views, chance of an add to
/// cart (scaled by engagement), then of taking it out again or of starting a checkout that
/// is never finished.
const SEARCH_SHARE: f64 = 0.35;
const MOST_EXTRA_VIEWS: u32 = 3;
const ADD_TO_CART_SHARE: f64 = 0.2;
const REMOVE_SHARE: f64 = 0.35;
const ABANDONED_CHECKOUT_SHARE: f64 = 0.15;
/// Share of bought lines whose product page was viewed before the add to cart.
const VIEW_BEFORE_ADD_SHARE: f64 = 0.5;
/// Share of lapsed shoppers who drop by again without buying, and how often at most.
const STRAY_SHARE: f64 = 0.3;
const MOST_STRAY_VISITS: u32 = 3;
/// Seconds between two clicks.
const CLICK_SECONDS: (i64, i64) = (15, 150);

/// How engaged a shopper is over time.
struct Engagement<'a> {
    /// When engagement starts to fall, for a shopper who lapses.
    falling_from: Option<DateTime<Utc>>,
    /// Their last moment of activity: the moment of their rhythm the last order of a lapsing
    /// buyer answers, the lapse of a lapsing browser, the end for everyone else.
    active_until: DateTime<Utc>,
    pauses: &'a [Pause],
}

impl Engagement<'_> {
    /// 1 when fully engaged, down to 0 after the end.
    fn at(&self, at: DateTime<Utc>) -> f64 {
        if at > self.active_until {
            return 0.0;
        }
        let mut level = match self.falling_from {
            Some(from) => engagement_while_lapsing(at, from, self.active_until),
            None => 1.0,
        };
        if self
            .pauses
            .iter()
            .any(|(start, end)| (*start..*end).contains(&at))
        {
            level *= ENGAGEMENT_IN_PAUSE;
        }
        level.clamp(0.0, 1.0)
    }
}

/// Events of one session, stamped in click order.
struct Session<'a> {
    customer_id: Option<Uuid>,
    anonymous_id: &'a str,
    at: DateTime<Utc>,
    events: Vec<BehaviourEvent>,
}

impl<'a> Session<'a> {
    fn start(customer_id: Option<Uuid>, anonymous_id: &'a str, at: DateTime<Utc>) -> Self {
        let mut session = Self {
            customer_id,
            anonymous_id,
            at,
            events: Vec::new(),
        };
        session.record(EventKind::SessionStart, Map::new());
        session
    }

    fn record(&mut self, kind: EventKind, properties: Map<String, Value>) {
        self.events.push(BehaviourEvent {
            kind,
            customer_id: self.customer_id,
            anonymous_id: self.anonymous_id.to_owned(),
            occurred_at: self.at,
            properties,
        });
    }

    /// The next click, a little later.
    fn click(&mut self, rng: &mut ChaCha8Rng, kind: EventKind, properties: Map<String, Value>) {
        self.at += TimeDelta::seconds(rng.random_range(CLICK_SECONDS.0..=CLICK_SECONDS.1));
        self.record(kind, properties);
    }

    fn view(&mut self, rng: &mut ChaCha8Rng, product: &Product) {
        self.click(
            rng,
            EventKind::ProductView,
            properties(json!({ "product_id": product.id.to_string() })),
        );
    }

    fn search(&mut self, rng: &mut ChaCha8Rng, product_name: &str) {
        let query = search_words(rng, product_name);
        self.click(
            rng,
            EventKind::Search,
            properties(json!({ "query": query })),
        );
    }

    fn cart(&mut self, rng: &mut ChaCha8Rng, kind: EventKind, variant_id: Uuid, quantity: i32) {
        self.click(
            rng,
            kind,
            properties(json!({ "variant_id": variant_id.to_string(), "quantity": quantity })),
        );
    }
}

fn properties(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What someone types to find a product like this one: its kind ("sweater"), the last two
/// words ("crew sweater"), its whole name, or its first word.
fn search_words(rng: &mut ChaCha8Rng, product_name: &str) -> String {
    let words: Vec<&str> = product_name.split(' ').collect();
    let chosen = match rng.random_range(0..10) {
        0..4 => words[words.len() - 1..].join(" "),
        4..7 => words[words.len().saturating_sub(2)..].join(" "),
        7..9 => product_name.to_owned(),
        _ => words[..1].join(" "),
    };
    chosen.to_lowercase()
}

/// All of a shopper's events, in time order; none at or after the end. `orders` come in the
/// order of the shopper's rhythm.
pub(super) fn events(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    profile: &Profile<'_>,
    orders: &[Booked],
    pauses: &[Pause],
) -> Vec<BehaviourEvent> {
    let ends_at = profile.ends_at;
    let signed_up_at = profile.account.created_at;
    let customer_id = profile.account.id;
    let anonymous_id = profile.anonymous_id.as_str();
    let active_until = match (profile.lapses_at, orders.last()) {
        (Some(_), Some(last)) => last.due,
        (Some(lapse), None) => lapse,
        (None, _) => ends_at,
    };
    // A lapsing buyer browses no more once their last order is placed.
    let browsing_until = match orders.iter().map(|b| b.order.placed_at).max() {
        Some(last_placed) if profile.lapses_at.is_some() => last_placed,
        _ => active_until,
    };
    let engagement = Engagement {
        falling_from: profile.lapses_at.map(|_| active_until - profile.decline),
        active_until,
        pauses,
    };
    let mut sessions: Vec<Session<'_>> = Vec::new();

    // The visit in which they signed up.
    let mut first = Session::start(Some(customer_id), anonymous_id, signed_up_at);
    for _ in 0..rng.random_range(1..=2) {
        if let Some(product) = shelf.pick(rng, &profile.favourites, signed_up_at) {
            first.view(rng, product);
        }
    }
    sessions.push(first);

    for booked in orders {
        sessions.push(order_session(
            rng,
            shelf,
            profile,
            &booked.order,
            engagement.at(booked.due),
            day_of(booked.due, ends_at) - TimeDelta::days(1),
        ));
    }

    // Browsing: a Poisson process at the shopper's rate, thinned by their engagement.
    let mean_days_between = 1.0 / profile.browsing_per_day.max(1e-6);
    let mut at = signed_up_at + days(exponential(rng, mean_days_between));
    while at < active_until {
        let level = engagement.at(at);
        if rng.random_bool(level) {
            // The sign-up bound wins, so that no session starts before the account: whether
            // its events were dropped would then depend on the hour.
            let start = at_shopping_hour(rng, at, ends_at)
                .min(browsing_until - TimeDelta::minutes(30))
                .max(signed_up_at + TimeDelta::minutes(1));
            let stocked = day_of(at, ends_at) - TimeDelta::days(1);
            sessions.push(browsing_session(rng, shelf, profile, start, stocked, level));
        }
        at += days(exponential(rng, mean_days_between));
    }

    // Some who left look in again, without buying.
    if profile.lapses_at.is_some() && rng.random_bool(STRAY_SHARE) {
        let after = active_until + TimeDelta::days(1);
        let span = (ends_at - after).num_seconds();
        for _ in 0..rng.random_range(1..=MOST_STRAY_VISITS) {
            if span > 3_600 {
                let start = after + TimeDelta::seconds(rng.random_range(0..span));
                let stocked = day_of(start, ends_at) - TimeDelta::days(1);
                sessions.push(browsing_session(rng, shelf, profile, start, stocked, 0.5));
            }
        }
    }

    let mut events: Vec<BehaviourEvent> = sessions.into_iter().flat_map(|s| s.events).collect();
    events.retain(|e| e.occurred_at < ends_at && e.occurred_at >= signed_up_at);
    events.sort_by_key(|e| e.occurred_at);
    events
}

/// Looking around: a search perhaps, a few product views (fewer when engagement is low), and
/// now and then something put in the cart and taken out again or left at checkout. Products
/// come from the shelf as it stood at `stocked`, the start of the day before the session's
/// (`day_of`): every session starts after it, even one moved back before the shopper's last
/// order, so nothing is seen before it existed.
fn browsing_session<'a>(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    profile: &'a Profile<'_>,
    start: DateTime<Utc>,
    stocked: DateTime<Utc>,
    engagement: f64,
) -> Session<'a> {
    let customer_id = rng
        .random_bool(LOGGED_IN_SHARE)
        .then_some(profile.account.id);
    let mut session = Session::start(customer_id, &profile.anonymous_id, start);
    let first = shelf.pick(rng, &profile.favourites, stocked);
    if let Some(product) = first
        && rng.random_bool(SEARCH_SHARE)
    {
        session.search(rng, &product.name);
    }
    let extra_views = (f64::from(rng.random_range(0..=MOST_EXTRA_VIEWS)) * engagement).round();
    let mut viewed = first;
    if let Some(product) = first {
        session.view(rng, product);
    }
    for _ in 0..extra_views as u32 {
        if let Some(product) = shelf.pick(rng, &profile.favourites, stocked) {
            session.view(rng, product);
            viewed = Some(product);
        }
    }
    if let Some(product) = viewed
        && rng.random_bool((ADD_TO_CART_SHARE * engagement).clamp(0.0, 1.0))
    {
        let variant = pick(rng, &product.variants);
        session.cart(rng, EventKind::AddToCart, variant.id, 1);
        if rng.random_bool(REMOVE_SHARE) {
            session.cart(rng, EventKind::RemoveFromCart, variant.id, 1);
        } else if rng.random_bool(ABANDONED_CHECKOUT_SHARE) {
            session.click(rng, EventKind::CheckoutStarted, Map::new());
        }
    }
    session
}

/// The session that ends in an order: the products bought viewed and put in the cart, maybe
/// a detour, then the checkout a minute or two before the order is placed. Detours show what
/// the shop held at `stocked` (see [`browsing_session`]).
fn order_session<'a>(
    rng: &mut ChaCha8Rng,
    shelf: &Shelf<'_>,
    profile: &'a Profile<'_>,
    order: &Order,
    engagement: f64,
    stocked: DateTime<Utc>,
) -> Session<'a> {
    let minutes_before = rng.random_range(3..=20);
    let start =
        (order.placed_at - TimeDelta::minutes(minutes_before)).max(profile.account.created_at);
    let mut session = Session::start(Some(profile.account.id), &profile.anonymous_id, start);
    if let Some(wanted) = order.lines.first()
        && rng.random_bool(SEARCH_SHARE)
    {
        // Mostly for what they came for, sometimes for something else.
        let other = shelf.pick(rng, &profile.favourites, stocked);
        match other {
            Some(product) if rng.random_bool(0.4) => session.search(rng, &product.name),
            _ => session.search(rng, &wanted.product_name),
        }
    }
    let detours = (f64::from(rng.random_range(0..=1)) * engagement).round() as u32;
    for _ in 0..detours {
        if let Some(product) = shelf.pick(rng, &profile.favourites, stocked) {
            session.view(rng, product);
        }
    }
    for line in &order.lines {
        // Half the time straight from a list or a search result into the cart.
        if rng.random_bool(VIEW_BEFORE_ADD_SHARE) {
            session.click(
                rng,
                EventKind::ProductView,
                properties(json!({ "product_id": line.product_id.to_string() })),
            );
        }
        session.cart(rng, EventKind::AddToCart, line.variant_id, line.quantity);
    }
    if rng.random_bool(0.08)
        && let Some(product) = shelf.pick(rng, &profile.favourites, stocked)
    {
        let variant = pick(rng, &product.variants);
        session.cart(rng, EventKind::AddToCart, variant.id, 1);
        session.cart(rng, EventKind::RemoveFromCart, variant.id, 1);
    }
    // The clicks run at their own pace; the checkout itself is just before the order.
    let checkout_at = order.placed_at - TimeDelta::seconds(rng.random_range(30..=150));
    session.at = checkout_at.max(session.at);
    session.record(EventKind::CheckoutStarted, Map::new());
    // Clicks that ran past the order (a long session squeezed in) are compressed into it.
    squeeze(&mut session.events, start, order.placed_at);
    session
}

/// Keeps a session's events strictly before `end`, spacing them evenly from `start` if they
/// ran over, in the same order.
fn squeeze(events: &mut [BehaviourEvent], start: DateTime<Utc>, end: DateTime<Utc>) {
    let Some(last) = events.last() else {
        return;
    };
    if last.occurred_at < end {
        return;
    }
    let span = (end - start).num_seconds().max(1);
    let steps = i64::try_from(events.len()).unwrap_or(i64::MAX).max(1);
    for (index, event) in (0..).zip(events.iter_mut()) {
        event.occurred_at = start + TimeDelta::seconds(span * index / steps);
    }
}
