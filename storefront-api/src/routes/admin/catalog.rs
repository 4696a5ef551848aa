//! Staff catalog management: products, variants, stock adjustments, categories.
//! Every write invalidates the public catalog cache after it commits.

use axum::{extract::State, http::StatusCode};
use storefront_client::catalog::ProductEnvelope;
use storefront_client::lists::CountMeta;
use storefront_client::staff::catalog::{
    CategoryDraft, CategoryEnvelope, CategoryPatch, MovementEnvelope, MovementList, ProductDraft,
    ProductPatch, StaffListParams, StaffProductList, StockAdjustment, VariantDraft, VariantPatch,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::CurrentSession,
    domain::{
        FieldError,
        catalog::{
            ProductStatus, StockReason, check_compare_at, check_stock_adjustment, parse_sku,
            parse_slug, slugify, views::Product,
        },
        money::Currency,
    },
    error::{ApiError, ApiResult, Json, Path, Query},
    routes::paging::Page,
    state::AppState,
    storage::catalog::{
        self as store, Audience, CategoryChanges, NewCategory, NewProduct, NewVariant,
        ProductChanges, ProductKey, VariantChanges,
    },
    storage::{paged, stock},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(product, update_product))
        .routes(routes!(archive_product))
        .routes(routes!(create_variant))
        .routes(routes!(update_variant))
        .routes(routes!(adjust_stock, stock_movements))
        .routes(routes!(create_category))
        .routes(routes!(update_category))
}

fn check_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    let chars = value.trim().chars().count();
    if chars == 0 || chars > max {
        errors.push(FieldError::new(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
}

fn check_images(errors: &mut Vec<FieldError>, urls: &[String]) {
    if urls.len() > 20 {
        errors.push(FieldError::new("image_urls", "at most 20 images"));
    }
    for url in urls {
        if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
            || url.len() > 2048
        {
            errors.push(FieldError::new(
                "image_urls",
                format!("`{url}` is not an http(s) URL or absolute path"),
            ));
        }
    }
}

fn validated<T>(value: T, errors: Vec<FieldError>) -> ApiResult<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(errors))
    }
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
    responses((status = 200, body = StaffProductList)), security(("bearer" = [])))]
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
    security(("bearer" = [])))]
pub async fn create_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<ProductDraft>,
) -> ApiResult<(StatusCode, Json<ProductEnvelope>)> {
    let mut errors = Vec::new();
    check_text(&mut errors, "name", &draft.name, 200);
    if draft.description.chars().count() > 20_000 {
        errors.push(FieldError::new(
            "description",
            "must be at most 20000 characters",
        ));
    }
    check_images(&mut errors, &draft.image_urls);
    let slug = draft.slug.clone().unwrap_or_else(|| slugify(&draft.name));
    if let Err(message) = parse_slug(&slug) {
        errors.push(FieldError::new("slug", message));
    }
    let currency = Currency::parse(&draft.currency)
        .map_err(|message| errors.push(FieldError::new("currency", message)))
        .ok();
    let new = NewProduct {
        slug,
        name: draft.name.trim().to_owned(),
        description: draft.description,
        category_id: draft.category_id,
        currency: currency.unwrap_or(Currency::NONE),
        image_urls: draft.image_urls,
    };
    let new = validated(new, errors)?;
    let id = store::create_product(&state.db, &new, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok((StatusCode::CREATED, Json(ProductEnvelope { product })))
}

/// One product with all its variants, whatever their status.
#[utoipa::path(get, path = "/api/v1/admin/products/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
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
    security(("bearer" = [])))]
