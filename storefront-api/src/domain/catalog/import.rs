//! The catalog's CSV format — what the import reads and the export writes — and the import's
//! plan: which products and variants a file creates or changes, or every problem it has.
//!
//! One row per variant (RFC 4180, a header row, UTF-8 with or without a BOM). A row names its
//! product by `product_slug` and its variant by `sku`; both are keys, so importing a file
//! twice changes nothing the second time, and importing an export changes nothing at all. The
//! product's columns repeat on each of its rows (rows after the first may leave them empty; a
//! different value is a problem); a row without a SKU sets the product only.
//!
//! - A column left out of the header leaves that field as it is. An empty cell leaves a
//!   product's or variant's field as it is, except for the fields that may be empty
//!   (`description`, `image_urls`, `options`, `compare_at_price`), which it clears.
//! - New products need `product_name`, `category` (a slug) and `currency`; new variants need
//!   `variant_title` and `price`. New products start as drafts, new variants active, with no
//!   stock unless `stock` says otherwise.
//! - `price` and `compare_at_price` are amounts as people write them (`24.90`), in the
//!   product's currency; `price_gbp` and `compare_at_price_gbp` (any other currency's code
//!   likewise) are the variant's price in that market's currency, where an empty price cell
//!   means not sold there. The export writes such a pair for each currency the catalog has
//!   prices in besides its products' own; `stock` sets stock on hand (a `correction` in the ledger);
//!   `image_urls` are separated by spaces; `options` read `Size=M; Colour=Blue` (or a JSON
//!   object, which the export writes when a value holds `;` or `=`).
//! - Cells that start with `'` followed by `=`, `+`, `-` or `@` lose the `'`: the export
//!   writes it so that spreadsheets show such text instead of running it as a formula.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;
use storefront_client::staff::catalog_import::{ImportProblem, ImportReport};
use uuid::Uuid;

use super::{ProductStatus, Sku, Slug, VariantStatus, check_compare_at, edits, edits::MarketPrice};
use crate::domain::money::{Currency, Money};

/// More rows than any file the API's body limit lets through.
const MAX_ROWS: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    ProductSlug,
    ProductName,
    Description,
    Category,
    ProductStatus,
    Currency,
    ImageUrls,
    Sku,
    VariantTitle,
    Options,
    Price,
    CompareAtPrice,
    Stock,
    VariantStatus,
    /// `price_gbp`: the variant's price in another currency than its product's.
    MarketPrice(Currency),
    /// `compare_at_price_gbp`.
    MarketCompareAt(Currency),
}

impl Column {
    /// In the order the export writes them.
    const ALL: [Self; 14] = [
        Self::ProductSlug,
        Self::ProductName,
        Self::Description,
        Self::Category,
        Self::ProductStatus,
        Self::Currency,
        Self::ImageUrls,
        Self::Sku,
        Self::VariantTitle,
        Self::Options,
        Self::Price,
        Self::CompareAtPrice,
        Self::Stock,
        Self::VariantStatus,
    ];

    fn name(self) -> Cow<'static, str> {
        let code = |currency: Currency| currency.code().to_ascii_lowercase();
        Cow::Borrowed(match self {
            Self::ProductSlug => "product_slug",
            Self::ProductName => "product_name",
            Self::Description => "description",
            Self::Category => "category",
            Self::ProductStatus => "product_status",
            Self::Currency => "currency",
            Self::ImageUrls => "image_urls",
            Self::Sku => "sku",
            Self::VariantTitle => "variant_title",
            Self::Options => "options",
            Self::Price => "price",
            Self::CompareAtPrice => "compare_at_price",
            Self::Stock => "stock",
            Self::VariantStatus => "variant_status",
            Self::MarketPrice(currency) => return format!("price_{}", code(currency)).into(),
            Self::MarketCompareAt(currency) => {
                return format!("compare_at_price_{}", code(currency)).into();
            }
        })
    }

    fn parse(header: &str) -> Option<Self> {
        let header = header.trim().to_ascii_lowercase();
        if let Some(column) = Self::ALL.into_iter().find(|c| c.name() == header) {
            return Some(column);
        }
        let currency = |code: &str| Currency::parse(&code.to_ascii_uppercase()).ok();
        match header.strip_prefix("compare_at_price_") {
            Some(code) => currency(code).map(Self::MarketCompareAt),
            None => header
                .strip_prefix("price_")
                .and_then(currency)
                .map(Self::MarketPrice),
        }
    }

    /// Where the column's problems sort within a line: in the export's order, the market
    /// prices after the rest.
    fn place(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .map_or(Self::ALL.len() + 1, |i| i + 1)
    }
}

