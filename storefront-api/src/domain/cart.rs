//! Carts: what a shopper intends to buy, re-priced from the catalog at every read.

use uuid::Uuid;

use super::{
    catalog::{ProductStatus, VariantStatus},
    money::{Currency, Money},
    promotions::CartItem,
};

/// The cart's read view is the wire type shared with the API's clients.
pub use storefront_client::cart::{Cart, CartLine, LineProblem};

/// A variant as the cart sees it, straight from the catalog, priced in the currency of the
/// cart's market.
#[derive(Debug, Clone)]
pub struct CatalogVariant {
    pub variant_id: Uuid,
    pub sku: String,
    pub title: String,
    pub options: serde_json::Value,
    /// `None`: it has no price in `currency`, so it is not sold in that market.
    pub price_minor: Option<i64>,
    pub compare_at_minor: Option<i64>,
    pub stock_on_hand: i32,
    pub variant_status: VariantStatus,
    pub product_id: Uuid,
    pub product_slug: String,
    pub product_name: String,
    pub product_status: ProductStatus,
    pub currency: Currency,
    pub image_url: Option<String>,
    /// The product's category and every category above it (promotions' scopes).
    pub categories: Vec<Uuid>,
}

impl CatalogVariant {
    pub fn is_for_sale(&self) -> bool {
        self.variant_status == VariantStatus::Active && self.product_status == ProductStatus::Active
    }
}

/// Pairs the quantities in a cart with the catalog; lines whose variant no longer exists are
/// dropped (there is nothing left to show).
pub fn cart_lines(quantities: &[(Uuid, i32)], catalog: &[CatalogVariant]) -> Vec<CartLine> {
    quantities
        .iter()
        .filter_map(|(variant_id, quantity)| {
            let variant = catalog.iter().find(|v| v.variant_id == *variant_id)?;
            let problem = if !variant.is_for_sale() {
                Some(LineProblem::Unavailable)
            } else if variant.price_minor.is_none() {
                Some(LineProblem::NotSoldInMarket)
            } else if variant.stock_on_hand < *quantity {
                Some(LineProblem::InsufficientStock {
                    available: variant.stock_on_hand.max(0),
                })
            } else {
                None
            };
            Some(CartLine {
                variant_id: variant.variant_id,
                sku: variant.sku.clone(),
                product_id: variant.product_id,
                product_slug: variant.product_slug.clone(),
                product_name: variant.product_name.clone(),
                variant_title: variant.title.clone(),
                options: variant.options.clone(),
                image_url: variant.image_url.clone(),
                unit_price: Money::new(variant.price_minor.unwrap_or(0), variant.currency),
                compare_at_price: variant
                    .compare_at_minor
                    .map(|m| Money::new(m, variant.currency)),
                quantity: *quantity,
                line_total: Money::new(
                    variant
                        .price_minor
                        .unwrap_or(0)
                        .saturating_mul(i64::from(*quantity)),
                    variant.currency,
                ),
                available_quantity: variant.stock_on_hand.max(0),
                promotion_discount_minor: 0,
                code_discount_minor: 0,
                tax_minor: 0,
                problem,
            })
        })
        .collect()
}

/// The lines that can be bought, as pricing input, each with its index among the lines.
pub fn purchasable(lines: &[CartLine], catalog: &[CatalogVariant]) -> Vec<(usize, CartItem)> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.problem.is_none())
        .map(|(index, line)| {
            let categories = catalog
                .iter()
                .find(|variant| variant.variant_id == line.variant_id)
                .map(|variant| variant.categories.clone())
                .unwrap_or_default();
            (
                index,
                CartItem {
                    product_id: line.product_id,
                    categories,
                    unit_price_minor: line.unit_price.amount_minor,
                    quantity: line.quantity,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(stock: i32, status: VariantStatus) -> CatalogVariant {
        CatalogVariant {
            variant_id: Uuid::from_u128(1),
            sku: "A".into(),
            title: "A".into(),
            options: serde_json::json!({}),
            price_minor: Some(1000),
            compare_at_minor: None,
            stock_on_hand: stock,
            variant_status: status,
            product_id: Uuid::from_u128(9),
            product_slug: "a".into(),
            product_name: "A".into(),
            product_status: ProductStatus::Active,
            currency: Currency::parse("EUR").unwrap(),
            image_url: None,
            categories: vec![Uuid::from_u128(3)],
        }
    }

    #[test]
    fn lines_carry_their_problems_and_only_good_lines_are_priced() {
        let id = Uuid::from_u128(1);
        let ok = cart_lines(&[(id, 2)], &[variant(5, VariantStatus::Active)]);
        assert_eq!(ok[0].problem, None);
        assert_eq!(ok[0].line_total.amount_minor, 2000);
        let short = cart_lines(&[(id, 6)], &[variant(5, VariantStatus::Active)]);
        assert_eq!(
            short[0].problem,
            Some(LineProblem::InsufficientStock { available: 5 })
        );
        let gone = cart_lines(&[(id, 1)], &[variant(5, VariantStatus::Archived)]);
        assert_eq!(gone[0].problem, Some(LineProblem::Unavailable));
        let unpriced = CatalogVariant {
            price_minor: None,
            ..variant(5, VariantStatus::Active)
        };
        let elsewhere = cart_lines(&[(id, 1)], std::slice::from_ref(&unpriced));
        assert_eq!(elsewhere[0].problem, Some(LineProblem::NotSoldInMarket));
        assert!(purchasable(&elsewhere, &[unpriced]).is_empty());
        assert!(purchasable(&gone, &[variant(5, VariantStatus::Archived)]).is_empty());
        let priced = purchasable(&ok, &[variant(5, VariantStatus::Active)]);
        assert_eq!(priced[0].1.categories, [Uuid::from_u128(3)]);
        assert!(
            cart_lines(
                &[(Uuid::from_u128(2), 1)],
                &[variant(5, VariantStatus::Active)]
            )
            .is_empty()
        );
    }
}
