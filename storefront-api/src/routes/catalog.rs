//! Public catalog: product listing, product detail, categories and search.

use std::hash::{Hash, Hasher};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use storefront_client::catalog::{
    CategoryList, ListParams, PriceParams, ProductEnvelope, ProductList, SearchMeta, SearchParams,
    SearchResults,
};
use storefront_client::lists::CountMeta;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    catalog_listing,
    domain::money::Currency,
    error::{ApiError, ApiResult, Path, Query},
    routes::paging::{page_number, page_size},
    state::AppState,
    storage::{
        cache::CachedJson,
        catalog::{self as store, Audience, ProductKey},
        paged,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(product_detail))
        .routes(routes!(list_categories))
        .routes(routes!(search))
        .route_layer(middleware::from_fn(revalidate))
}

/// Public catalog reads carry an `ETag` and `Cache-Control: no-cache`: browsers and proxies
/// may keep a copy but must ask again, so a staff change is seen on the next read, and an
/// unchanged answer costs a `304 Not Modified` without a body.
async fn revalidate(request: Request, next: Next) -> Response {
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    // Weak: the compression layer may send the same document in another encoding.
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    let etag_value =
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    parts.headers.insert(header::ETAG, etag_value.clone());
    let matches = if_none_match
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag.trim_start_matches("W/"))
        });
    if matches {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        not_modified.headers_mut().insert(header::ETAG, etag_value);
        not_modified
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return not_modified;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Active products, filtered and sorted, one cursor page at a time.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ListParams),
    responses((status = 200, body = ProductList),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn list_products(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<CachedJson> {
    catalog_listing::page(&state, &params).await
}

/// The currency a shopper's read asks prices in (a 422 on `currency` for one the shop does
/// not sell in).
pub fn shopper_currency(state: &AppState, asked: Option<&str>) -> ApiResult<Currency> {
    state
        .settings
        .checkout
        .shopper_currency(asked)
        .map_err(|message| ApiError::invalid("currency", message))
}

/// One active product by its slug, with its variants sold in the currency asked for.
#[utoipa::path(get, path = "/api/v1/products/{slug}", tag = "catalog",
    params(("slug" = String, Path, description = "Product slug"), PriceParams),
    responses((status = 200, body = ProductEnvelope),
              (status = 404, description = "No such product, or not sold in this currency", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn product_detail(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(params): Query<PriceParams>,
) -> ApiResult<CachedJson> {
    let currency = shopper_currency(&state, params.currency.as_deref())?;
    state
        .catalog_cache
        .json(&format!("product:{currency}:{slug}"), || async {
            let product = store::product(
                &state.db,
                ProductKey::Slug(&slug),
                Audience::Public(currency),
            )
            .await?
            .ok_or(ApiError::NotFound("product"))?;
            Ok::<_, ApiError>(ProductEnvelope { product })
        })
        .await
}

/// The category tree with the counts of products sold in the currency asked for
/// (sub-categories included).
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", params(PriceParams),
    responses((status = 200, body = CategoryList),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn list_categories(
    State(state): State<AppState>,
    Query(params): Query<PriceParams>,
) -> ApiResult<CachedJson> {
    let currency = shopper_currency(&state, params.currency.as_deref())?;
    state
        .catalog_cache
        .json(&format!("categories:{currency}"), || async {
            let categories = store::category_tree(&state.db, currency).await?;
            Ok::<_, ApiError>(CategoryList {
                meta: CountMeta::of(&categories),
                categories,
            })
        })
        .await
}

/// The words of a search: lower-case letters and digits, at most 12, so no user input reaches
/// the text-search query syntax.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(12)
        .map(str::to_lowercase)
        .collect()
}

/// Ranked product search: every word must match (as a prefix), name ranks above
/// description, and a misspelt word is corrected to the closest word of the catalog.
#[utoipa::path(get, path = "/api/v1/search", tag = "catalog", params(SearchParams),
    responses((status = 200, body = SearchResults),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> ApiResult<CachedJson> {
    let limit = page_size(params.limit)?;
    let page = page_number(params.page)?;
    let text = params.q.trim();
    if text.chars().count() > 200 {
        return Err(ApiError::invalid("q", "must be at most 200 characters"));
    }
    let words = search_words(text);
    if words.is_empty() {
        return Err(ApiError::invalid("q", "must contain a word"));
    }
    let currency = shopper_currency(&state, params.currency.as_deref())?;
    state
        .catalog_cache
        .json(
            &format!("search:{currency}:{page}:{limit}:{}", words.join(" ")),
            || async {
                let (products, total) = paged(limit, (page - 1) * limit, |limit, offset| {
                    store::search_products(&state.db, &words, currency, limit, offset)
                })
                .await?;
                Ok::<_, ApiError>(SearchResults {
                    products,
                    meta: SearchMeta {
                        query: words.join(" "),
                        total,
                        page,
                        limit,
                    },
                })
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_letters_and_digits_only() {
        assert_eq!(search_words("Linen sh"), ["linen", "sh"]);
        assert_eq!(search_words("a'|!&(B):*"), ["a", "b"]);
        assert!(search_words(" !! ").is_empty());
    }
}