/// The header of the format, as the export writes it: the product's and variant's columns,
/// then a price and a compare-at price per currency of `markets`.
pub fn header(markets: &[Currency]) -> Vec<String> {
    Column::ALL
        .into_iter()
        .chain(
            markets
                .iter()
                .flat_map(|c| [Column::MarketPrice(*c), Column::MarketCompareAt(*c)]),
        )
        .map(|c| c.name().into_owned())
        .collect()
}

fn problem(line: u64, column: Option<Column>, message: impl Into<String>) -> ImportProblem {
    ImportProblem {
        line,
        column: column.map(Column::name).unwrap_or_default().into_owned(),
        message: message.into(),
    }
}

/// A product's cells on one row; `None` for an empty cell or a column the file lacks.
#[derive(Default)]
struct ProductCells {
    name: Option<String>,
    description: Option<String>,
    category: Option<Slug>,
    status: Option<ProductStatus>,
    currency: Option<Currency>,
    image_urls: Option<Vec<String>>,
}

/// A variant's cells on one row. The amounts stay text until the product's currency is known.
struct VariantCells {
    line: u64,
    sku: Sku,
    title: Option<String>,
    options: Option<Value>,
    price: Option<String>,
    compare_at: Option<String>,
    stock: Option<i32>,
    status: Option<VariantStatus>,
    /// One per currency the file has market price columns for.
    markets: Vec<MarketCells>,
}

/// A variant's price cells for one more currency.
struct MarketCells {
    currency: Currency,
    price: Option<String>,
    compare_at: Option<String>,
}

/// One product's rows, in the order the file first names it.
struct ProductRows {
    line: u64,
    slug: Slug,
    cells: ProductCells,
    variants: Vec<VariantCells>,
}

/// A file read and checked cell by cell, before it meets the catalog.
pub struct ImportFile {
    columns: HashSet<Column>,
    /// The currencies of the market price columns, in the header's order.
    markets: Vec<Currency>,
    products: Vec<ProductRows>,
    rows: u64,
    problems: Vec<ImportProblem>,
}

impl ImportFile {
    /// The product slugs the file names.
    pub fn slugs(&self) -> Vec<String> {
        self.products
            .iter()
            .map(|p| p.slug.as_str().to_owned())
            .collect()
    }

    /// The SKUs the file names.
    pub fn skus(&self) -> Vec<String> {
        self.products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.as_str().to_owned()))
            .collect()
    }

    fn has(&self, column: Column) -> bool {
        self.columns.contains(&column)
    }
}

/// What a spreadsheet may take for the start of a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text the export guarded against spreadsheets, as it was.
fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// Text a spreadsheet will not run as a formula: a cell that starts like one gets a leading
/// `'`, which the import takes off again — as it does for text that itself starts with `'`
/// and such a character, or with `''`, so that every text reads back as it was.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) || unguarded(text) != text {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub fn parse_status<T: serde::de::DeserializeOwned>(raw: &str, allowed: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(raw.trim().to_ascii_lowercase()))
        .map_err(|_| format!("`{raw}` is not a status: use {allowed}"))
}

/// `Size=M; Colour=Blue`, or a JSON object.
fn parse_options(raw: &str) -> Result<Value, String> {
    let raw = raw.trim();
    let options = if raw.starts_with('{') {
        serde_json::from_str(raw).map_err(|_| format!("`{raw}` is not a JSON object"))?
    } else {
        let mut map = serde_json::Map::new();
        for pair in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(format!(
                    "`{pair}` is not an option: write name=value pairs separated by `;`"
                ));
            };
            let name = name.trim().to_owned();
            if map
                .insert(name.clone(), Value::String(value.trim().to_owned()))
                .is_some()
            {
                return Err(format!("the option `{name}` is named twice"));
            }
        }
        Value::Object(map)
    };
    edits::check_options(&options).map(|()| options)
}