pub async fn update_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<ProductPatch>,
) -> ApiResult<Json<ProductEnvelope>> {
    let mut errors = Vec::new();
    if let Some(name) = &patch.name {
        check_text(&mut errors, "name", name, 200);
    }
    if let Some(slug) = &patch.slug
        && let Err(message) = parse_slug(slug)
    {
        errors.push(FieldError::new("slug", message));
    }
    if let Some(urls) = &patch.image_urls {
        check_images(&mut errors, urls);
    }
    let changes = ProductChanges {
        slug: patch.slug,
        name: patch.name.map(|n| n.trim().to_owned()),
        description: patch.description,
        category_id: patch.category_id,
        image_urls: patch.image_urls,
        status: patch.status,
    };
    let changes = validated(changes, errors)?;
    store::update_product(&state.db, id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Archives a product: shoppers no longer see it; orders keep referring to it.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/archive", tag = "admin",
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 200, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn archive_product(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ProductEnvelope>> {
    let changes = ProductChanges {
        status: Some(ProductStatus::Archived),
        ..ProductChanges::default()
    };
    store::update_product(&state.db, id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, id).await?;
    Ok(Json(ProductEnvelope { product }))
}

fn check_options(errors: &mut Vec<FieldError>, options: &serde_json::Value) {
    let valid = options.as_object().is_some_and(|map| {
        map.len() <= 10
            && map.iter().all(|(k, v)| {
                !k.is_empty() && k.len() <= 50 && v.as_str().is_some_and(|s| s.len() <= 100)
            })
    });
    if !valid {
        errors.push(FieldError::new(
            "options",
            "must be an object of up to 10 option names mapped to text values",
        ));
    }
}

fn check_price(errors: &mut Vec<FieldError>, field: &str, amount: i64) {
    if amount < 0 {
        errors.push(FieldError::new(field, "must not be negative"));
    } else if amount > 100_000_000_000 {
        errors.push(FieldError::new(
            field,
            "is larger than any price the shop accepts",
        ));
    }
}

/// Adds a variant to a product; its initial stock is recorded in the stock ledger.
#[utoipa::path(post, path = "/api/v1/admin/products/{id}/variants", tag = "admin", request_body = VariantDraft,
    params(("id" = Uuid, Path, description = "Product id")),
    responses((status = 201, body = ProductEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn create_variant(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(product_id): Path<Uuid>,
    Json(draft): Json<VariantDraft>,
) -> ApiResult<(StatusCode, Json<ProductEnvelope>)> {
    let mut errors = Vec::new();
    let sku = parse_sku(&draft.sku)
        .map_err(|message| errors.push(FieldError::new("sku", message)))
        .unwrap_or_default();
    check_text(&mut errors, "title", &draft.title, 200);
    check_options(&mut errors, &draft.options);
    check_price(&mut errors, "price_minor", draft.price_minor);
    if let Some(compare_at) = draft.compare_at_minor {
        check_price(&mut errors, "compare_at_minor", compare_at);
    }
    if let Err(message) = check_compare_at(draft.price_minor, draft.compare_at_minor) {
        errors.push(FieldError::new("compare_at_minor", message));
    }
    if !(0..=1_000_000).contains(&draft.initial_stock) {
        errors.push(FieldError::new(
            "initial_stock",
            "must be between 0 and 1000000",
        ));
    }
    let new = NewVariant {
        sku,
        title: draft.title.trim().to_owned(),
        options: draft.options,
        price_minor: draft.price_minor,
        compare_at_minor: draft.compare_at_minor,
        initial_stock: draft.initial_stock,
        position: draft.position,
    };
    let new = validated(new, errors)?;
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
    security(("bearer" = [])))]
pub async fn update_variant(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(variant_id): Path<Uuid>,
    Json(patch): Json<VariantPatch>,
) -> ApiResult<Json<ProductEnvelope>> {
    let mut errors = Vec::new();
    let sku = patch
        .sku
        .as_deref()
        .map(parse_sku)
        .transpose()
        .map_err(|message| errors.push(FieldError::new("sku", message)))
        .ok()
        .flatten();
    if let Some(title) = &patch.title {
        check_text(&mut errors, "title", title, 200);
    }
    if let Some(options) = &patch.options {
        check_options(&mut errors, options);
    }
    if let Some(price) = patch.price_minor {
        check_price(&mut errors, "price_minor", price);
    }
    if let Some(Some(compare_at)) = patch.compare_at_minor {
        check_price(&mut errors, "compare_at_minor", compare_at);
    }
    let changes = VariantChanges {
        sku,
        title: patch.title.map(|t| t.trim().to_owned()),
        options: patch.options,
        price_minor: patch.price_minor,
        compare_at_minor: patch.compare_at_minor,
        position: patch.position,
        status: patch.status,
    };
    let changes = validated(changes, errors)?;
    let product_id =
        store::update_variant(&state.db, variant_id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    let product = staff_product(&state, product_id).await?;
    Ok(Json(ProductEnvelope { product }))
}

/// Adjusts stock on hand with a reason; the change is a row in the stock ledger. Stock never
/// goes below zero (409).
#[utoipa::path(post, path = "/api/v1/admin/variants/{id}/stock-adjustments", tag = "admin",
    request_body = StockAdjustment,
    params(("id" = Uuid, Path, description = "Variant id")),
    responses((status = 201, body = MovementEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(variant_id): Path<Uuid>,
    Json(adjustment): Json<StockAdjustment>,
) -> ApiResult<(StatusCode, Json<MovementEnvelope>)> {
    let reason = StockReason::parse(&adjustment.reason).ok_or_else(|| {
        ApiError::invalid(
            "reason",
            "must be one of restock, correction, damaged, lost, returned",
        )
    })?;
    check_stock_adjustment(reason, adjustment.delta)
        .map_err(|message| ApiError::invalid("delta", message))?;
    let note = adjustment
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::invalid("note", "must be at most 500 characters"));
    }
    let movement = stock::adjust_stock(
        &state.db,
        variant_id,
        adjustment.delta,
        reason,
        note,
        Some(session.account_id),
    )
    .await?;
    invalidate(&state).await?;
    Ok((StatusCode::CREATED, Json(MovementEnvelope { movement })))
}

/// The stock ledger of a variant, newest first.
#[utoipa::path(get, path = "/api/v1/admin/variants/{id}/stock-adjustments", tag = "admin",
    params(("id" = Uuid, Path, description = "Variant id")),
    responses((status = 200, body = MovementList)), security(("bearer" = [])))]
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
    security(("bearer" = [])))]
