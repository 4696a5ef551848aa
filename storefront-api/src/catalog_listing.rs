//! The public product listing: filters checked, one cursor page of active products, cached
//! per query until the catalog changes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use storefront_client::catalog::{ListMeta, ListParams, ProductList, SortParam};

use crate::{
    domain::{FieldError, money::Currency},
    error::{ApiError, ApiResult},
    routes::paging::page_size,
    state::AppState,
    storage::{
        cache::CachedJson,
        catalog::{self as store, ListPosition, ProductFilter, ProductSort},
    },
};

impl From<SortParam> for ProductSort {
    fn from(sort: SortParam) -> Self {
        match sort {
            SortParam::Newest => Self::Newest,
            SortParam::PriceAsc => Self::PriceAsc,
            SortParam::PriceDesc => Self::PriceDesc,
        }
    }
}

/// Where the next page starts, for one sort order in one currency (a price position means
/// nothing in another): opaque to clients.
#[derive(Serialize, Deserialize)]
struct Cursor {
    sort: SortParam,
    currency: Currency,
    #[serde(flatten)]
    position: ListPosition,
}

fn encode_cursor(sort: SortParam, currency: Currency, position: ListPosition) -> String {
    let json = serde_json::to_vec(&Cursor {
        sort,
        currency,
        position,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(raw: &str, sort: SortParam, currency: Currency) -> Result<ListPosition, ApiError> {
    let invalid = || ApiError::invalid("cursor", "is not a cursor from this listing");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.sort != sort {
        return Err(ApiError::invalid(
            "cursor",
            "belongs to a different sort order; start again without a cursor",
        ));
    }
    if cursor.currency != currency {
        return Err(ApiError::invalid(
            "cursor",
            "belongs to a listing in another currency; start again without a cursor",
        ));
    }
    Ok(cursor.position)
}

/// Price bounds in minor units: not negative, and not crossed.
fn check_price_range(params: &ListParams) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (field, value) in [
        ("min_price", params.min_price),
        ("max_price", params.max_price),
    ] {
        if value.is_some_and(|v| v < 0) {
            errors.push(FieldError::new(field, "must not be negative"));
        }
    }
    if let (Some(min), Some(max)) = (params.min_price, params.max_price)
        && min > max
    {
        errors.push(FieldError::new("max_price", "must not be below min_price"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// One page of the listing `params` asks for, from the cache when the catalog has not
/// changed since it was built.
pub async fn page(state: &AppState, params: &ListParams) -> ApiResult<CachedJson> {
    let limit = page_size(params.limit)?;
    check_price_range(params)?;
    let currency = crate::routes::catalog::shopper_currency(state, params.currency.as_deref())?;
    let after = params
        .cursor
        .as_deref()
        .map(|raw| decode_cursor(raw, params.sort, currency))
        .transpose()?;
    let cache_key = format!(
        "products:{currency}:{}:{}:{}:{}:{}:{:?}:{}",
        params.category.as_deref().unwrap_or(""),
        params.min_price.map_or(String::new(), |v| v.to_string()),
        params.max_price.map_or(String::new(), |v| v.to_string()),
        params.in_stock,
        limit,
        params.sort,
        params.cursor.as_deref().unwrap_or(""),
    );
    state
        .catalog_cache
        .json(&cache_key, || async {
            let category_ids = match &params.category {
                None => None,
                Some(slug) => Some(store::category_subtree(&state.db, slug).await?.ok_or_else(
                    || ApiError::invalid("category", format!("no category `{slug}`")),
                )?),
            };
            let filter = ProductFilter {
                currency,
                category_ids,
                min_price_minor: params.min_price,
                max_price_minor: params.max_price,
                in_stock_only: params.in_stock,
            };
            // One extra row tells whether another page exists.
            let mut rows =
                store::list_products(&state.db, &filter, params.sort.into(), after, limit + 1)
                    .await?;
            let next_cursor = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last()
                    .map(|(_, position)| encode_cursor(params.sort, currency, *position))
            } else {
                None
            };
            let products = rows.into_iter().map(|(product, _)| product).collect();
            Ok::<_, ApiError>(ProductList {
                products,
                meta: ListMeta { next_cursor, limit },
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_other_sorts() {
        let position = ListPosition {
            key: 42,
            id: uuid::Uuid::nil(),
        };
        let euro = Currency::parse("EUR").unwrap();
        let cursor = encode_cursor(SortParam::PriceAsc, euro, position);
        assert_eq!(
            decode_cursor(&cursor, SortParam::PriceAsc, euro).unwrap(),
            position
        );
        assert!(decode_cursor(&cursor, SortParam::Newest, euro).is_err());
        let dollar = Currency::parse("USD").unwrap();
        assert!(decode_cursor(&cursor, SortParam::PriceAsc, dollar).is_err());
        assert!(decode_cursor("garbage", SortParam::Newest, euro).is_err());
    }
}
