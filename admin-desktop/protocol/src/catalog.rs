//! What staff type into the catalog forms, and how it becomes the API's requests.

use serde::{Deserialize, Serialize};
use storefront_client::catalog::{CategoryNode, VariantStatus};
use storefront_client::money::{Currency, Money};
use storefront_client::staff::catalog::{VariantDraft, VariantPatch};
use storefront_client::staff::catalog_import::ImportReport;
use uuid::Uuid;

use crate::ConsoleError;

/// Why staff change stock by hand (the API's manual reasons).
pub const STOCK_REASONS: [&str; 5] = ["restock", "correction", "damaged", "lost", "returned"];

/// A category as the product forms offer it: named by its path from the top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryChoice {
    pub id: Uuid,
    /// `Clothing › Shirts`.
    pub label: String,
}

/// Every category of `tree`, parents before their children, each named by its path.
pub fn category_choices(tree: &[CategoryNode]) -> Vec<CategoryChoice> {
    fn walk(nodes: &[CategoryNode], path: &str, out: &mut Vec<CategoryChoice>) {
        for node in nodes {
            let label = if path.is_empty() {
                node.name.clone()
            } else {
                format!("{path} › {}", node.name)
            };
            out.push(CategoryChoice {
                id: node.id,
                label: label.clone(),
            });
            walk(&node.children, &label, out);
        }
    }
    let mut out = Vec::new();
    walk(tree, "", &mut out);
    out
}

/// A new variant as staff type it: amounts in the product's currency (`24.90`), options as
/// `size=M, colour=Blue`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewVariant {
    pub sku: String,
    pub title: String,
    pub options: String,
    pub price: String,
    /// The "was" price; empty for none.
    pub compare_at: String,
    pub initial_stock: i32,
}

impl NewVariant {
    /// The API's draft, or the first field staff must correct.
    pub fn to_draft(&self, currency: Currency) -> Result<VariantDraft, ConsoleError> {
        let price = Money::parse_amount(&self.price, currency)
            .map_err(|message| ConsoleError::invalid("price", message))?;
        let compare_at_minor = match self.compare_at.trim() {
            "" => None,
            text => Some(
                Money::parse_amount(text, currency)
                    .map_err(|message| ConsoleError::invalid("compare_at", message))?
                    .amount_minor,
            ),
        };
        if self.initial_stock < 0 {
            return Err(ConsoleError::invalid(
                "initial_stock",
                "must be zero or more units",
            ));
        }
        Ok(VariantDraft {
            sku: self.sku.trim().to_owned(),
            title: self.title.trim().to_owned(),
            options: parse_options(&self.options)
                .map_err(|message| ConsoleError::invalid("options", message))?,
            price_minor: price.amount_minor,
            compare_at_minor,
            initial_stock: self.initial_stock,
            position: 0,
            market_prices: Vec::new(),
        })
    }
}

/// A variant's title, SKU, options (`size=M, colour=Blue`) and whether it is sold, as staff
/// typed them; prices change through [`crate::SetPrice`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantEdit {
    pub sku: String,
    pub title: String,
    pub options: String,
    pub status: VariantStatus,
}

impl VariantEdit {
    pub fn to_patch(&self) -> Result<VariantPatch, ConsoleError> {
        Ok(VariantPatch {
            sku: Some(self.sku.trim().to_owned()),
            title: Some(self.title.trim().to_owned()),
            options: Some(
                parse_options(&self.options)
                    .map_err(|message| ConsoleError::invalid("options", message))?,
            ),
            status: Some(self.status),
            ..VariantPatch::default()
        })
    }
}

/// `size=M, colour=Blue` → `{"size": "M", "colour": "Blue"}`; empty text → `{}`.
pub fn parse_options(text: &str) -> Result<serde_json::Value, String> {
    let mut options = serde_json::Map::new();
    for pair in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("write `{pair}` as name=value, e.g. size=M"));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(format!("`{pair}` needs both a name and a value"));
        }
        if options
            .insert(name.to_owned(), serde_json::Value::from(value))
            .is_some()
        {
            return Err(format!("`{name}` is given twice"));
        }
    }
    Ok(serde_json::Value::Object(options))
}

/// A catalog written to a file: where, and how many rows (variants, and products without
/// any) it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub path: String,
    pub rows: u64,
}

