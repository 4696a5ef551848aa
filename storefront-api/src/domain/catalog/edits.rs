//! Staff edits to the catalog, parsed from the staff's drafts and patches. Every field is
//! checked and every problem reported at once, so a handler gets either an edit storage can
//! write or the whole list of what to fix.

use storefront_client::staff::catalog::{
    CategoryDraft, CategoryPatch, MarketPriceDraft, PriceDraft, ProductDraft, ProductPatch,
    StockAdjustment, VariantDraft, VariantPatch,
};
use uuid::Uuid;

use super::{ProductStatus, Sku, Slug, StockReason, VariantStatus, check_compare_at, slugify};
use crate::domain::{FieldError, money::Currency, text};

const MAX_PRODUCT_NAME: usize = 200;
const MAX_CATEGORY_NAME: usize = 100;
const MAX_VARIANT_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_IMAGES: usize = 20;
const MAX_IMAGE_URL: usize = 2048;
const MAX_OPTIONS: usize = 10;
const MAX_OPTION_NAME: usize = 50;
const MAX_OPTION_VALUE: usize = 100;
/// A billion in major units: above any real price, below where totals could overflow.
const MAX_PRICE_MINOR: i64 = 100_000_000_000;
const MAX_INITIAL_STOCK: i32 = 1_000_000;
const MAX_STOCK_NOTE: usize = 500;

/// The problems found so far in one draft or patch.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value, or records why it is refused.
    fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    /// A name or title: one line of text (`text::line`).
    fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        text::line(value, max).unwrap_or_else(|message| {
            self.add(field, message);
            value.trim().to_owned()
        })
    }

    /// A description: empty, or prose of at most [`MAX_DESCRIPTION`] characters.
    fn description(&mut self, value: &str) {
        if let Err(message) = check_description(value) {
            self.add("description", message);
        }
    }

    fn images(&mut self, urls: &[String]) {
        for message in image_url_problems(urls) {
            self.add("image_urls", message);
        }
    }

    /// A variant's prices in other currencies: each a valid code, once, with a price and a
    /// compare-at price above it. (That none is the product's own currency is storage's
    /// check: only it knows the product.)
    fn market_prices(&mut self, drafts: &[MarketPriceDraft]) -> Vec<MarketPrice> {
        let mut prices: Vec<MarketPrice> = Vec::with_capacity(drafts.len());
        for (index, draft) in drafts.iter().enumerate() {
            let field = |name: &str| format!("market_prices[{index}].{name}");
            let Some(price) = self.currency_price(
                field,
                &draft.currency,
                draft.price_minor,
                draft.compare_at_minor,
            ) else {
                continue;
            };
            if prices
                .iter()
                .any(|priced| priced.currency == price.currency)
            {
                let currency = price.currency;
                self.add(&field("currency"), format!("{currency} is priced twice"));
                continue;
            }
            prices.push(price);
        }
        prices
    }

    /// A price in one currency, with its compare-at price above it; `field` names each part.
    fn currency_price(
        &mut self,
        field: impl Fn(&str) -> String,
        currency: &str,
        price_minor: i64,
        compare_at_minor: Option<i64>,
    ) -> Option<MarketPrice> {
        let currency = self.check(&field("currency"), Currency::parse(currency));
        self.price(&field("price_minor"), price_minor);
        if let Some(compare_at) = compare_at_minor {
            self.price(&field("compare_at_minor"), compare_at);
        }
        self.check(
            &field("compare_at_minor"),
            check_compare_at(price_minor, compare_at_minor),
        );
        currency.map(|currency| MarketPrice {
            currency,
            price_minor,
            compare_at_minor,
        })
    }

    fn options(&mut self, options: &serde_json::Value) {
        if let Err(message) = check_options(options) {
            self.add("options", message);
        }
    }

    fn price(&mut self, field: &str, amount_minor: i64) {
        if let Err(message) = check_price(amount_minor) {
            self.add(field, message);
        }
    }

    fn finish<T>(self, edit: Option<T>) -> Result<T, Vec<FieldError>> {
        match edit {
            Some(edit) if self.0.is_empty() => Ok(edit),
            _ => Err(self.0),
        }
    }
}

/// A product's name: one line of text. The import checks its cells with these same rules.
pub(super) fn product_name(value: &str) -> Result<String, String> {
    text::line(value, MAX_PRODUCT_NAME)
}

/// A variant's title: one line of text.
pub(super) fn variant_title(value: &str) -> Result<String, String> {
    text::line(value, MAX_VARIANT_TITLE)
}

/// A description: empty, or prose of at most [`MAX_DESCRIPTION`] characters.
pub(super) fn check_description(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Ok(());
    }
    text::prose(value, MAX_DESCRIPTION).map(drop)
}

