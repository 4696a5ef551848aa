//! Staff catalog management: products, variants, stock adjustments, categories.
//! Every write invalidates the public catalog cache after it commits.

use axum::{extract::State, http::StatusCode};
use storefront_client::catalog::ProductEnvelope;
use storefront_client::lists::CountMeta;
use storefront_client::staff::catalog::{
    CategoryDraft, CategoryEnvelope, CategoryPatch, MovementEnvelope, MovementList, PriceDraft,
    ProductDraft, ProductPatch, StaffListParams, StaffProductList, StockAdjustment, VariantDraft,
    VariantPatch,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::catalog::{
        edits::{
            CategoryChanges, NewCategory, NewProduct, NewVariant, PriceChange, ProductChanges,
            StockChange, VariantChanges,
        },
        views::Product,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage::catalog::{self as store, Audience, ProductKey, prices},
    storage::{paged, stock},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(product, update_product))
        .routes(routes!(archive_product))
        .routes(routes!(create_variant))
        .routes(routes!(update_variant))
        .routes(routes!(set_variant_price, remove_variant_price))
        .routes(routes!(adjust_stock, stock_movements))
        .routes(routes!(create_category))
        .routes(routes!(update_category))
}

async fn invalidate(state: &AppState) -> ApiResult<()> {
    state.catalog_cache.invalidate().await;
    Ok(())
}

async fn staff_product(state: &AppState, id: Uuid) -> ApiResult<Product> {
    store::product(&state.db, ProductKey::Id(id), Audience::Staff)
        .await?
        .ok_or(ApiError::NotFound("product"))
}

/// All products, drafts and archived included.
#[utoipa::path(get, path = "/api/v1/admin/products", tag = "admin", params(StaffListParams),
    responses((status = 200, body = StaffProductList)), security(("bearer" = ["catalog"])))]
pub async fn list_products(
    State(state): State<AppState>,
    Query(params): Query<StaffListParams>,
) -> ApiResult<Json<StaffProductList>> {
    let page = Page::parse(params.page, params.limit)?;
    let text = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (products, total) = paged(page.limit, page.offset(), |limit, offset| {
        store::staff_products(&state.db, params.status, text, limit, offset)
    })
    .await?;
    Ok(Json(StaffProductList {
        products,
        meta: page.meta(total),
    }))
}

