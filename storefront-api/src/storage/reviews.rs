//! Reviews in MongoDB, collection `reviews`: one per (product, customer), enforced by a unique
//! index; listed per product newest first.

use futures::TryStreamExt;
use mongodb::{
    IndexModel,
    bson::{self, Document, doc, oid::ObjectId},
    error::{ErrorKind, WriteFailure},
    options::{FindOptions, IndexOptions},
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::reviews::{NewReview, Review, ReviewStatus};

pub const COLLECTION: &str = "reviews";

fn collection(db: &mongodb::Database) -> mongodb::Collection<Document> {
    db.collection(COLLECTION)
}

pub async fn ensure_indexes(db: &mongodb::Database) -> mongodb::error::Result<()> {
    collection(db)
        .create_indexes([
            IndexModel::builder()
                .keys(doc! { "product_id": 1, "customer_id": 1 })
                .options(
                    IndexOptions::builder()
                        .name("one_per_customer".to_owned())
                        .unique(true)
                        .build(),
                )
                .build(),
            IndexModel::builder()
                .keys(doc! { "product_id": 1, "status": 1, "created_at": -1 })
                .options(
                    IndexOptions::builder()
                        .name("product_listing".to_owned())
                        .build(),
                )
                .build(),
        ])
        .await
        .map(drop)
}

fn status_str(status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::Published => "published",
        ReviewStatus::Hidden => "hidden",
    }
}

fn from_document(document: &Document) -> Option<Review> {
    Some(Review {
        id: document.get_object_id("_id").ok()?.to_hex(),
        product_id: document.get_str("product_id").ok()?.to_owned(),
        reviewer: document.get_str("reviewer").ok()?.to_owned(),
        rating: document.get_i32("rating").ok()?,
        title: document.get_str("title").ok()?.to_owned(),
        body: document.get_str("body").ok()?.to_owned(),
        status: if document.get_str("status").ok()? == "hidden" {
            ReviewStatus::Hidden
        } else {
            ReviewStatus::Published
        },
        created_at: chrono::DateTime::from_timestamp_millis(
            document.get_datetime("created_at").ok()?.timestamp_millis(),
        )?,
    })
}

/// Stores a review; `Ok(None)` when this customer already reviewed the product.
pub async fn insert(
    db: &mongodb::Database,
    product_id: Uuid,
    customer_id: Uuid,
    reviewer: &str,
    review: &NewReview,
) -> Result<Option<Review>, StoreError> {
    let existing = collection(db)
        .find_one(
            doc! { "product_id": product_id.to_string(), "customer_id": customer_id.to_string() },
        )
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    // The unique index settles two concurrent first reviews.
    let document = doc! {
        "product_id": product_id.to_string(),
        "customer_id": customer_id.to_string(),
        "reviewer": reviewer,
        "rating": review.rating,
        "title": &review.title,
        "body": &review.body,
        "status": "published",
        "created_at": bson::DateTime::now(),
    };
    match collection(db).insert_one(document.clone()).await {
        Ok(inserted) => {
            let mut stored = document;
            stored.insert("_id", inserted.inserted_id);
            Ok(from_document(&stored))
        }
        Err(error) => match *error.kind {
            ErrorKind::Write(WriteFailure::WriteError(ref write)) if write.code == 11000 => {
                Ok(None)
            }
            _ => Err(error.into()),
        },
    }
}

/// A page of a product's reviews (published only unless `include_hidden`), and the total.
pub async fn for_product(
    db: &mongodb::Database,
    product_id: Uuid,
    skip: u64,
    limit: i64,
) -> Result<(Vec<Review>, u64), StoreError> {
    let filter = doc! { "product_id": product_id.to_string(), "status": "published" };
    let total = collection(db).count_documents(filter.clone()).await?;
    let options = FindOptions::builder()
        .sort(doc! { "created_at": -1, "_id": -1 })
        .skip(skip)
        .limit(limit)
        .build();
    let documents: Vec<Document> = collection(db)
        .find(filter)
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok((documents.iter().filter_map(from_document).collect(), total))
}

/// Count and sum of the published ratings of a product.
pub async fn rating_totals(
    db: &mongodb::Database,
    product_id: Uuid,
) -> Result<(i32, i64), StoreError> {
    let pipeline = [
        doc! { "$match": { "product_id": product_id.to_string(), "status": "published" } },
        doc! { "$group": { "_id": null, "count": { "$sum": 1 }, "sum": { "$sum": "$rating" } } },
    ];
    let rows: Vec<Document> = collection(db)
        .aggregate(pipeline)
        .await?
        .try_collect()
        .await?;
    let number = |row: &Document, key: &str| {
        row.get_i32(key)
            .map(i64::from)
            .or_else(|_| row.get_i64(key))
            .unwrap_or(0)
    };
    Ok(rows.first().map_or((0, 0), |row| {
        (
            i32::try_from(number(row, "count")).unwrap_or(i32::MAX),
            number(row, "sum"),
        )
    }))
}

/// Hides or shows a review; returns it, or `None` for an unknown id.
pub async fn set_status(
    db: &mongodb::Database,
    id: &str,
    status: ReviewStatus,
) -> Result<Option<Review>, StoreError> {
    let Ok(oid) = ObjectId::parse_str(id) else {
        return Ok(None);
    };
    collection(db)
        .update_one(
            doc! { "_id": oid },
            doc! { "$set": { "status": status_str(status) } },
        )
        .await?;
    let document = collection(db).find_one(doc! { "_id": oid }).await?;
    Ok(document.as_ref().and_then(from_document))
}

/// Every review a customer wrote, hidden ones included, oldest first (their data export).
pub async fn by_customer(
    db: &mongodb::Database,
    customer_id: Uuid,
) -> Result<Vec<Review>, StoreError> {
    let documents: Vec<Document> = collection(db)
        .find(doc! { "customer_id": customer_id.to_string() })
        .sort(doc! { "created_at": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(documents.iter().filter_map(from_document).collect())
}

/// Detaches a customer's reviews from them when their account is erased: rating and words
/// stay with the products (so ratings do not move), signed "Former customer", and the
/// customer id is replaced by one random id — one review per product and id still holds.
pub async fn detach_customer(db: &mongodb::Database, customer_id: Uuid) -> Result<u64, StoreError> {
    let result = collection(db)
        .update_many(
            doc! { "customer_id": customer_id.to_string() },
            doc! { "$set": {
                "customer_id": format!("erased-{}", Uuid::new_v4()),
                "reviewer": "Former customer",
            } },
        )
        .await?;
    Ok(result.modified_count)
}
