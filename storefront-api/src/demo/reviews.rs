//! The demo history's reviews: about one delivered line in eight is reviewed by its buyer a
//! few days after delivery (once per customer and product, as the API allows), mostly
//! favourably, less so when the order was sent back. The products' rating counts and sums go
//! into PostgreSQL with the shop (listings read them there); the reviews themselves into
//! MongoDB with the events, marked `demo: true` so a later load can tell them apart.
//!
//! Each review is drawn from a generator seeded by its order's id and line, not from the
//! history's: adding reviews moved no order, event or churn label.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use mongodb::bson::{self, Document, doc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::{Account, Order};
use crate::domain::{order::OrderStatus, reviews::display_name};
use crate::storage::reviews as review_store;

/// Share of delivered lines whose buyer reviews the product.
const REVIEWED_SHARE: f64 = 0.12;
/// The field that marks a demo review.
const DEMO_MARK: &str = "demo";
/// Reviews per `insert_many`.
const REVIEWS_PER_BATCH: usize = 5_000;

/// What buyers say, by rating (1 to 5): a title and a sentence each.
const WORDS: [&[(&str, &str)]; 5] = [
    &[
        ("Disappointed", "It did not last a month; I sent it back."),
        (
            "Not as pictured",
            "The photos flatter it a lot. Would not buy again.",
        ),
        (
            "Poor quality",
            "Loose stitching and a smell that never went away.",
        ),
    ],
    &[
        ("Expected more", "It works, but feels cheap for the price."),
        (
            "Runs small",
            "Order a size up; the fit is tight everywhere.",
        ),
        ("Meh", "Does the job, barely. The finish scratches easily."),
    ],
    &[
        (
            "Fine for the price",
            "Nothing special, nothing wrong. It does what it says.",
        ),
        (
            "Okay",
            "Decent, though the colour is duller than on screen.",
        ),
        (
            "Average",
            "Good enough for everyday use; I expected a little more.",
        ),
    ],
    &[
        (
            "Very good",
            "Well made and arrived quickly. Slightly smaller than I thought.",
        ),
        (
            "Happy with it",
            "Good materials and a nice finish; I use it every day.",
        ),
        (
            "Solid choice",
            "Does exactly what I needed. Would buy again.",
        ),
    ],
    &[
        ("Love it", "Beautifully made and even better in person."),
        (
            "Excellent",
            "Top quality, fast delivery, and it still looks new after months.",
        ),
        (
            "Perfect",
            "Exactly as described. I bought a second one as a gift.",
        ),
        (
            "Great value",
            "Better than pricier ones I have owned. Highly recommended.",
        ),
    ],
];

/// A review of the demo history.
pub(super) struct DemoReview {
    product_id: Uuid,
    customer_id: Uuid,
    reviewer: String,
    rating: i32,
    title: &'static str,
    body: &'static str,
    created_at: DateTime<Utc>,
}

/// The history's reviews: for each delivered (or delivered then refunded) order line, maybe
/// one by its buyer, the first per customer and product.
pub(super) fn reviews_of(
    orders: &[Order],
    accounts: &[Account],
    ends_at: DateTime<Utc>,
) -> Vec<DemoReview> {
    let names: BTreeMap<Uuid, &str> = accounts
        .iter()
        .map(|account| (account.id, account.full_name.as_str()))
        .collect();
    let mut reviewed = HashSet::new();
    let mut reviews = Vec::new();
    for order in orders {
        let Some(delivered_at) = order.delivered_at else {
            continue;
        };
        let sent_back = order.status == OrderStatus::Refunded;
        for (n, line) in (0u64..).zip(&order.lines) {
            let mut rng =
                ChaCha8Rng::seed_from_u64(order.id.as_u64_pair().1 ^ n ^ 0x7265_7669_6577);
            if !rng.random_bool(REVIEWED_SHARE)
                || !reviewed.insert((line.product_id, order.account_id))
            {
                continue;
            }
            let created_at =
                delivered_at + TimeDelta::minutes(rng.random_range(6 * 60..=14 * 24 * 60));
            if created_at >= ends_at {
                continue;
            }
            let rating = rating(&mut rng, sent_back);
            let (title, body) = WORDS[(rating - 1) as usize]
                [rng.random_range(0..WORDS[(rating - 1) as usize].len())];
            reviews.push(DemoReview {
                product_id: line.product_id,
                customer_id: order.account_id,
                reviewer: display_name(names.get(&order.account_id).copied().unwrap_or("")),
                rating,
                title,
                body,
                created_at,
            });
        }
    }
    reviews
}

/// Mostly favourable, as shop reviews are; lower for an order that came back.
fn rating(rng: &mut ChaCha8Rng, sent_back: bool) -> i32 {
    let draw = rng.random::<f64>();
    let weights: [f64; 5] = if sent_back {
        [0.35, 0.3, 0.2, 0.1, 0.05]
    } else {
        [0.04, 0.06, 0.12, 0.3, 0.48]
    };
    let mut at = 0.0;
    for (stars, weight) in (1..).zip(weights) {
        at += weight;
        if draw < at {
            return stars;
        }
    }
    5
}

/// Each reviewed product's (count, sum of ratings), as the catalog keeps them.
pub(super) fn ratings(reviews: &[DemoReview]) -> BTreeMap<Uuid, (i32, i64)> {
    let mut ratings = BTreeMap::new();
    for review in reviews {
        let (count, sum) = ratings.entry(review.product_id).or_insert((0, 0));
        *count += 1;
        *sum += i64::from(review.rating);
    }
    ratings
}

/// Replaces the demo reviews in MongoDB with these (a load into another PostgreSQL database
/// may have left others), then makes sure the collection's indexes exist.
pub(super) async fn write(
    mongo: &mongodb::Database,
    reviews: &[DemoReview],
) -> anyhow::Result<usize> {
    let collection = mongo.collection::<Document>(review_store::COLLECTION);
    collection
        .delete_many(doc! { DEMO_MARK: true })
        .await
        .context("removing earlier demo reviews failed")?;
    for batch in reviews.chunks(REVIEWS_PER_BATCH) {
        let documents: Vec<Document> = batch
            .iter()
            .map(|review| {
                doc! {
                    "product_id": review.product_id.to_string(),
                    "customer_id": review.customer_id.to_string(),
                    "reviewer": &review.reviewer,
                    "rating": review.rating,
                    "title": review.title,
                    "body": review.body,
                    "status": "published",
                    "created_at": bson::DateTime::from_millis(review.created_at.timestamp_millis()),
                    DEMO_MARK: true,
                }
            })
            .collect();
        collection
            .insert_many(documents)
            .await
            .context("inserting demo reviews failed")?;
    }
    review_store::ensure_indexes(mongo)
        .await
        .context("creating the review indexes failed")?;
    Ok(reviews.len())
}