/// Creates a product as a draft; add variants, then activate it.
#[utoipa::path(post, path = "/api/v1/admin/products", tag = "admin", request_body = ProductDraft,
    responses((status = 201, body = ProductEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn create_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<ProductDraft>,
) -> ApiResult<(StatusCode, Json<ProductEnvelope>)> {
    let new = NewProduct::parse(draft).map_err(ApiError::Validation)?;
    let id = store::create_product(&state.db, &new, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok((StatusCode::CREATED, Json(ProductEnvelope { product })))
}

/// One product with all its variants, whatever their status.
#[utoipa::path(get, path = "/api/v1/admin/products/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn product(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ProductEnvelope>> {
    let product = staff_product(&state, id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Changes a product; absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/admin/products/{id}", tag = "admin", request_body = ProductPatch,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn update_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<ProductPatch>,
) -> ApiResult<Json<ProductEnvelope>> {
    let changes = ProductChanges::parse(patch).map_err(ApiError::Validation)?;
    store::update_product(&state.db, id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Archives a product: shoppers no longer see it; orders keep referring to it.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/archive", tag = "admin",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn archive_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ProductEnvelope>> {
    store::update_product(
        &state.db,
        id,
        &ProductChanges::archive(),
        session.account_id,
    )
    .await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Adds a variant to a product; its initial stock is recorded in the stock ledger.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/variants", tag = "admin", request_body = VariantDraft,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 201, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn create_variant(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(product_id): Path<Uuid>,
    Json(draft): Json<VariantDraft>,
) -> ApiResult<(StatusCode, Json<ProductEnvelope>)> {
    let new = NewVariant::parse(draft).map_err(ApiError::Validation)?;
    store::create_variant(&state.db, product_id, &new, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, product_id).await?;
    Ok((StatusCode::CREATED, Json(ProductEnvelope { product })))
}

/// Changes a variant: price, compare-at price, SKU, title, options, status. Stock changes go
/// through stock adjustments so that the ledger stays whole.
#[utoipa::path(patch, path = "/api/v1/admin/variants/{id}", tag = "admin", request_body = VariantPatch,
    params(("id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn update_variant(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(variant_id): Path<Uuid>,
    Json(patch): Json<VariantPatch>,
) -> ApiResult<Json<ProductEnvelope>> {
    let changes = VariantChanges::parse(patch).map_err(ApiError::Validation)?;
    let product_id =
        store::update_variant(&state.db, variant_id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, product_id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Sets a variant's price in one currency: its product's own (the variant's price, as
/// `price_minor` in a patch) or another market's, where the variant is then for sale. The
/// compare-at price is replaced too (absent: none).
#[utoipa::path(put, path = "/api/v1/admin/variants/{id}/prices/{currency}", tag = "admin", request_body = PriceDraft,
    params(("id" = Uuid, Path, description = "Variant id"),
           ("currency" = String, Path, description = "ISO 4217 code, e.g. `GBP`")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn set_variant_price(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path((variant_id, currency)): Path<(Uuid, String)>,
    Json(draft): Json<PriceDraft>,
) -> ApiResult<Json<ProductEnvelope>> {
    let change = PriceChange::set(&currency, &draft).map_err(ApiError::Validation)?;
    change_price(&state, variant_id, change, session.account_id).await
}

/// Stops selling a variant in a market's currency. Its product's own currency's price
/// cannot be removed (409 `own_currency_price`: archive the variant instead); removing a
/// price the variant does not have changes nothing.
#[utoipa::path(delete, path = "/api/v1/admin/variants/{id}/prices/{currency}", tag = "admin",
    params(("id" = Uuid, Path, description = "Variant id"),
           ("currency" = String, Path, description = "ISO 4217 code, e.g. `GBP`")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn remove_variant_price(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path((variant_id, currency)): Path<(Uuid, String)>,
) -> ApiResult<Json<ProductEnvelope>> {
    let change = PriceChange::remove(&currency).map_err(ApiError::Validation)?;
    change_price(&state, variant_id, change, session.account_id).await
}

async fn change_price(
    state: &AppState,
    variant_id: Uuid,
    change: PriceChange,
    actor_id: Uuid,
) -> ApiResult<Json<ProductEnvelope>> {
    let product_id = prices::change(&state.db, variant_id, change, actor_id).await?;
    invalidate(state).await?;
    let product = staff_product(state, product_id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Adjusts stock on hand with a reason; the change is a row in the stock ledger. Stock never
/// goes below zero (409).
#[utoipa::path(post, path = "/api/v1/admin/variants/{id}/stock-adjustments", tag = "admin",
    request_body = StockAdjustment,
    params(("id" = Uuid, Path, description = "Variant id")),
    responses((status = 201, body = MovementEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(variant_id): Path<Uuid>,
    Json(adjustment): Json<StockAdjustment>,
) -> ApiResult<(StatusCode, Json<MovementEnvelope>)> {
    let change = StockChange::parse(adjustment).map_err(ApiError::Validation)?;
    let movement = stock::adjust_stock(
        &state.db,
        variant_id,
        change.delta,
        change.reason,
        change.note.as_deref(),
        Some(session.account_id),
    )
    .await?;
    invalidate(&state).await?;
    Ok((StatusCode::CREATED, Json(MovementEnvelope { movement })))
}

/// The stock ledger of a variant, newest first.
#[utoipa::path(get, path = "/api/v1/admin/variants/{id}/stock-adjustments", tag = "admin",
    params(("id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = MovementList),
              (status = 404, description = "No such variant", body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn stock_movements(
    State(state): State<AppState>,
    Path(variant_id): Path<Uuid>,
) -> ApiResult<Json<MovementList>> {
    let movements = stock::stock_movements(&state.db, variant_id, 200).await?;
    Ok(Json(MovementList {
        meta: CountMeta::of(&movements),
        movements,
    }))
}

/// Adds a category, optionally under a parent.
#[utoipa::path(post, path = "/api/v1/admin/categories", tag = "admin", request_body = CategoryDraft,
    responses((status = 201, body = CategoryEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn create_category(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<CategoryDraft>,
) -> ApiResult<(StatusCode, Json<CategoryEnvelope>)> {
    let new = NewCategory::parse(draft).map_err(ApiError::Validation)?;
    let category = store::create_category(&state.db, &new, session.account_id).await?;
    invalidate(&state).await?;
    Ok((StatusCode::CREATED, Json(CategoryEnvelope { category })))
}

/// Renames, re-slugs, moves or reorders a category.
#[utoipa::path(patch, path = "/api/v1/admin/categories/{id}", tag = "admin", request_body = CategoryPatch,
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, body = CategoryEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = ["catalog"])))]
pub async fn update_category(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<CategoryPatch>,
) -> ApiResult<Json<CategoryEnvelope>> {
    let changes = CategoryChanges::parse(patch).map_err(ApiError::Validation)?;
    let category = store::update_category(&state.db, id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    Ok(Json(CategoryEnvelope { category }))
}
