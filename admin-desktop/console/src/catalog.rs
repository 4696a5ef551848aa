//! The catalog screens: find products, edit them and their variants, prices and images,
//! adjust stock with a reason, archive.

use storefront_client::catalog::{Product, ProductStatus, StockMovement};
use storefront_client::money::{Currency, Money};
use storefront_client::staff::catalog::{
    ProductDraft, ProductPatch, StaffListParams, StaffProductList, StockAdjustment, VariantPatch,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::catalog::{
    CategoryChoice, NewVariant, STOCK_REASONS, VariantEdit, category_choices, parse_options,
};

impl Console {
    /// The shop's categories for the product forms.
    pub async fn categories(&self) -> Result<Vec<CategoryChoice>, ConsoleError> {
        let tree = self
            .call(|api| async move { api.categories().await })
            .await?;
        Ok(category_choices(&tree))
    }

    /// Products matching `text` (name or slug) and `status`, a page at a time.
    pub async fn products(
        &self,
        text: Option<&str>,
        status: Option<ProductStatus>,
        page: i64,
    ) -> Result<StaffProductList, ConsoleError> {
        let params = StaffListParams {
            status,
            q: text
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            page: Some(page.max(1)),
            limit: Some(25),
        };
        self.call(|api| async move { api.staff_products(&params).await })
            .await
    }

    pub async fn product(&self, id: Uuid) -> Result<Product, ConsoleError> {
        self.call(|api| async move { api.staff_product(id).await })
            .await
    }

    pub async fn create_product(&self, draft: ProductDraft) -> Result<Product, ConsoleError> {
        self.call(|api| async move { api.create_product(&draft).await })
            .await
    }

    /// Name, description, category, images or status; only what `patch` names changes.
    pub async fn update_product(
        &self,
        id: Uuid,
        patch: ProductPatch,
    ) -> Result<Product, ConsoleError> {
        self.call(|api| async move { api.update_product(id, &patch).await })
            .await
    }

    /// Takes the product off the shop; its orders keep it.
    pub async fn archive_product(&self, id: Uuid) -> Result<Product, ConsoleError> {
        self.call(|api| async move { api.archive_product(id).await })
            .await
    }

    /// Adds a variant typed as staff typed it, priced in the product's currency.
    pub async fn add_variant(
        &self,
        product_id: Uuid,
        variant: NewVariant,
    ) -> Result<Product, ConsoleError> {
        let product = self.product(product_id).await?;
        let currency = Currency::parse(&product.currency)
            .map_err(|message| ConsoleError::Failed(format!("the product's {message}")))?;
        let draft = variant.to_draft(currency)?;
        self.call(|api| async move { api.create_variant(product_id, &draft).await })
            .await
    }

    /// Sets a variant's price from what staff typed (`24.90`) in the product's currency;
    /// `compare_at` likewise, empty to remove it.
    pub async fn set_price(
        &self,
        product_id: Uuid,
        variant_id: Uuid,
        price: &str,
        compare_at: Option<&str>,
    ) -> Result<Product, ConsoleError> {
        let product = self.product(product_id).await?;
        let variant = product
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .ok_or_else(|| ConsoleError::invalid("variant", "is not a variant of this product"))?;
        let currency = variant.price.currency;
        let price = Money::parse_amount(price, currency)
            .map_err(|message| ConsoleError::invalid("price", message))?;
        let compare_at = match compare_at.map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(text) => Some(Some(
                Money::parse_amount(text, currency)
                    .map_err(|message| ConsoleError::invalid("compare_at", message))?
                    .amount_minor,
            )),
        };
        let patch = VariantPatch {
            price_minor: Some(price.amount_minor),
            compare_at_minor: compare_at,
            ..VariantPatch::default()
        };
        self.call(|api| async move { api.update_variant(variant_id, &patch).await })
            .await
    }

    /// Changes a variant's title, SKU, options and whether it is sold.
    pub async fn edit_variant(
        &self,
        variant_id: Uuid,
        edit: VariantEdit,
    ) -> Result<Product, ConsoleError> {
        let patch = edit.to_patch()?;
        self.update_variant(variant_id, patch).await
    }

    pub async fn update_variant(
        &self,
        variant_id: Uuid,
        patch: VariantPatch,
    ) -> Result<Product, ConsoleError> {
        self.call(|api| async move { api.update_variant(variant_id, &patch).await })
            .await
    }

    /// Adds (positive) or removes (negative) units with one of [`STOCK_REASONS`].
    pub async fn adjust_stock(
        &self,
        variant_id: Uuid,
        delta: i32,
        reason: &str,
        note: Option<&str>,
    ) -> Result<StockMovement, ConsoleError> {
        if delta == 0 {
            return Err(ConsoleError::invalid("delta", "must not be zero"));
        }
        if !STOCK_REASONS.contains(&reason) {
            return Err(ConsoleError::invalid(
                "reason",
                format!("choose one of {}", STOCK_REASONS.join(", ")),
            ));
        }
        let adjustment = StockAdjustment {
            delta,
            reason: reason.to_owned(),
            note: note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        };
        self.call(|api| async move { api.adjust_stock(variant_id, &adjustment).await })
            .await
    }

    /// A variant's stock ledger, newest first.
    pub async fn stock_history(
        &self,
        variant_id: Uuid,
    ) -> Result<Vec<StockMovement>, ConsoleError> {
        self.call(|api| async move { api.stock_movements(variant_id).await })
            .await
    }
}