/// What is wrong with a product's image list, one message per problem.
pub(super) fn image_url_problems(urls: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if urls.len() > MAX_IMAGES {
        problems.push(format!("at most {MAX_IMAGES} images"));
    }
    for url in urls {
        let link = url.starts_with("https://") || url.starts_with("http://");
        let spaced = url.chars().any(char::is_whitespace);
        if !(link || url.starts_with('/')) || spaced || url.len() > MAX_IMAGE_URL {
            problems.push(format!("`{url}` is not an http(s) URL or absolute path"));
        }
    }
    problems
}

/// A variant's options: an object of option names mapped to text values.
pub(super) fn check_options(options: &serde_json::Value) -> Result<(), String> {
    let valid = options.as_object().is_some_and(|map| {
        map.len() <= MAX_OPTIONS
            && map.iter().all(|(name, value)| {
                !name.is_empty()
                    && name.len() <= MAX_OPTION_NAME
                    && !text::has_control(name)
                    && value
                        .as_str()
                        .is_some_and(|v| v.len() <= MAX_OPTION_VALUE && !text::has_control(v))
            })
    });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "must be an object of up to {MAX_OPTIONS} option names mapped to text values"
        ))
    }
}

/// A price or compare-at price in minor units.
pub(super) fn check_price(amount_minor: i64) -> Result<(), String> {
    if amount_minor < 0 {
        Err("must not be negative".into())
    } else if amount_minor > MAX_PRICE_MINOR {
        Err("is larger than any price the shop accepts".into())
    } else {
        Ok(())
    }
}

/// Stock a new variant starts with, or an import sets: 0 to a million.
pub(super) fn check_stock_level(units: i32) -> Result<(), String> {
    if (0..=MAX_INITIAL_STOCK).contains(&units) {
        Ok(())
    } else {
        Err(format!("must be between 0 and {MAX_INITIAL_STOCK}"))
    }
}

/// A product to create, as a draft; the slug defaults to one made from the name.
pub struct NewProduct {
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub category_id: Uuid,
    pub currency: Currency,
    pub image_urls: Vec<String>,
}

impl NewProduct {
    pub fn parse(draft: ProductDraft) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let name = problems
            .check("name", product_name(&draft.name))
            .unwrap_or_else(|| draft.name.trim().to_owned());
        problems.description(&draft.description);
        problems.images(&draft.image_urls);
        let slug = draft.slug.unwrap_or_else(|| slugify(&draft.name));
        let slug = problems.check("slug", Slug::parse(&slug));
        let currency = problems.check("currency", Currency::parse(&draft.currency));
        let edit = slug.zip(currency).map(|(slug, currency)| Self {
            slug,
            name,
            description: draft.description,
            category_id: draft.category_id,
            currency,
            image_urls: draft.image_urls,
        });
        problems.finish(edit)
    }
}

/// Changes to a product; `None` leaves a field as it is.
#[derive(Default)]
pub struct ProductChanges {
    pub slug: Option<Slug>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub image_urls: Option<Vec<String>>,
    pub status: Option<ProductStatus>,
}

impl ProductChanges {
    pub fn parse(patch: ProductPatch) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let name = patch
            .name
            .map(|name| problems.text("name", &name, MAX_PRODUCT_NAME));
        if let Some(description) = &patch.description {
            problems.description(description);
        }
        let slug = patch
            .slug
            .and_then(|slug| problems.check("slug", Slug::parse(&slug)));
        if let Some(urls) = &patch.image_urls {
            problems.images(urls);
        }
        problems.finish(Some(Self {
            slug,
            name,
            description: patch.description,
            category_id: patch.category_id,
            image_urls: patch.image_urls,
            status: patch.status,
        }))
    }

    pub fn archive() -> Self {
        Self {
            status: Some(ProductStatus::Archived),
            ..Self::default()
        }
    }
}

/// A variant to add to a product, with the stock it starts with.
pub struct NewVariant {
    pub sku: Sku,
    pub title: String,
    pub options: serde_json::Value,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub initial_stock: i32,
    pub position: i32,
    pub market_prices: Vec<MarketPrice>,
}

/// A variant's price in another currency than its product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketPrice {
    pub currency: Currency,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
}

/// A change to a variant's price in one currency (`…/variants/{id}/prices/{currency}`): its
/// product's own currency's price is the variant's `price_minor`, any other a market price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceChange {
    Set(MarketPrice),
    /// Not sold in this currency any more.
    Remove(Currency),
}