/// Options as the file writes them: `Size=M; Colour=Blue`, or JSON when a name or value
/// would not read back from that form.
fn write_options(options: &Value) -> String {
    let Some(map) = options.as_object() else {
        return options.to_string();
    };
    let plain = map.iter().all(|(name, value)| {
        value.as_str().is_some_and(|value| {
            !format!("{name}{value}").contains([';', '='])
                && name.trim() == name
                && value.trim() == value
                && !name.is_empty()
                && !name.starts_with('{')
        })
    });
    if !plain {
        return options.to_string();
    }
    map.iter()
        .map(|(name, value)| format!("{name}={}", value.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The file's line of a byte offset, counted as the reader moves forward (so a whole file
/// costs one pass). The CSV reader's own line count is off by one after a `\r\n` or a blank
/// line; a record's first byte, past any line ends before it, is not.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while offset < self.bytes.len() && matches!(self.bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset > self.at {
            self.line += self.bytes[self.at..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.at = offset;
        }
        self.line
    }
}

/// Reads the file and checks every cell on its own; what needs the catalog (categories,
/// currencies of existing products, SKUs elsewhere) is checked by [`plan`].
pub fn read(bytes: &[u8]) -> ImportFile {
    let mut file = ImportFile {
        columns: HashSet::new(),
        markets: Vec::new(),
        products: Vec::new(),
        rows: 0,
        problems: Vec::new(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers = match reader.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            file.problems.push(problem(1, None, format!("{error}")));
            return file;
        }
    };
    if headers.is_empty() || bytes.iter().all(u8::is_ascii_whitespace) {
        file.problems
            .push(problem(1, None, "the file is empty: it needs a header row"));
        return file;
    }
    let mut index: Vec<Option<Column>> = Vec::with_capacity(headers.len());
    for raw in headers.iter() {
        let name = String::from_utf8_lossy(raw);
        if name.trim().is_empty() {
            // Spreadsheets write trailing separators; a nameless column must stay empty.
            index.push(None);
            continue;
        }
        match Column::parse(&name) {
            Some(column) if file.columns.insert(column) => index.push(Some(column)),
            Some(column) => {
                file.problems
                    .push(problem(1, Some(column), "the column is named twice"));
                index.push(None);
            }
            None => {
                let names = header(&[]).join(", ");
                file.problems.push(ImportProblem {
                    line: 1,
                    column: name.trim().to_owned(),
                    message: format!(
                        "unknown column; the columns are {names}, and price_xxx and compare_at_price_xxx for a price in another currency (xxx its code, e.g. price_gbp)"
                    ),
                });
                index.push(None);
            }
        }
    }
    for column in &file.columns {
        if let Column::MarketPrice(currency) | Column::MarketCompareAt(currency) = *column
            && !file.markets.contains(&currency)
        {
            file.markets.push(currency);
        }
    }
    file.markets.sort_by_key(|c| c.code());
    for required in [Column::ProductSlug, Column::Sku] {
        if !file.has(required) {
            file.problems
                .push(problem(1, Some(required), "the header needs this column"));
        }
    }
    if !file.problems.is_empty() {
        return file;
    }

    let mut by_slug: HashMap<String, usize> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    let mut lines = LineCounter::new(bytes);
    let mut record = csv::ByteRecord::new();
    loop {
        let at = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                file.problems
                    .push(problem(lines.line_at(at), None, error.to_string()));
                break;
            }
        }
        let line = lines.line_at(record.position().map_or(at, csv::Position::byte));
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        let nameless = index
            .iter()
            .zip(record.iter())
            .position(|(column, cell)| column.is_none() && !cell.trim_ascii().is_empty());
        if let Some(cell) =
            nameless.filter(|i| headers.get(*i).is_some_and(|h| h.trim_ascii().is_empty()))
        {
            file.problems.push(problem(
                line,
                None,
                format!("cell {} has a value but its column has no name", cell + 1),
            ));
            continue;
        }
        file.rows += 1;
        if file.rows as usize > MAX_ROWS {
            file.problems.push(problem(
                line,
                None,
                format!("a file holds at most {MAX_ROWS} rows; split it"),
            ));
            break;
        }
        if record.len() != index.len() {
            file.problems.push(problem(
                line,
                None,
                format!(
                    "the row has {} cells, the header {}",
                    record.len(),
                    index.len()
                ),
            ));
            continue;
        }
        let mut cells: HashMap<Column, String> = HashMap::new();
        let mut readable = true;
        for (column, raw) in index.iter().zip(record.iter()) {
            let Some(column) = column else { continue };
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    cells.insert(*column, unguarded(text).to_owned());
                }
                Err(_) => {
                    file.problems
                        .push(problem(line, Some(*column), "the cell is not UTF-8 text"));
                    readable = false;
                }
            }
        }
        if readable {
            read_row(&mut file, &mut by_slug, &mut skus, line, &cells);
        }
    }
    file
}