/// What an import did, or a check says it would do, in a sentence: `1000 rows: 500 products
/// to create, 1000 variants to create, stock to set for 3 variants.` Counts of nothing are
/// left out; a file that changes nothing says so.
pub fn import_summary(report: &ImportReport) -> String {
    let (create, change) = if report.applied {
        ("created", "changed")
    } else {
        ("to create", "to change")
    };
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let mut parts: Vec<String> = [
        (report.products_created, "product", create),
        (report.products_updated, "product", change),
        (report.variants_created, "variant", create),
        (report.variants_updated, "variant", change),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, noun, verb)| format!("{n} {noun}{} {verb}", plural(n)))
    .collect();
    if report.stock_changes > 0 {
        let verb = if report.applied { "set" } else { "to set" };
        let n = report.stock_changes;
        parts.push(format!("stock {verb} for {n} variant{}", plural(n)));
    }
    let rows = format!("{} row{}", report.rows, plural(report.rows));
    if !report.problems.is_empty() {
        let n = report.problems.len();
        return format!(
            "{rows}: {n} problem{} to fix before anything can be imported.",
            plural(n as u64)
        );
    }
    if parts.is_empty() {
        return format!("{rows}: nothing to change — the catalog already says this.");
    }
    format!("{rows}: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, children: Vec<CategoryNode>) -> CategoryNode {
        CategoryNode {
            id: Uuid::new_v4(),
            slug: name.to_lowercase(),
            name: name.to_owned(),
            parent_id: None,
            position: 0,
            product_count: 0,
            children,
        }
    }

    #[test]
    fn categories_are_named_by_their_path_parents_first() {
        let tree = vec![
            node(
                "Clothing",
                vec![node("Shirts", vec![node("Linen", vec![])])],
            ),
            node("Home", vec![]),
        ];
        let labels: Vec<_> = category_choices(&tree)
            .into_iter()
            .map(|c| c.label)
            .collect();
        assert_eq!(
            labels,
            [
                "Clothing",
                "Clothing › Shirts",
                "Clothing › Shirts › Linen",
                "Home"
            ]
        );
    }

    #[test]
    fn options_are_typed_as_name_value_pairs() {
        assert_eq!(
            parse_options(" size = M, colour=Sea blue ,").unwrap(),
            serde_json::json!({"size": "M", "colour": "Sea blue"})
        );
        assert_eq!(parse_options("  ").unwrap(), serde_json::json!({}));
        assert!(parse_options("size M").unwrap_err().contains("name=value"));
        assert!(parse_options("size=").unwrap_err().contains("both"));
        assert!(
            parse_options("size=M, size=L")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn a_new_variant_is_priced_in_the_products_currency() {
        let typed = NewVariant {
            sku: " TEE-M ".into(),
            title: "M".into(),
            options: "size=M".into(),
            price: "15.50".into(),
            compare_at: "".into(),
            initial_stock: 3,
        };
        let yen = Currency::parse("JPY").unwrap();
        let euro = Currency::parse("EUR").unwrap();
        assert!(matches!(
            typed.to_draft(yen),
            Err(ConsoleError::Invalid { field, .. }) if field == "price"
        ));
        let draft = NewVariant {
            price: "1 500".into(),
            ..typed.clone()
        }
        .to_draft(yen)
        .unwrap();
        assert_eq!((draft.sku.as_str(), draft.price_minor), ("TEE-M", 1500));
        let draft = NewVariant {
            price: "24.90".into(),
            compare_at: "29".into(),
            ..typed.clone()
        }
        .to_draft(euro)
        .unwrap();
        assert_eq!(
            (draft.price_minor, draft.compare_at_minor),
            (2490, Some(2900))
        );
        let negative = NewVariant {
            price: "24.90".into(),
            initial_stock: -1,
            ..typed
        };
        assert!(negative.to_draft(euro).is_err());
    }

    #[test]
    fn an_import_report_reads_as_a_sentence() {
        use storefront_client::staff::catalog_import::ImportProblem;
        let mut report = ImportReport {
            rows: 1000,
            products_created: 500,
            variants_created: 1000,
            stock_changes: 1,
            ..ImportReport::default()
        };
        assert_eq!(
            import_summary(&report),
            "1000 rows: 500 products to create, 1000 variants to create, stock to set for 1 variant."
        );
        report.applied = true;
        report.products_updated = 1;
        assert_eq!(
            import_summary(&report),
            "1000 rows: 500 products created, 1 product changed, 1000 variants created, stock set for 1 variant."
        );
        let unchanged = ImportReport {
            rows: 1,
            products_unchanged: 1,
            ..ImportReport::default()
        };
        assert_eq!(
            import_summary(&unchanged),
            "1 row: nothing to change — the catalog already says this."
        );
        report.problems = vec![ImportProblem {
            line: 3,
            column: "price".into(),
            message: "bad".into(),
        }];
        assert_eq!(
            import_summary(&report),
            "1000 rows: 1 problem to fix before anything can be imported."
        );
    }
}