impl PriceChange {
    /// `currency` as the path gives it, in either case (`gbp` or `GBP`).
    pub fn set(currency: &str, draft: &PriceDraft) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let price = problems.currency_price(
            str::to_owned,
            &currency.trim().to_ascii_uppercase(),
            draft.price_minor,
            draft.compare_at_minor,
        );
        problems.finish(price.map(Self::Set))
    }

    pub fn remove(currency: &str) -> Result<Self, Vec<FieldError>> {
        Currency::parse(&currency.trim().to_ascii_uppercase())
            .map(Self::Remove)
            .map_err(|message| vec![FieldError::new("currency", message)])
    }

    pub fn currency(&self) -> Currency {
        match self {
            Self::Set(price) => price.currency,
            Self::Remove(currency) => *currency,
        }
    }
}

impl NewVariant {
    pub fn parse(draft: VariantDraft) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let sku = problems.check("sku", Sku::parse(&draft.sku));
        let title = problems.text("title", &draft.title, MAX_VARIANT_TITLE);
        problems.options(&draft.options);
        problems.price("price_minor", draft.price_minor);
        if let Some(compare_at) = draft.compare_at_minor {
            problems.price("compare_at_minor", compare_at);
        }
        problems.check(
            "compare_at_minor",
            check_compare_at(draft.price_minor, draft.compare_at_minor),
        );
        problems.check("initial_stock", check_stock_level(draft.initial_stock));
        let market_prices = problems.market_prices(&draft.market_prices);
        let edit = sku.map(|sku| Self {
            sku,
            title,
            options: draft.options,
            price_minor: draft.price_minor,
            compare_at_minor: draft.compare_at_minor,
            initial_stock: draft.initial_stock,
            position: draft.position,
            market_prices,
        });
        problems.finish(edit)
    }
}

/// Changes to a variant; stock changes go through [`StockChange`] so the ledger stays whole.
/// Whether a new price still sits below the compare-at price is checked against the stored
/// variant, by storage.
pub struct VariantChanges {
    pub sku: Option<Sku>,
    pub title: Option<String>,
    pub options: Option<serde_json::Value>,
    pub price_minor: Option<i64>,
    /// `Some(None)` removes the compare-at price.
    pub compare_at_minor: Option<Option<i64>>,
    pub position: Option<i32>,
    pub status: Option<VariantStatus>,
    /// Replaces its prices in other currencies.
    pub market_prices: Option<Vec<MarketPrice>>,
}

impl VariantChanges {
    pub fn parse(patch: VariantPatch) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let sku = patch
            .sku
            .and_then(|sku| problems.check("sku", Sku::parse(&sku)));
        let title = patch
            .title
            .map(|title| problems.text("title", &title, MAX_VARIANT_TITLE));
        if let Some(options) = &patch.options {
            problems.options(options);
        }
        if let Some(price) = patch.price_minor {
            problems.price("price_minor", price);
        }
        if let Some(Some(compare_at)) = patch.compare_at_minor {
            problems.price("compare_at_minor", compare_at);
        }
        let market_prices = patch
            .market_prices
            .as_deref()
            .map(|drafts| problems.market_prices(drafts));
        problems.finish(Some(Self {
            sku,
            title,
            options: patch.options,
            price_minor: patch.price_minor,
            compare_at_minor: patch.compare_at_minor,
            position: patch.position,
            status: patch.status,
            market_prices,
        }))
    }
}

/// A category to add; the slug defaults to one made from the name.
pub struct NewCategory {
    pub slug: Slug,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub position: i32,
}

impl NewCategory {
    pub fn parse(draft: CategoryDraft) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let name = problems.text("name", &draft.name, MAX_CATEGORY_NAME);
        let slug = draft.slug.unwrap_or_else(|| slugify(&draft.name));
        let slug = problems.check("slug", Slug::parse(&slug));
        let edit = slug.map(|slug| Self {
            slug,
            name,
            parent_id: draft.parent_id,
            position: draft.position,
        });
        problems.finish(edit)
    }
}

/// Changes to a category. Whether a move keeps the tree a tree is checked by storage, which
/// sees the tree.
pub struct CategoryChanges {
    pub slug: Option<Slug>,
    pub name: Option<String>,
    /// `Some(None)` makes the category a root.
    pub parent_id: Option<Option<Uuid>>,
    pub position: Option<i32>,
}

impl CategoryChanges {
    pub fn parse(patch: CategoryPatch) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let name = patch
            .name
            .map(|name| problems.text("name", &name, MAX_CATEGORY_NAME));
        let slug = patch
            .slug
            .and_then(|slug| problems.check("slug", Slug::parse(&slug)));
        problems.finish(Some(Self {
            slug,
            name,
            parent_id: patch.parent_id,
            position: patch.position,
        }))
    }
}

/// A manual change of stock on hand, with its reason.
pub struct StockChange {
    pub delta: i32,
    pub reason: StockReason,
    pub note: Option<String>,
}