/// Checks one row's cells and adds them to their product.
fn read_row(
    file: &mut ImportFile,
    by_slug: &mut HashMap<String, usize>,
    skus: &mut HashMap<String, u64>,
    line: u64,
    cells: &HashMap<Column, String>,
) {
    let problems = &mut file.problems;
    // A cell with something in it; `None` for an empty one or a column the file lacks.
    let given = |column: Column| {
        cells
            .get(&column)
            .map(String::as_str)
            .filter(|cell| !cell.trim().is_empty())
    };
    let mut check = |column: Column, checked: Result<(), String>| {
        checked
            .map_err(|message| problems.push(problem(line, Some(column), message)))
            .is_ok()
    };

    let slug = match given(Column::ProductSlug) {
        Some(raw) => Slug::parse(raw.trim()).map_err(Some),
        None => Err(None),
    };
    let mut product = ProductCells::default();
    if let Some(raw) = given(Column::ProductName) {
        match edits::product_name(raw) {
            Ok(name) => product.name = Some(name),
            Err(message) => {
                check(Column::ProductName, Err(message));
            }
        }
    }
    if let Some(raw) = given(Column::Description)
        && check(Column::Description, edits::check_description(raw))
    {
        product.description = Some(raw.to_owned());
    }
    if let Some(raw) = given(Column::Category) {
        match Slug::parse(raw.trim()) {
            Ok(category) => product.category = Some(category),
            Err(message) => {
                check(Column::Category, Err(message));
            }
        }
    }
    if let Some(raw) = given(Column::ProductStatus) {
        match parse_status(raw, "draft, active or archived") {
            Ok(status) => product.status = Some(status),
            Err(message) => {
                check(Column::ProductStatus, Err(message));
            }
        }
    }
    if let Some(raw) = given(Column::Currency) {
        match Currency::parse(&raw.trim().to_ascii_uppercase()) {
            Ok(currency) => product.currency = Some(currency),
            Err(message) => {
                check(Column::Currency, Err(message));
            }
        }
    }
    if let Some(raw) = given(Column::ImageUrls) {
        let urls: Vec<String> = raw.split_whitespace().map(str::to_owned).collect();
        let found = edits::image_url_problems(&urls);
        if found.is_empty() {
            product.image_urls = Some(urls);
        } else {
            for message in found {
                check(Column::ImageUrls, Err(message));
            }
        }
    }

    let variant_cells = [
        Column::VariantTitle,
        Column::Options,
        Column::Price,
        Column::CompareAtPrice,
        Column::Stock,
        Column::VariantStatus,
    ];
    let market_cells = file
        .markets
        .iter()
        .flat_map(|c| [Column::MarketPrice(*c), Column::MarketCompareAt(*c)]);
    let variant = match given(Column::Sku) {
        None => {
            // A row without a SKU sets its product only; what it says of a variant would be
            // lost, so it is a problem rather than nothing.
            if let Some(column) = variant_cells
                .into_iter()
                .chain(market_cells)
                .find(|c| given(*c).is_some())
            {
                check(
                    Column::Sku,
                    Err(format!(
                        "the row has a {} but no SKU to say which variant it is for",
                        column.name().replace('_', " ")
                    )),
                );
            }
            None
        }
        Some(raw) => match Sku::parse(raw) {
            Err(message) => {
                check(Column::Sku, Err(message));
                None
            }
            Ok(sku) => {
                if let Some(first) = skus.insert(sku.as_str().to_owned(), line) {
                    check(
                        Column::Sku,
                        Err(format!("the SKU {sku} is on line {first} already")),
                    );
                }
                let mut variant = VariantCells {
                    line,
                    sku,
                    title: None,
                    options: None,
                    price: given(Column::Price).map(str::to_owned),
                    compare_at: given(Column::CompareAtPrice).map(str::to_owned),
                    stock: None,
                    status: None,
                    markets: file
                        .markets
                        .iter()
                        .map(|&currency| MarketCells {
                            currency,
                            price: given(Column::MarketPrice(currency)).map(str::to_owned),
                            compare_at: given(Column::MarketCompareAt(currency)).map(str::to_owned),
                        })
                        .collect(),
                };
                if let Some(raw) = given(Column::VariantTitle) {
                    match edits::variant_title(raw) {
                        Ok(title) => variant.title = Some(title),
                        Err(message) => {
                            check(Column::VariantTitle, Err(message));
                        }
                    }
                }
                if let Some(raw) = given(Column::Options) {
                    match parse_options(raw) {
                        Ok(options) => variant.options = Some(options),
                        Err(message) => {
                            check(Column::Options, Err(message));
                        }
                    }
                }
                if let Some(raw) = given(Column::Stock) {
                    match raw.trim().parse::<i32>() {
                        Ok(units) if units >= 0 => variant.stock = Some(units),
                        _ if raw.trim().starts_with('-') => {
                            check(Column::Stock, Err("must not be negative".into()));
                        }
                        _ => {
                            check(
                                Column::Stock,
                                Err(format!("`{raw}` is not a whole number of units")),
                            );
                        }
                    }
                }
                if let Some(raw) = given(Column::VariantStatus) {
                    match parse_status(raw, "active or archived") {
                        Ok(status) => variant.status = Some(status),
                        Err(message) => {
                            check(Column::VariantStatus, Err(message));
                        }
                    }
                }
                Some(variant)
            }
        },
    };

    let slug = match slug {
        Ok(slug) => slug,
        Err(message) => {
            let message = message.unwrap_or_else(|| "every row needs its product's slug".into());
            check(Column::ProductSlug, Err(message));
            return;
        }
    };
    let position = *by_slug
        .entry(slug.as_str().to_owned())
        .or_insert(file.products.len());
    if position == file.products.len() {
        file.products.push(ProductRows {
            line,
            slug,
            cells: ProductCells::default(),
            variants: Vec::new(),
        });
    }
    let rows = &mut file.products[position];
    merge_product(&mut rows.cells, product, rows.line, line, problems);
    rows.variants.extend(variant);
}

