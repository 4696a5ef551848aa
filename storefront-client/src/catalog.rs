//! The public catalog as the API serves it: listings, product detail, categories and search.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;
use crate::money::Money;

/// Where a product is in its life: only `active` products are visible to shoppers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "product_status", rename_all = "snake_case")
)]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "variant_status", rename_all = "snake_case")
)]
pub enum VariantStatus {
    Active,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A category with its sub-categories, as the shop's navigation shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryNode {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub position: i32,
    /// Active products in this category and all of its sub-categories.
    pub product_count: i64,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<CategoryNode>,
}

impl CategoryNode {
    /// This category or the first of its descendants with `slug`, depth first.
    pub fn find<'a>(nodes: &'a [CategoryNode], slug: &str) -> Option<&'a CategoryNode> {
        nodes.iter().find_map(|node| {
            if node.slug == slug {
                Some(node)
            } else {
                Self::find(&node.children, slug)
            }
        })
    }

    /// The categories a shopper can buy from: those with active products (in themselves or
    /// below), at every level. Staff see every category; a shop shows only these, so that
    /// no link leads to an empty page.
    pub fn with_products(nodes: Vec<CategoryNode>) -> Vec<CategoryNode> {
        nodes
            .into_iter()
            .filter(|node| node.product_count > 0)
            .map(|mut node| {
                node.children = Self::with_products(node.children);
                node
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(slug: &str, product_count: i64, children: Vec<CategoryNode>) -> CategoryNode {
        CategoryNode {
            id: Uuid::nil(),
            slug: slug.into(),
            name: slug.into(),
            parent_id: None,
            position: 0,
            product_count,
            children,
        }
    }

    #[test]
    fn shoppers_see_only_categories_with_products_at_every_level() {
        let tree = vec![
            node(
                "clothing",
                3,
                vec![node("shirts", 3, vec![]), node("hats", 0, vec![])],
            ),
            node("archive", 0, vec![node("old", 0, vec![])]),
        ];
        let shown = CategoryNode::with_products(tree);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].slug, "clothing");
        let children: Vec<&str> = shown[0].children.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(children, ["shirts"]);
    }
}

/// What reviewers think of a product.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    /// Mean of the published reviews' stars, 1-5, two decimals; `null` without reviews.
    pub average: Option<f64>,
    pub count: i32,
}

impl Rating {
    pub fn from_totals(count: i32, sum: i64) -> Self {
        let average = (count > 0).then(|| {
            let hundredths = (sum * 100 + i64::from(count) / 2) / i64::from(count);
            hundredths as f64 / 100.0
        });
        Self { average, count }
    }
}

/// One product in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Always `active` in public listings.
    pub status: ProductStatus,
    pub category: CategoryRef,
    /// The lowest price among the product's active variants; `null` only in staff listings,
    /// for a product that has none yet.
    pub price_from: Option<Money>,
    /// The compare-at ("was") price of the variant that sets `price_from`, if any.
    pub compare_at_from: Option<Money>,
    pub in_stock: bool,
    pub rating: Rating,
    pub image_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub id: Uuid,
    pub sku: String,
    pub title: String,
    /// Option values such as `{"size": "M", "colour": "Blue"}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
    /// In the currency asked for (shoppers) or the product's own (staff).
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub stock_on_hand: i32,
    pub in_stock: bool,
    pub status: VariantStatus,
    /// Staff reads: its prices in other markets' currencies (shoppers get only `price`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub market_prices: Vec<MarketPrice>,
}

/// A variant's price in one more currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketPrice {
    pub price: Money,
    pub compare_at_price: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub status: ProductStatus,
    pub category: CategoryRef,
    /// From the root category down to the product's own.
    pub breadcrumbs: Vec<CategoryRef>,
    pub currency: String,
    pub price_from: Option<Money>,
    pub in_stock: bool,
    pub rating: Rating,
    pub image_urls: Vec<String>,
    pub variants: Vec<Variant>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One row of the stock ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockMovement {
    pub id: i64,
    pub variant_id: Uuid,
    pub delta: i32,
    pub reason: String,
    pub note: Option<String>,
    pub stock_after: i32,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Listing order.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
}

impl SortParam {
    pub const ALL: [SortParam; 3] = [Self::Newest, Self::PriceAsc, Self::PriceDesc];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// `GET /api/v1/products` query. Unknown parameters (tracking tags, cache busters) are
/// ignored on public reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListParams {
    /// Category slug; its sub-categories are included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Lowest price, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub min_price: Option<i64>,
    /// Highest price, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub max_price: Option<i64>,
    /// Only products with stock.
    #[serde(default)]
    pub in_stock: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub sort: SortParam,
    /// Page size, 1–100 (default 24).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// ISO 4217: list the products sold in this currency, at their prices in it (default:
    /// the shop's default market's). `min_price` and `max_price` are in it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `GET /api/v1/products/{slug}` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PriceParams {
    /// ISO 4217: prices in this currency (default: the shop's default market's); a product
    /// with no price in it is not sold there (404).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListMeta {
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductList {
    pub products: Vec<ProductSummary>,
    pub meta: ListMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductEnvelope {
    pub product: Product,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryList {
    pub categories: Vec<CategoryNode>,
    pub meta: CountMeta,
}

/// `GET /api/v1/search` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SearchParams {
    /// What the shopper typed; prefixes and small typos match.
    pub q: String,
    /// 1-based page number.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    /// Page size, 1–100 (default 24).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
    /// ISO 4217: as for the product listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchMeta {
    /// The words searched for, as normalised.
    pub query: String,
    pub total: i64,
    pub page: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub products: Vec<ProductSummary>,
    pub meta: SearchMeta,
}
