//! Catalog rules: slugs, SKUs, product and variant states, stock adjustment reasons.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod edits;
pub mod import;

const MAX_SLUG_LEN: usize = 120;

/// A variant with this many units or fewer is low on stock: the dashboard lists it, and a
/// change that takes it down to here announces `stock.low`.
pub const LOW_STOCK_THRESHOLD: i32 = 5;

/// Lower-case words joined by single hyphens, as used in product and category URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_SLUG_LEN
            && raw.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{raw}` is not a slug: use lower-case letters and digits joined by single hyphens"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Turns a product name into a slug candidate ("Linen Shirt – Blue" → "linen-shirt-blue");
/// empty when the name has no letters or digits, which `Slug::parse` then refuses.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-')
        .chars()
        .take(MAX_SLUG_LEN)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// Upper-case stock keeping unit: letters, digits, `.`, `_`, `-`; 1–64 characters. Staff may
/// type it in lower case and with spaces around it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let sku = raw.trim().to_uppercase();
        let valid = (1..=64).contains(&sku.len())
            && sku
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && sku.chars().all(|c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if valid {
            Ok(Self(sku))
        } else {
            Err(format!(
                "`{raw}` is not a SKU: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub use storefront_client::catalog::{ProductStatus, VariantStatus};

/// Why stock on hand changed. Staff choose among the manual reasons; `initial`, `sale` and
/// `release` are written by the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockReason {
    Initial,
    Restock,
    Correction,
    Damaged,
    Lost,
    Returned,
    Sale,
    Release,
}

impl StockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Restock => "restock",
            Self::Correction => "correction",
            Self::Damaged => "damaged",
            Self::Lost => "lost",
            Self::Returned => "returned",
            Self::Sale => "sale",
            Self::Release => "release",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Initial,
            Self::Restock,
            Self::Correction,
            Self::Damaged,
            Self::Lost,
            Self::Returned,
            Self::Sale,
            Self::Release,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == raw)
    }

    /// Reasons a staff member may give for a manual adjustment.
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            Self::Restock | Self::Correction | Self::Damaged | Self::Lost | Self::Returned
        )
    }

    /// The direction a manual reason implies (`None`: either way, as for a correction).
    pub fn required_sign(self) -> Option<i32> {
        match self {
            Self::Restock | Self::Returned => Some(1),
            Self::Damaged | Self::Lost => Some(-1),
            _ => None,
        }
    }
}

/// The largest number of units one adjustment may add or remove.
pub const MAX_STOCK_ADJUSTMENT: u32 = 1_000_000;

/// Checks a manual stock adjustment before it reaches storage.
pub fn check_stock_adjustment(reason: StockReason, delta: i32) -> Result<(), String> {
    if !reason.is_manual() {
        return Err(format!(
            "`{}` is recorded by the system; use restock, correction, damaged, lost or returned",
            reason.as_str()
        ));
    }
    if delta == 0 {
        return Err("must not be zero".into());
    }
    if delta.unsigned_abs() > MAX_STOCK_ADJUSTMENT {
        return Err(format!(
            "must be between -{MAX_STOCK_ADJUSTMENT} and {MAX_STOCK_ADJUSTMENT}"
        ));
    }
    match reason.required_sign() {
        Some(sign) if delta.signum() != sign => Err(format!(
            "a `{}` adjustment must be {}",
            reason.as_str(),
            if sign > 0 { "positive" } else { "negative" }
        )),
        _ => Ok(()),
    }
}

/// A compare-at ("was") price only makes sense above the price.
pub fn check_compare_at(price_minor: i64, compare_at_minor: Option<i64>) -> Result<(), String> {
    match compare_at_minor {
        Some(compare_at) if compare_at <= price_minor => {
            Err("must be greater than the price".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(Slug::parse("linen-shirt-2").is_ok());
        assert!(Slug::parse("Linen").is_err());
        assert!(Slug::parse("a--b").is_err());
        assert!(Slug::parse("-a").is_err());
        assert_eq!(slugify("  Linen Shirt – Blue! "), "linen-shirt-blue");
    }

    #[test]
    fn skus_are_upper_cased_and_checked() {
        assert_eq!(Sku::parse(" ls-blue-m ").unwrap().as_str(), "LS-BLUE-M");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("-X").is_err());
        assert!(Sku::parse("A B").is_err());
    }

    #[test]
    fn adjustments_must_match_their_reason() {
        assert!(check_stock_adjustment(StockReason::Restock, 5).is_ok());
        assert!(check_stock_adjustment(StockReason::Restock, -5).is_err());
        assert!(check_stock_adjustment(StockReason::Damaged, -1).is_ok());
        assert!(check_stock_adjustment(StockReason::Correction, -3).is_ok());
        assert!(check_stock_adjustment(StockReason::Correction, 0).is_err());
        assert!(check_stock_adjustment(StockReason::Sale, -1).is_err());
        assert!(check_stock_adjustment(StockReason::Correction, i32::MIN).is_err());
        assert!(check_stock_adjustment(StockReason::Restock, 2_000_000_000).is_err());
    }

    #[test]
    fn category_tree_nests_and_rolls_up_counts() {
        use uuid::Uuid;
        let node = |id: Uuid, parent: Option<Uuid>, name: &str, position| views::CategoryNode {
            id,
            slug: name.to_lowercase(),
            name: name.into(),
            parent_id: parent,
            position,
            product_count: 0,
            children: vec![],
        };
        let (root, child, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let tree = build_category_tree(vec![
            (node(child, Some(root), "Shirts", 0), 3),
            (node(other, None, "Shoes", 2), 1),
            (node(root, None, "Clothing", 1), 2),
        ]);
        assert_eq!(
            tree.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ["Clothing", "Shoes"]
        );
        assert_eq!(tree[0].product_count, 5);
        assert_eq!(tree[0].children[0].name, "Shirts");
    }

    #[test]
    fn compare_at_must_exceed_price() {
        assert!(check_compare_at(1000, Some(1200)).is_ok());
        assert!(check_compare_at(1000, Some(1000)).is_err());
        assert!(check_compare_at(1000, None).is_ok());
    }
}

/// Nests a flat list of categories (each with its own product count) into trees, ordered by
/// position, with counts rolled up from the descendants.
pub fn build_category_tree(flat: Vec<(views::CategoryNode, i64)>) -> Vec<views::CategoryNode> {
    use std::collections::HashMap;
    use uuid::Uuid;

    let mut children_of: HashMap<Option<Uuid>, Vec<(views::CategoryNode, i64)>> = HashMap::new();
    let ids: std::collections::HashSet<Uuid> = flat.iter().map(|(node, _)| node.id).collect();
    for (node, count) in flat {
        // A parent outside the list (cannot happen with the foreign key) makes the node a root.
        let parent = node.parent_id.filter(|id| ids.contains(id));
        children_of.entry(parent).or_default().push((node, count));
    }
    fn attach(
        parent: Option<Uuid>,
        children_of: &mut HashMap<Option<Uuid>, Vec<(views::CategoryNode, i64)>>,
    ) -> Vec<views::CategoryNode> {
        let mut nodes = children_of.remove(&parent).unwrap_or_default();
        nodes.sort_by(|(a, _), (b, _)| {
            a.position
                .cmp(&b.position)
                .then_with(|| a.name.cmp(&b.name))
        });
        nodes
            .into_iter()
            .map(|(mut node, own)| {
                node.children = attach(Some(node.id), children_of);
                node.product_count =
                    own + node.children.iter().map(|c| c.product_count).sum::<i64>();
                node
            })
            .collect()
    }
    attach(None, &mut children_of)
}

/// What shoppers and staff read about the catalog. Built by the storage layer, serialised by
/// the HTTP layer; the types are the wire types shared with the API's clients.
pub mod views {
    pub use storefront_client::catalog::{
        CategoryNode, CategoryRef, MarketPrice as MarketPriceView, Product, ProductSummary, Rating,
        StockMovement, Variant,
    };
}
