//! The catalog screens: find products, edit them and their variants, prices and images,
//! adjust stock with a reason, archive.

use storefront_client::catalog::{Product, ProductStatus, StockMovement};
use storefront_client::money::{Currency, Money};
use storefront_client::staff::catalog::{
    PriceDraft, ProductDraft, ProductPatch, StaffListParams, StaffProductList, StockAdjustment,
    VariantPatch,
};
use uuid::Uuid;

use crate::{Console, ConsoleError};

pub use console_protocol::catalog::{
    CategoryChoice, ExportedFile, NewVariant, STOCK_REASONS, VariantEdit, category_choices,
    import_summary, parse_options,
};
use storefront_client::staff::catalog_import::ImportReport;

/// A file staff named: trimmed, `~/` for the home folder.
pub(crate) fn local_path(raw: &str) -> Result<std::path::PathBuf, ConsoleError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ConsoleError::invalid("path", "name a CSV file"));
    }
    match (raw.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Ok(std::path::Path::new(&home).join(rest)),
        _ => Ok(std::path::PathBuf::from(raw)),
    }
}

/// Records in an RFC 4180 file: its line ends outside quotes (a quoted cell may hold line
/// breaks; `""` inside one toggles twice and changes nothing).
pub(crate) fn csv_records(csv: &[u8]) -> u64 {
    let mut quoted = false;
    let mut records = 0;
    for byte in csv {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => records += 1,
            _ => {}
        }
    }
    records
}

/// Runs file I/O off the async threads; a failure is staff's to fix (`path`).
pub(crate) async fn on_disk<T: Send + 'static>(
    path: std::path::PathBuf,
    io: impl FnOnce(&std::path::Path) -> std::io::Result<T> + Send + 'static,
    doing: &'static str,
) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(move || {
        io(&path).map_err(|e| {
            ConsoleError::invalid("path", format!("cannot {doing} {}: {e}", path.display()))
        })
    })
    .await
    .map_err(|e| ConsoleError::Failed(format!("the file task stopped: {e}")))?
}

impl Console {
    /// What importing the CSV file at `path` would do, and every problem it has; with
    /// `apply`, imports it (all or nothing).
    pub async fn import_catalog_file(
        &self,
        path: &str,
        apply: bool,
    ) -> Result<ImportReport, ConsoleError> {
        let csv = on_disk(local_path(path)?, |p| std::fs::read(p), "read").await?;
        self.call(|api| async move { api.import_catalog(csv, !apply).await })
            .await
    }

    /// Writes the whole catalog to `path` as CSV, in the import's format.
    pub async fn export_catalog_file(&self, path: &str) -> Result<ExportedFile, ConsoleError> {
        let target = local_path(path)?;
        let csv = self
            .call(|api| async move { api.export_catalog().await })
            .await?;
        let rows = csv_records(&csv).saturating_sub(1);
        let written = target.clone();
        on_disk(target, move |p| std::fs::write(p, &csv), "write").await?;
        Ok(ExportedFile {
            path: written.display().to_string(),
            rows,
        })
    }

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

    /// Sets a variant's price from what staff typed (`24.90`) in `currency` — the product's
    /// own when `None` — with `compare_at` likewise: empty removes it, `None` leaves it as
    /// it is. In another market's currency an empty price takes the variant off sale there.
    pub async fn set_price(
        &self,
        product_id: Uuid,
        variant_id: Uuid,
        currency: Option<&str>,
        price: &str,
        compare_at: Option<&str>,
    ) -> Result<Product, ConsoleError> {
        let product = self.product(product_id).await?;
        let variant = product
            .variants
            .iter()
            .find(|v| v.id == variant_id)
            .ok_or_else(|| ConsoleError::invalid("variant", "is not a variant of this product"))?;
        let own = variant.price.currency;
        let currency = match currency.map(str::trim) {
            None | Some("") => own,
            Some(code) => Currency::parse(&code.to_ascii_uppercase())
                .map_err(|message| ConsoleError::invalid("currency", message))?,
        };
        if currency != own && price.trim().is_empty() {
            return self
                .call(|api| async move { api.remove_variant_price(variant_id, currency.code()).await })
                .await;
        }
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
        // What staff left alone stays as it is: the price's current compare-at price.
        let current_compare_at = if currency == own {
            variant.compare_at_price.as_ref()
        } else {
            variant
                .market_prices
                .iter()
                .find(|p| p.price.currency == currency)
                .and_then(|p| p.compare_at_price.as_ref())
        };
        let draft = PriceDraft {
            price_minor: price.amount_minor,
            compare_at_minor: compare_at
                .unwrap_or_else(|| current_compare_at.map(|money| money.amount_minor)),
        };
        self.call(|api| async move {
            api.set_variant_price(variant_id, currency.code(), &draft)
                .await
        })
        .await
    }

    /// The currencies the shop sells in (its markets'), the default country's first: a
    /// variant may have a price in each.
    pub async fn currencies(&self) -> Result<Vec<String>, ConsoleError> {
        let countries = self
            .call(|api| async move { api.shipping_countries().await })
            .await?;
        let default = countries
            .countries
            .iter()
            .find(|c| c.code == countries.meta.default_country)
            .map(|c| c.currency.clone());
        let mut currencies: Vec<String> = default.into_iter().collect();
        for country in &countries.countries {
            if !currencies.contains(&country.currency) {
                currencies.push(country.currency.clone());
            }
        }
        Ok(currencies)
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