/// Takes a later row's product cells into the product's: empty cells say nothing, a value
/// different from an earlier row's is a problem.
fn merge_product(
    into: &mut ProductCells,
    from: ProductCells,
    first_line: u64,
    line: u64,
    problems: &mut Vec<ImportProblem>,
) {
    fn take<T: PartialEq>(
        into: &mut Option<T>,
        from: Option<T>,
        column: Column,
        first_line: u64,
        line: u64,
        problems: &mut Vec<ImportProblem>,
    ) {
        match (into.as_ref(), from) {
            (_, None) => {}
            (None, from) => *into = from,
            (Some(kept), Some(from)) if *kept != from => problems.push(problem(
                line,
                Some(column),
                format!("differs from the product's row on line {first_line}"),
            )),
            _ => {}
        }
    }
    take(
        &mut into.name,
        from.name,
        Column::ProductName,
        first_line,
        line,
        problems,
    );
    take(
        &mut into.description,
        from.description,
        Column::Description,
        first_line,
        line,
        problems,
    );
    take(
        &mut into.category,
        from.category,
        Column::Category,
        first_line,
        line,
        problems,
    );
    take(
        &mut into.status,
        from.status,
        Column::ProductStatus,
        first_line,
        line,
        problems,
    );
    take(
        &mut into.currency,
        from.currency,
        Column::Currency,
        first_line,
        line,
        problems,
    );
    take(
        &mut into.image_urls,
        from.image_urls,
        Column::ImageUrls,
        first_line,
        line,
        problems,
    );
}

/// A product as stored, for the plan and the export.
#[derive(Debug, Clone)]
pub struct StoredProduct {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub category_id: Uuid,
    pub status: ProductStatus,
    pub currency: Currency,
    pub image_urls: Vec<String>,
}

/// A variant as stored.
#[derive(Debug, Clone)]
pub struct StoredVariant {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub title: String,
    pub options: Value,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub stock_on_hand: i32,
    pub status: VariantStatus,
    pub position: i32,
    /// Its prices in other currencies, by currency code.
    pub market_prices: Vec<MarketPrice>,
}

/// What the catalog holds of what a file names: its categories, the products of its slugs
/// (locked by the caller until the import commits) with all their variants, and the variants
/// of its SKUs wherever they are.
#[derive(Default)]
pub struct Existing {
    /// Category slug → id.
    pub categories: HashMap<String, Uuid>,
    /// By slug.
    pub products: HashMap<String, StoredProduct>,
    /// By SKU.
    pub variants: HashMap<String, StoredVariant>,
}

/// A change to stock on hand the import makes: to `stock_after`, by `delta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockSet {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub delta: i32,
    pub stock_after: i32,
}

/// What an import writes: whole rows (created ones with new ids), the stock changes of
/// existing variants, and the report.
#[derive(Default)]
pub struct Plan {
    pub created_products: Vec<StoredProduct>,
    pub updated_products: Vec<StoredProduct>,
    pub created_variants: Vec<StoredVariant>,
    pub updated_variants: Vec<StoredVariant>,
    pub stock_sets: Vec<StockSet>,
    pub report: ImportReport,
}