impl StockChange {
    pub fn parse(adjustment: StockAdjustment) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::default();
        let reason = StockReason::parse(&adjustment.reason);
        if reason.is_none() {
            problems.add(
                "reason",
                "must be one of restock, correction, damaged, lost, returned",
            );
        }
        if let Some(reason) = reason {
            problems.check(
                "delta",
                super::check_stock_adjustment(reason, adjustment.delta),
            );
        }
        let note = adjustment
            .note
            .map(|note| note.trim().to_owned())
            .filter(|note| !note.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_STOCK_NOTE)
        {
            problems.add(
                "note",
                format!("must be at most {MAX_STOCK_NOTE} characters"),
            );
        }
        let edit = reason.map(|reason| Self {
            delta: adjustment.delta,
            reason,
            note,
        });
        problems.finish(edit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> VariantDraft {
        VariantDraft {
            sku: " ls-blue-m ".into(),
            title: " Blue / M ".into(),
            options: serde_json::json!({"colour": "blue", "size": "M"}),
            price_minor: 4_900,
            compare_at_minor: None,
            initial_stock: 10,
            position: 0,
            market_prices: Vec::new(),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_variant_draft_is_normalised() {
        let variant = NewVariant::parse(draft()).unwrap();
        assert_eq!(variant.sku.as_str(), "LS-BLUE-M");
        assert_eq!(variant.title, "Blue / M");
    }

    #[test]
    fn every_problem_of_a_variant_is_reported_at_once() {
        let bad = VariantDraft {
            sku: "-".into(),
            title: " ".into(),
            options: serde_json::json!(["colour"]),
            price_minor: -1,
            compare_at_minor: Some(MAX_PRICE_MINOR + 1),
            initial_stock: -5,
            position: 0,
            market_prices: Vec::new(),
        };
        assert_eq!(
            fields(NewVariant::parse(bad).err().unwrap()),
            [
                "sku",
                "title",
                "options",
                "price_minor",
                "compare_at_minor",
                "initial_stock"
            ]
        );
    }

    #[test]
    fn compare_at_price_must_exceed_the_price() {
        let cheaper = VariantDraft {
            compare_at_minor: Some(4_900),
            ..draft()
        };
        assert_eq!(
            fields(NewVariant::parse(cheaper).err().unwrap()),
            ["compare_at_minor"]
        );
    }

    #[test]
    fn market_prices_are_checked_one_by_one_and_a_currency_only_once() {
        let price = |currency: &str, price_minor, compare_at_minor| MarketPriceDraft {
            currency: currency.into(),
            price_minor,
            compare_at_minor,
        };
        let good = VariantDraft {
            market_prices: vec![price("GBP", 4_200, None), price("USD", 5_300, Some(5_900))],
            ..draft()
        };
        let parsed = NewVariant::parse(good).unwrap().market_prices;
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].currency.code(), "USD");
        let bad = VariantDraft {
            market_prices: vec![
                price("pounds", 4_200, None),
                price("USD", 5_300, Some(5_300)),
                price("USD", 5_400, None),
                price("GBP", -1, None),
            ],
            ..draft()
        };
        assert_eq!(
            fields(NewVariant::parse(bad).err().unwrap()),
            [
                "market_prices[0].currency",
                "market_prices[1].compare_at_minor",
                "market_prices[2].currency",
                "market_prices[3].price_minor",
            ]
        );
    }

    #[test]
    fn a_category_slug_comes_from_its_name_unless_given() {
        let draft = CategoryDraft {
            name: "Linen Shirts".into(),
            slug: None,
            parent_id: None,
            position: 0,
        };
        assert_eq!(
            NewCategory::parse(draft).unwrap().slug.as_str(),
            "linen-shirts"
        );
        let nameless = CategoryDraft {
            name: "!!!".into(),
            slug: None,
            parent_id: None,
            position: 0,
        };
        assert_eq!(
            fields(NewCategory::parse(nameless).err().unwrap()),
            ["slug"]
        );
    }

    #[test]
    fn a_stock_change_needs_a_manual_reason_and_a_short_note() {
        let change = |reason: &str, delta, note: &str| StockAdjustment {
            delta,
            reason: reason.into(),
            note: Some(note.into()),
        };
        let ok = StockChange::parse(change("restock", 5, "  pallet 7 ")).unwrap();
        assert_eq!(ok.note.as_deref(), Some("pallet 7"));
        assert!(
            StockChange::parse(change("restock", 5, "  "))
                .unwrap()
                .note
                .is_none()
        );
        assert_eq!(
            fields(StockChange::parse(change("theft", 5, "")).err().unwrap()),
            ["reason"]
        );
        assert_eq!(
            fields(
                StockChange::parse(change("sale", -1, &"x".repeat(501)))
                    .err()
                    .unwrap()
            ),
            ["delta", "note"]
        );
    }
}
