//! Staff catalog management: products, variants, stock adjustments, categories.

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::catalog::{CategoryRef, ProductStatus, ProductSummary, StockMovement, VariantStatus};
use crate::lists::{CountMeta, PageMeta};

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `GET /api/v1/admin/products` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct StaffListParams {
    #[cfg_attr(feature = "openapi", param(inline))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
    /// Part of the name or slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

/// All products, drafts and archived included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffProductList {
    pub products: Vec<ProductSummary>,
    pub meta: PageMeta,
}

/// `POST /api/v1/admin/products`: a new product, as a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductDraft {
    pub name: String,
    /// Made from the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    pub category_id: Uuid,
    /// ISO 4217, e.g. `EUR`; every variant is priced in it.
    pub currency: String,
    #[serde(default)]
    pub image_urls: Vec<String>,
}

/// `PATCH /api/v1/admin/products/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_urls: Option<Vec<String>>,
    /// `draft`, `active` (on sale) or `archived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
}

/// `POST /api/v1/admin/products/{id}/variants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariantDraft {
    pub sku: String,
    pub title: String,
    /// Option names mapped to values, e.g. `{"size": "M"}`.
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
    /// In the product's currency, minor units.
    pub price_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_at_minor: Option<i64>,
    #[serde(default)]
    pub initial_stock: i32,
    #[serde(default)]
    pub position: i32,
    /// Its prices in other markets' currencies; none means it is sold in the product's
    /// currency only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub market_prices: Vec<MarketPriceDraft>,
}

/// A variant's price in another market's currency than its product's: set, never converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketPriceDraft {
    /// ISO 4217, e.g. `GBP`.
    pub currency: String,
    pub price_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_at_minor: Option<i64>,
}

/// `PUT /api/v1/admin/variants/{id}/prices/{currency}`: a variant's price in one currency,
/// its product's own or another market's, with its compare-at ("was") price — absent for
/// none. The whole price is replaced, so sending it twice changes nothing the second time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceDraft {
    pub price_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_at_minor: Option<i64>,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// `PATCH /api/v1/admin/variants/{id}`: only the fields given change; `compare_at_minor:
/// null` removes the compare-at price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub options: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_minor: Option<i64>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub compare_at_minor: Option<Option<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VariantStatus>,
    /// Replaces every price in other currencies (`[]` removes them: the variant is then sold
    /// in its product's currency only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_prices: Option<Vec<MarketPriceDraft>>,
}

/// `POST /api/v1/admin/variants/{id}/stock-adjustments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    /// Units added (positive) or taken away (negative).
    pub delta: i32,
    /// `restock`, `correction`, `damaged`, `lost` or `returned`.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementEnvelope {
    pub movement: StockMovement,
}

/// A variant's stock ledger, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementList {
    pub movements: Vec<StockMovement>,
    pub meta: CountMeta,
}

/// `POST /api/v1/admin/categories`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CategoryDraft {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryEnvelope {
    pub category: CategoryRef,
}

/// `PATCH /api/v1/admin/categories/{id}`: `parent_id: null` makes it a top-level category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
}