impl Plan {
    /// Products the import writes, or whose variants or stock it writes (for the listing
    /// roll-ups).
    pub fn touched_products(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .created_products
            .iter()
            .chain(&self.updated_products)
            .map(|p| p.id)
            .chain(
                self.created_variants
                    .iter()
                    .chain(&self.updated_variants)
                    .map(|v| v.product_id),
            )
            .chain(self.stock_sets.iter().map(|s| s.product_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

fn amount(
    raw: &str,
    currency: Currency,
    column: Column,
    line: u64,
    problems: &mut Vec<ImportProblem>,
) -> Option<i64> {
    let parsed = Money::parse_amount(raw, currency)
        .map(|money| money.amount_minor)
        .and_then(|minor| edits::check_price(minor).map(|()| minor));
    parsed
        .map_err(|message| problems.push(problem(line, Some(column), message)))
        .ok()
}

/// Meets the file with the catalog: the rows each product and variant will have, or every
/// problem (in line order, the file's own first) in the report.
pub fn plan(file: ImportFile, existing: &Existing) -> Plan {
    let mut plan = Plan {
        report: ImportReport {
            rows: file.rows,
            ..ImportReport::default()
        },
        ..Plan::default()
    };
    let mut problems = file.problems.clone();
    for rows in &file.products {
        plan_product(&file, rows, existing, &mut plan, &mut problems);
    }
    // Line by line, and left to right within a line (unknown columns last).
    let place = |column: &str| Column::parse(column).map_or(usize::MAX, Column::place);
    problems.sort_by_key(|p| {
        (
            p.line,
            if p.column.is_empty() {
                0
            } else {
                place(&p.column)
            },
        )
    });
    plan.report.problems = problems;
    plan
}

fn plan_product(
    file: &ImportFile,
    rows: &ProductRows,
    existing: &Existing,
    plan: &mut Plan,
    problems: &mut Vec<ImportProblem>,
) {
    let line = rows.line;
    let cells = &rows.cells;
    let stored = existing.products.get(rows.slug.as_str());
    let category_id = match &cells.category {
        Some(slug) => match existing.categories.get(slug.as_str()) {
            Some(id) => Some(*id),
            None => {
                problems.push(problem(
                    line,
                    Some(Column::Category),
                    format!("no category has the slug `{slug}`; create it first"),
                ));
                None
            }
        },
        None => stored.map(|p| p.category_id),
    };
    let currency = match (stored, cells.currency) {
        (Some(stored), Some(currency)) if stored.currency != currency => {
            problems.push(problem(
                line,
                Some(Column::Currency),
                format!(
                    "the product is priced in {}; its currency cannot change",
                    stored.currency
                ),
            ));
            None
        }
        (Some(stored), _) => Some(stored.currency),
        (None, currency) => currency,
    };
    if stored.is_none() {
        for (missing, column) in [
            (cells.name.is_none(), Column::ProductName),
            (cells.category.is_none(), Column::Category),
            (cells.currency.is_none(), Column::Currency),
        ] {
            if missing {
                problems.push(problem(line, Some(column), "a new product needs it"));
            }
        }
    }
    // A present column with no value on any row clears the fields that may be empty.
    let product = match (stored, category_id) {
        (Some(stored), Some(category_id)) => Some(StoredProduct {
            name: cells.name.clone().unwrap_or_else(|| stored.name.clone()),
            description: cells
                .description
                .clone()
                .or_else(|| file.has(Column::Description).then(String::new))
                .unwrap_or_else(|| stored.description.clone()),
            category_id,
            status: cells.status.unwrap_or(stored.status),
            image_urls: cells
                .image_urls
                .clone()
                .or_else(|| file.has(Column::ImageUrls).then(Vec::new))
                .unwrap_or_else(|| stored.image_urls.clone()),
            ..stored.clone()
        }),
        (None, Some(category_id)) => match (&cells.name, currency) {
            (Some(name), Some(currency)) => Some(StoredProduct {
                id: Uuid::now_v7(),
                slug: rows.slug.as_str().to_owned(),
                name: name.clone(),
                description: cells.description.clone().unwrap_or_default(),
                category_id,
                status: cells.status.unwrap_or(ProductStatus::Draft),
                currency,
                image_urls: cells.image_urls.clone().unwrap_or_default(),
            }),
            _ => None,
        },
        _ => None,
    };

    // The product's variants after the import: the stored ones the file does not name, and
    // the file's.
    let product_id = product.as_ref().map(|p| p.id);
    let mut active_after = stored.map_or(0, |stored| {
        existing
            .variants
            .values()
            .filter(|v| v.product_id == stored.id && v.status == VariantStatus::Active)
            .filter(|v| {
                !rows
                    .variants
                    .iter()
                    .any(|cells| cells.sku.as_str() == v.sku)
            })
            .count()
    });
    let mut next_position = stored.map_or(0, |stored| {
        existing
            .variants
            .values()
            .filter(|v| v.product_id == stored.id)
            .map(|v| v.position + 1)
            .max()
            .unwrap_or(0)
    });
    let problems_before = problems.len();
    for cells in &rows.variants {
        let line = cells.line;
        let stored_variant = existing.variants.get(cells.sku.as_str());
        if let Some(other) = stored_variant
            && Some(other.product_id) != stored.map(|p| p.id)
        {
            problems.push(problem(
                line,
                Some(Column::Sku),
                format!(
                    "the SKU {} belongs to another product; variants do not move",
                    cells.sku
                ),
            ));
            continue;
        }
        let Some(currency) = currency else { continue };
        let price = cells
            .price
            .as_deref()
            .and_then(|raw| amount(raw, currency, Column::Price, line, problems));
        let compare_at = match &cells.compare_at {
            Some(raw) => amount(raw, currency, Column::CompareAtPrice, line, problems).map(Some),
            None if file.has(Column::CompareAtPrice) => Some(None),
            None => None,
        };
        if cells.price.is_some() && price.is_none()
            || cells.compare_at.is_some() && compare_at.is_none()
        {
            continue;
        }
        let stored_markets = stored_variant.map_or(&[][..], |v| &v.market_prices[..]);
        let Some(market_prices) =
            market_prices(file, cells, currency, stored_markets, line, problems)
        else {
            continue;
        };
        let variant = match stored_variant {
            Some(stored) => StoredVariant {
                title: cells.title.clone().unwrap_or_else(|| stored.title.clone()),
                options: cells
                    .options
                    .clone()
                    .or_else(|| file.has(Column::Options).then(|| serde_json::json!({})))
                    .unwrap_or_else(|| stored.options.clone()),
                price_minor: price.unwrap_or(stored.price_minor),
                compare_at_minor: compare_at.unwrap_or(stored.compare_at_minor),
                stock_on_hand: cells.stock.unwrap_or(stored.stock_on_hand),
                status: cells.status.unwrap_or(stored.status),
                market_prices,
                ..stored.clone()
            },
            None => {
                let mut complete = true;
                for (missing, column) in [
                    (cells.title.is_none(), Column::VariantTitle),
                    (price.is_none(), Column::Price),
                ] {
                    if missing {
                        problems.push(problem(line, Some(column), "a new variant needs it"));
                        complete = false;
                    }
                }
                let (Some(title), Some(price), Some(product_id), true) =
                    (&cells.title, price, product_id, complete)
                else {
                    continue;
                };
                next_position += 1;
                StoredVariant {
                    id: Uuid::now_v7(),
                    product_id,
                    sku: cells.sku.as_str().to_owned(),
                    title: title.clone(),
                    options: cells
                        .options
                        .clone()
                        .unwrap_or_else(|| serde_json::json!({})),
                    price_minor: price,
                    compare_at_minor: compare_at.flatten(),
                    stock_on_hand: cells.stock.unwrap_or(0),
                    status: cells.status.unwrap_or(VariantStatus::Active),
                    position: next_position - 1,
                    market_prices,
                }
            }
        };
        let stock_moves =
            stored_variant.is_none_or(|stored| stored.stock_on_hand != variant.stock_on_hand);
        if stock_moves && let Err(message) = edits::check_stock_level(variant.stock_on_hand) {
            problems.push(problem(line, Some(Column::Stock), message));
            continue;
        }
        if let Err(message) = check_compare_at(variant.price_minor, variant.compare_at_minor) {
            let column = if cells.compare_at.is_some() {
                Column::CompareAtPrice
            } else {
                Column::Price
            };
            problems.push(problem(
                line,
                Some(column),
                format!("the compare-at price {message}"),
            ));
            continue;
        }
        if variant.status == VariantStatus::Active {
            active_after += 1;
        }
        match stored_variant {
            None => {
                plan.report.variants_created += 1;
                plan.created_variants.push(variant);
            }
            Some(stored) => {
                if variant.stock_on_hand != stored.stock_on_hand {
                    plan.stock_sets.push(StockSet {
                        variant_id: stored.id,
                        product_id: stored.product_id,
                        delta: variant.stock_on_hand - stored.stock_on_hand,
                        stock_after: variant.stock_on_hand,
                    });
                    plan.report.stock_changes += 1;
                }
                if same_variant(stored, &variant) {
                    plan.report.variants_unchanged += 1;
                } else {
                    plan.report.variants_updated += 1;
                    plan.updated_variants.push(variant);
                }
            }
        }
    }

    let Some(product) = product else { return };
    // A variant with a problem is not counted; saying the product then lacks one would only
    // repeat that problem.
    let variants_fine = problems.len() == problems_before;
    if product.status == ProductStatus::Active && active_after == 0 && variants_fine {
        problems.push(problem(
            line,
            Some(Column::ProductStatus),
            "an active product needs at least one active variant",
        ));
        return;
    }
    match stored {
        None => {
            plan.report.products_created += 1;
            plan.created_products.push(product);
        }
        Some(stored) if same_product(stored, &product) => plan.report.products_unchanged += 1,
        Some(_) => {
            plan.report.products_updated += 1;
            plan.updated_products.push(product);
        }
    }
}

fn same_product(a: &StoredProduct, b: &StoredProduct) -> bool {
    (
        &a.name,
        &a.description,
        a.category_id,
        a.status,
        &a.image_urls,
    ) == (
        &b.name,
        &b.description,
        b.category_id,
        b.status,
        &b.image_urls,
    )
}

/// Equal but for stock, which the ledger changes on its own.
fn same_variant(a: &StoredVariant, b: &StoredVariant) -> bool {
    (
        &a.title,
        &a.options,
        a.price_minor,
        a.compare_at_minor,
        a.status,
        &a.market_prices,
    ) == (
        &b.title,
        &b.options,
        b.price_minor,
        b.compare_at_minor,
        b.status,
        &b.market_prices,
    )
}

/// A variant's prices in other currencies after the import, or `None` after a problem. The
/// file's columns change their currency's price (an empty price cell: not sold there; an
/// empty compare-at cell: none), a column the file lacks leaves its part as it is.
fn market_prices(
    file: &ImportFile,
    cells: &VariantCells,
    own: Currency,
    stored: &[MarketPrice],
    line: u64,
    problems: &mut Vec<ImportProblem>,
) -> Option<Vec<MarketPrice>> {
    let mut prices = stored.to_vec();
    let mut fine = true;
    for market in &cells.markets {
        let currency = market.currency;
        let (price_column, was_column) = (
            Column::MarketPrice(currency),
            Column::MarketCompareAt(currency),
        );
        if currency == own {
            if let Some(column) = [
                (&market.price, price_column),
                (&market.compare_at, was_column),
            ]
            .into_iter()
            .find_map(|(cell, column)| cell.is_some().then_some(column))
            {
                problems.push(problem(
                    line,
                    Some(column),
                    format!(
                        "{own} is the product's own currency: its prices go in price and compare_at_price"
                    ),
                ));
                fine = false;
            }
            continue;
        }
        let current = prices.iter().position(|p| p.currency == currency);
        let mut read = |cell: &Option<String>, column: Column, stored: Option<i64>| match cell {
            Some(raw) => amount(raw, currency, column, line, problems).map(Some),
            None if file.has(column) => Some(None),
            None => Some(stored),
        };
        let price = read(
            &market.price,
            price_column,
            current.map(|i| prices[i].price_minor),
        );
        let compare_at = read(
            &market.compare_at,
            was_column,
            current.and_then(|i| prices[i].compare_at_minor),
        );
        let (Some(price), Some(compare_at)) = (price, compare_at) else {
            fine = false;
            continue;
        };
        match price {
            None if market.compare_at.is_some() => {
                problems.push(problem(
                    line,
                    Some(was_column),
                    format!("a compare-at price needs a price in {currency}"),
                ));
                fine = false;
            }
            None => {
                if let Some(i) = current {
                    prices.remove(i);
                }
            }
            Some(price_minor) => {
                if let Err(message) = check_compare_at(price_minor, compare_at) {
                    let column = if market.compare_at.is_some() {
                        was_column
                    } else {
                        price_column
                    };
                    problems.push(problem(
                        line,
                        Some(column),
                        format!("the compare-at price {message}"),
                    ));
                    fine = false;
                    continue;
                }
                let price = MarketPrice {
                    currency,
                    price_minor,
                    compare_at_minor: compare_at,
                };
                match current {
                    Some(i) => prices[i] = price,
                    None => prices.push(price),
                }
            }
        }
    }
    prices.sort_by_key(|p| p.currency.code());
    fine.then_some(prices)
}

/// One row of the export: a product with one of its variants, or alone when it has none.
pub struct ExportRow {
    pub product: StoredProduct,
    pub category_slug: String,
    pub variant: Option<StoredVariant>,
}

/// A status as the API and the file write it (`active`).
pub fn status_text<T: serde::Serialize>(status: T) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Writes the catalog in the import's format, with a price column pair per currency any
/// variant has a market price in.
pub fn write(rows: &[ExportRow]) -> Result<Vec<u8>, csv::Error> {
    let mut markets: Vec<Currency> = Vec::new();
    for price in rows
        .iter()
        .filter_map(|row| row.variant.as_ref())
        .flat_map(|v| &v.market_prices)
    {
        if !markets.contains(&price.currency) {
            markets.push(price.currency);
        }
    }
    markets.sort_by_key(|c| c.code());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header(&markets))?;
    for row in rows {
        let product = &row.product;
        let decimal = |minor: i64| Money::new(minor, product.currency).decimal();
        let mut record = vec![
            product.slug.clone(),
            spreadsheet_safe(&product.name),
            spreadsheet_safe(&product.description),
            row.category_slug.clone(),
            status_text(product.status),
            product.currency.code().to_owned(),
            product.image_urls.join(" "),
        ];
        match &row.variant {
            Some(variant) => record.extend([
                variant.sku.clone(),
                spreadsheet_safe(&variant.title),
                spreadsheet_safe(&write_options(&variant.options)),
                decimal(variant.price_minor),
                variant.compare_at_minor.map(decimal).unwrap_or_default(),
                variant.stock_on_hand.to_string(),
                status_text(variant.status),
            ]),
            None => record.extend(std::iter::repeat_n(String::new(), 7)),
        }
        for currency in &markets {
            let price = row
                .variant
                .as_ref()
                .and_then(|v| v.market_prices.iter().find(|p| p.currency == *currency));
            let decimal = |minor: i64| Money::new(minor, *currency).decimal();
            record.push(price.map(|p| decimal(p.price_minor)).unwrap_or_default());
            record.push(
                price
                    .and_then(|p| p.compare_at_minor)
                    .map(decimal)
                    .unwrap_or_default(),
            );
        }
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests;
