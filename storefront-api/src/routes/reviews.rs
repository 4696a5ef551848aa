//! Product reviews: shoppers read them per product; a customer who received a product may
//! review it once; staff can hide a review. Each write recomputes the product's rating.

use axum::{extract::State, http::StatusCode};
use storefront_client::reviews::{
    Moderation, ReviewDraft, ReviewEnvelope, ReviewList, ReviewMeta, ReviewPageParams,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{
        catalog::views::Rating,
        reviews::{NewReview, display_name},
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage::{accounts, audit, catalog, reviews},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_reviews, write_review))
}

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(moderate_review))
}

async fn product_id(state: &AppState, slug: &str) -> ApiResult<Uuid> {
    catalog::public_product_id(&state.db, slug)
        .await?
        .ok_or(ApiError::NotFound("product"))
}

/// Recomputes a product's rating from its published reviews and shows it in the catalog.
async fn refresh_rating(state: &AppState, product_id: Uuid) -> ApiResult<Rating> {
    let (count, sum) = reviews::rating_totals(&state.mongo, product_id).await?;
    catalog::set_rating(&state.db, product_id, count, sum).await?;
    state.catalog_cache.invalidate().await;
    Ok(Rating::from_totals(count, sum))
}

/// A product's published reviews, newest first.
#[utoipa::path(get, path = "/api/v1/products/{slug}/reviews", tag = "catalog", params(("slug" = String, Path, description = "Product slug"), ReviewPageParams),
    responses((status = 200, body = ReviewList), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(params): Query<ReviewPageParams>,
) -> ApiResult<Json<ReviewList>> {
    let page = Page::parse(params.page, params.limit)?;
    let product_id = product_id(&state, &slug).await?;
    // Page::parse bounds the page to 1..=1000, so the offset is never negative.
    let skip = u64::try_from(page.offset()).unwrap_or(0);
    let (reviews, total) = reviews::for_product(&state.mongo, product_id, skip, page.limit).await?;
    Ok(Json(ReviewList {
        reviews,
        meta: ReviewMeta {
            total,
            page: page.number,
            limit: page.limit,
        },
    }))
}

/// Reviews a product the caller has received; once per product.
#[utoipa::path(post, path = "/api/v1/products/{slug}/reviews", tag = "catalog", request_body = ReviewDraft,
    params(("slug" = String, Path, description = "Product slug")),
    responses((status = 201, body = ReviewEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, description = "Not received yet, or already reviewed", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn write_review(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(slug): Path<String>,
    Json(draft): Json<ReviewDraft>,
) -> ApiResult<(StatusCode, Json<ReviewEnvelope>)> {
    let review =
        NewReview::parse(draft.rating, &draft.title, &draft.body).map_err(ApiError::Validation)?;
    let product_id = product_id(&state, &slug).await?;
    if !catalog::customer_received(&state.db, session.account_id, product_id).await? {
        return Err(ApiError::conflict(
            "not_received",
            "You can review a product once it has been delivered to you.",
        ));
    }
    let account = accounts::account(&state.db, session.account_id).await?;
    let stored = reviews::insert(
        &state.mongo,
        product_id,
        session.account_id,
        &display_name(&account.full_name),
        &review,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            "already_reviewed",
            "You have already reviewed this product.",
        )
    })?;
    refresh_rating(&state, product_id).await?;
    Ok((StatusCode::CREATED, Json(ReviewEnvelope { review: stored })))
}

/// Hides or restores a review.
#[utoipa::path(patch, path = "/api/v1/admin/reviews/{id}", tag = "admin", request_body = Moderation,
    params(("id" = String, Path, description = "Review id")),
    responses((status = 200, body = ReviewEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn moderate_review(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<String>,
    Json(moderation): Json<Moderation>,
) -> ApiResult<Json<ReviewEnvelope>> {
    let review = reviews::set_status(&state.mongo, &id, moderation.status)
        .await?
        .ok_or(ApiError::NotFound("review"))?;
    if let Ok(product_id) = review.product_id.parse::<Uuid>() {
        refresh_rating(&state, product_id).await?;
    }
    // The review lives in MongoDB: its audit row is written once the change is made there.
    audit::record_alone(
        &state.db,
        session.account_id,
        "review.moderate",
        audit::Entity::Review,
        review.product_id.parse().unwrap_or_default(),
        serde_json::json!({ "review_id": id }),
        serde_json::json!({ "review_id": id, "status": moderation.status }),
    )
    .await?;
    Ok(Json(ReviewEnvelope { review }))
}