pub async fn create_category(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(draft): Json<CategoryDraft>,
) -> ApiResult<(StatusCode, Json<CategoryEnvelope>)> {
    let mut errors = Vec::new();
    check_text(&mut errors, "name", &draft.name, 100);
    let slug = draft.slug.clone().unwrap_or_else(|| slugify(&draft.name));
    if let Err(message) = parse_slug(&slug) {
        errors.push(FieldError::new("slug", message));
    }
    let new = NewCategory {
        slug,
        name: draft.name.trim().to_owned(),
        parent_id: draft.parent_id,
        position: draft.position,
    };
    let new = validated(new, errors)?;
    let category = store::create_category(&state.db, &new, session.account_id).await?;
    invalidate(&state).await?;
    Ok((StatusCode::CREATED, Json(CategoryEnvelope { category })))
}

/// Renames, re-slugs, moves or reorders a category.
#[utoipa::path(patch, path = "/api/v1/admin/categories/{id}", tag = "admin", request_body = CategoryPatch,
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, body = CategoryEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn update_category(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(patch): Json<CategoryPatch>,
) -> ApiResult<Json<CategoryEnvelope>> {
    let mut errors = Vec::new();
    if let Some(name) = &patch.name {
        check_text(&mut errors, "name", name, 100);
    }
    if let Some(slug) = &patch.slug
        && let Err(message) = parse_slug(slug)
    {
        errors.push(FieldError::new("slug", message));
    }
    let changes = CategoryChanges {
        slug: patch.slug,
        name: patch.name.map(|n| n.trim().to_owned()),
        parent_id: patch.parent_id,
        position: patch.position,
    };
    let changes = validated(changes, errors)?;
    let category = store::update_category(&state.db, id, &changes, session.account_id).await?;
    invalidate(&state).await?;
    Ok(Json(CategoryEnvelope { category }))
}
