//! The demo catalog: a two-level category tree (departments and their sub-categories) and
//! active products with variants, priced in euros, built from the words in `words`.
//!
//! Pure: everything comes from the RNG it is given, so the same seed gives the same catalog.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::{
    HISTORY, new_id, pick, pick_distinct,
    words::{DEPARTMENTS, Department, PRAISE, Subcategory},
};
use crate::domain::catalog::slugify;

/// Products generated in each sub-category; 25 sub-categories make 550 products.
pub const PRODUCTS_PER_SUBCATEGORY: usize = 22;

/// Share of variants that are sold out.
const SOLD_OUT_SHARE: f64 = 0.08;
/// Share of products on sale, i.e. with a compare-at ("was") price on every variant.
const ON_SALE_SHARE: f64 = 0.2;
const MAX_STOCK: i32 = 120;

/// A department (no parent) or one of its sub-categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub slug: String,
    pub name: String,
    /// Order among its siblings.
    pub position: i32,
}

/// An active product in a sub-category, with its variants and the roll-ups the storage layer
/// keeps (`price_from_minor`, `in_stock`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    pub category_id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub image_urls: Vec<String>,
    /// Lowest variant price.
    pub price_from_minor: i64,
    /// Whether any variant has stock.
    pub in_stock: bool,
    pub created_at: DateTime<Utc>,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: Uuid,
    pub sku: String,
    /// The option values joined for display, e.g. "Navy / M".
    pub title: String,
    /// Option values such as `{"colour": "Navy", "size": "M"}`.
    pub options: serde_json::Value,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub stock_on_hand: i32,
    pub position: i32,
}

/// Slugs already given out; a repeated one gets `-2`, `-3`… appended.
#[derive(Default)]
struct SlugBook(HashSet<String>);

impl SlugBook {
    fn claim(&mut self, name: &str) -> String {
        let base = match slugify(name) {
            slug if slug.is_empty() => "item".to_owned(),
            slug => slug,
        };
        let mut slug = base.clone();
        let mut suffix = 2;
        while !self.0.insert(slug.clone()) {
            slug = format!("{base}-{suffix}");
            suffix += 1;
        }
        slug
    }
}

/// The sub-category a product is generated for.
struct Leaf<'a> {
    department: &'a Department,
    subcategory: &'a Subcategory,
    category_id: Uuid,
}

pub(super) fn generate(
    rng: &mut ChaCha8Rng,
    ends_at: DateTime<Utc>,
) -> (Vec<Category>, Vec<Product>) {
    let mut category_slugs = SlugBook::default();
    let mut product_slugs = SlugBook::default();
    let mut names = HashSet::new();
    let mut categories = Vec::new();
    let mut products = Vec::new();
    for (department_position, department) in (0..).zip(DEPARTMENTS) {
        let department_id = new_id(rng);
        categories.push(Category {
            id: department_id,
            parent_id: None,
            slug: category_slugs.claim(department.name),
            name: department.name.to_owned(),
            position: department_position,
        });
        for (position, subcategory) in (0..).zip(department.subcategories) {
            let category_id = new_id(rng);
            categories.push(Category {
                id: category_id,
                parent_id: Some(department_id),
                slug: category_slugs.claim(subcategory.name),
                name: subcategory.name.to_owned(),
                position,
            });
            let leaf = Leaf {
                department,
                subcategory,
                category_id,
            };
            for _ in 0..PRODUCTS_PER_SUBCATEGORY {
                let number = products.len() + 1;
                let name = product_name(rng, department, subcategory, &mut names);
                let slug = product_slugs.claim(&name);
                products.push(product(rng, &leaf, number, name, slug, ends_at));
            }
        }
    }
    (categories, products)
}

/// When a product was added: half the catalog was there in the fortnight the shop opened,
/// the rest arrived evenly over its history, so the first customers had something to buy
/// and the order history only ever sells products that already existed. One draw, integer
/// arithmetic.
fn arrival_moment(rng: &mut ChaCha8Rng, ends_at: DateTime<Utc>) -> DateTime<Utc> {
    let span = HISTORY.num_seconds();
    let opening = TimeDelta::days(14).num_seconds();
    let half = span / 2;
    let draw = rng.random_range(1..span);
    let ago = if draw < half {
        span - 1 - draw * opening / half
    } else {
        (draw - half) * 2 + 1
    };
    ends_at - TimeDelta::seconds(ago.clamp(1, span - 1))
}

/// "Merino Crew Sweater", sometimes led by a collection ("Alpine Merino Crew Sweater"). Tries
/// a few times for a name not used yet; a repeat is still possible and only costs a slug suffix.
fn product_name(
    rng: &mut ChaCha8Rng,
    department: &Department,
    subcategory: &Subcategory,
    used: &mut HashSet<String>,
) -> String {
    let mut name = String::new();
    for _ in 0..12 {
        let qualifier = pick(rng, subcategory.qualifiers);
        let kind = pick(rng, subcategory.kinds);
        let candidate = if rng.random_bool(0.35) {
            format!("{} {qualifier} {kind}", pick(rng, department.collections))
        } else {
            format!("{qualifier} {kind}")
        };
        if repeats_a_word(&candidate) {
            continue;
        }
        name = candidate;
        if used.insert(name.clone()) {
            break;
        }
    }
    if name.is_empty() {
        name = subcategory.kinds[0].to_owned();
    }
    name
}

/// "Alpine Alpine Daypack" or "Wireless Wireless Mouse" would read as a bug.
fn repeats_a_word(name: &str) -> bool {
    let mut seen = HashSet::new();
    !name
        .split([' ', '-'])
        .all(|word| seen.insert(word.to_lowercase()))
}

fn product(
    rng: &mut ChaCha8Rng,
    leaf: &Leaf<'_>,
    number: usize,
    name: String,
    slug: String,
    ends_at: DateTime<Utc>,
) -> Product {
    let Leaf {
        department,
        subcategory,
        category_id,
    } = *leaf;
    let id = new_id(rng);
    let created_at = arrival_moment(rng, ends_at);
    let description = description(rng, department, subcategory, &name);
    let image_urls = (1..=rng.random_range(1..=3))
        .map(|n| format!("/images/products/{slug}-{n}.jpg"))
        .collect();
    let variants = variants(rng, department, subcategory, number);
    let price_from_minor = variants.iter().map(|v| v.price_minor).min().unwrap_or(0);
    let in_stock = variants.iter().any(|v| v.stock_on_hand > 0);
    Product {
        id,
        category_id,
        slug,
        name,
        description,
        image_urls,
        price_from_minor,
        in_stock,
        created_at,
        variants,
    }
}

/// Two to four sentences: what it is made with and for, then some of its features, a care
/// note and a recommendation. Real material and feature words, so that search finds them.
fn description(
    rng: &mut ChaCha8Rng,
    department: &Department,
    subcategory: &Subcategory,
    name: &str,
) -> String {
    let uses = pick_distinct(rng, subcategory.uses, 2);
    let features = pick_distinct(rng, subcategory.features, 2);
    let material = material_for(rng, subcategory, name);
    // "Slim Jeans", "Earbuds", "Bath Salts" are plural; "Wine Glass" is not.
    let plural = name.ends_with('s') && !name.ends_with("ss");
    let (is, it_features) = if plural {
        ("are", "They feature")
    } else {
        ("is", "It features")
    };
    let mut sentences = vec![format!(
        "The {name} {is} made with {material} and designed for {}.",
        uses[0]
    )];
    let extras = [
        format!("{it_features} {} and {}.", features[0], features[1]),
        (*pick(rng, department.care)).to_owned(),
        format!(
            "A {} choice for {}.",
            pick(rng, PRAISE),
            uses.get(1).unwrap_or(&uses[0])
        ),
    ];
    let extra_count = rng.random_range(1..=extras.len());
    let mut chosen = rand::seq::index::sample(rng, extras.len(), extra_count).into_vec();
    chosen.sort_unstable();
    sentences.extend(chosen.into_iter().map(|i| extras[i].clone()));
    sentences.join(" ")
}

/// The material a product's name promises ("Lambswool Cardigan" → "soft lambswool"), or any
/// of the sub-category's when the name promises none ("Chunky Cardigan").
fn material_for(rng: &mut ChaCha8Rng, subcategory: &Subcategory, name: &str) -> &'static str {
    let name = name.to_lowercase();
    let named = |needle: &str| {
        subcategory
            .materials
            .iter()
            .find(|material| material.to_lowercase().contains(needle))
    };
    let promised = subcategory
        .qualifiers
        .iter()
        .map(|qualifier| qualifier.to_lowercase())
        .filter(|qualifier| name.contains(qualifier.as_str()))
        // "Vegan Leather", not "Leather", in "Vegan Leather Court Sneaker".
        .max_by_key(String::len)
        .and_then(|qualifier| {
            let first_word = qualifier.split([' ', '-']).next().unwrap_or_default();
            named(&qualifier).or_else(|| named(first_word))
        });
    match promised {
        Some(material) => material,
        None => pick::<&str>(rng, subcategory.materials),
    }
}

/// One purchasable combination of options.
struct Choice {
    colour: Option<&'static str>,
    /// Position on the sub-category's axis, and its value.
    axis_value: Option<(usize, &'static str)>,
}

/// Which option combinations a product is sold in: one or two colours times a run of
/// neighbouring sizes (or capacities, volumes…), as many as the drawn variant count allows.
fn choices(rng: &mut ChaCha8Rng, subcategory: &Subcategory) -> Vec<Choice> {
    let (fewest, most) = subcategory.variant_count;
    let wanted = rng.random_range(fewest..=most);
    let axis_len = subcategory
        .axis
        .as_ref()
        .map_or(1, |axis| axis.values.len());
    let colour_count = match subcategory.colours.len() {
        0 => 0,
        _ if subcategory.axis.is_none() => wanted,
        _ if wanted > axis_len || (wanted >= 4 && rng.random_bool(0.5)) => 2,
        _ => 1,
    }
    .min(subcategory.colours.len());
    let colours: Vec<Option<&'static str>> = if colour_count == 0 {
        vec![None]
    } else {
        pick_distinct(rng, subcategory.colours, colour_count)
            .into_iter()
            .map(|colour| Some(*colour))
            .collect()
    };
    let axis_values: Vec<Option<(usize, &'static str)>> = match &subcategory.axis {
        None => vec![None],
        Some(axis) => {
            let run = wanted.div_ceil(colours.len()).clamp(1, axis.values.len());
            let start = rng.random_range(0..=axis.values.len() - run);
            (start..start + run)
                .map(|i| Some((i, axis.values[i])))
                .collect()
        }
    };
    colours
        .iter()
        .flat_map(|&colour| {
            axis_values
                .iter()
                .map(move |&axis_value| Choice { colour, axis_value })
        })
        .take(wanted.max(1))
        .collect()
}

fn variants(
    rng: &mut ChaCha8Rng,
    department: &Department,
    subcategory: &Subcategory,
    number: usize,
) -> Vec<Variant> {
    let choices = choices(rng, subcategory);
    let base_euros = euros_in_band(rng, subcategory.price_euros);
    let ending = price_ending(rng);
    let sale_percent = rng
        .random_bool(ON_SALE_SHARE)
        .then(|| rng.random_range(115..=140));
    let step_percent = subcategory
        .axis
        .as_ref()
        .map_or(0, |axis| axis.step_percent);
    let axis_key = subcategory.axis.as_ref().map_or("option", |axis| axis.key);
    (0..)
        .zip(choices)
        .map(|(position, choice)| {
            let steps = choice.axis_value.map_or(0, |(index, _)| index as i64);
            let euros = base_euros + base_euros * steps * i64::from(step_percent) / 100;
            let price_minor = shop_price(euros, ending);
            let values: Vec<&str> = choice
                .colour
                .into_iter()
                .chain(choice.axis_value.map(|(_, value)| value))
                .collect();
            let mut options = serde_json::Map::new();
            if let Some(colour) = choice.colour {
                options.insert("colour".into(), colour.into());
            }
            if let Some((_, value)) = choice.axis_value {
                options.insert(axis_key.into(), value.into());
            }
            let mut sku = format!("{}-{number:04}", department.sku_prefix);
            for value in &values {
                sku.push('-');
                sku.extend(
                    value
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .map(|c| c.to_ascii_uppercase()),
                );
            }
            Variant {
                id: new_id(rng),
                sku,
                title: if values.is_empty() {
                    "Standard".to_owned()
                } else {
                    values.join(" / ")
                },
                options: options.into(),
                price_minor,
                compare_at_minor: sale_percent.map(|percent| was_price(price_minor, percent)),
                stock_on_hand: if rng.random_bool(SOLD_OUT_SHARE) {
                    0
                } else {
                    rng.random_range(1..=MAX_STOCK)
                },
                position,
            }
        })
        .collect()
}

/// Whole euros in the band, more often near its cheap end (the lower of two uniform draws),
/// as in a real assortment. Integer arithmetic keeps it identical on every platform.
fn euros_in_band(rng: &mut ChaCha8Rng, (lowest, highest): (u32, u32)) -> i64 {
    let span = highest.saturating_sub(lowest);
    let offset = rng.random_range(0..=span).min(rng.random_range(0..=span));
    i64::from(lowest + offset).max(1)
}

/// How a price ends: 19.99, 19.95, 19.50 or 19.00.
#[derive(Clone, Copy)]
enum PriceEnding {
    NinetyNine,
    NinetyFive,
    Fifty,
    Round,
}

fn price_ending(rng: &mut ChaCha8Rng) -> PriceEnding {
    match rng.random_range(0..10) {
        0..5 => PriceEnding::NinetyNine,
        5..7 => PriceEnding::NinetyFive,
        7 => PriceEnding::Fifty,
        _ => PriceEnding::Round,
    }
}

/// A shelf price in cents just under (or at) the given whole euros: 20 → 1999, 1995, 1950 or
/// 2000.
fn shop_price(euros: i64, ending: PriceEnding) -> i64 {
    let cents = euros * 100;
    match ending {
        PriceEnding::NinetyNine => cents - 1,
        PriceEnding::NinetyFive => cents - 5,
        PriceEnding::Fifty => cents - 50,
        PriceEnding::Round => cents,
    }
}

/// The demo shop's other markets: the currency and its prices as a percentage of the euro
/// price. A merchant sets each market's prices; the demo's merchant set them this way once
/// (the platform itself never converts).
pub const MARKET_PRICE_PERCENT: [(&str, i64); 2] = [("GBP", 86), ("USD", 108)];

/// A euro shelf price taken to another market: its whole units scaled by `percent` (rounded,
/// at least 1), keeping the ending (19.99 → 16.99 at 86 %, 21.99 at 108 %).
pub fn market_price(euro_minor: i64, percent: i64) -> i64 {
    let whole = (euro_minor + 99) / 100;
    let below_whole = whole * 100 - euro_minor;
    let scaled = ((whole * percent + 50) / 100).max(1);
    scaled * 100 - below_whole
}

/// A variant's prices in the other markets: price and compare-at price (kept above it).
pub fn market_prices(variant: &Variant) -> impl Iterator<Item = (&'static str, i64, Option<i64>)> {
    MARKET_PRICE_PERCENT.into_iter().map(|(currency, percent)| {
        let price = market_price(variant.price_minor, percent);
        let compare_at = variant
            .compare_at_minor
            .map(|was| market_price(was, percent).max(price + 100));
        (currency, price, compare_at)
    })
}

/// The compare-at price of a product on sale: `percent` of the price, up to the next .99.
fn was_price(price_minor: i64, percent: i64) -> i64 {
    let raised = price_minor * percent / 100;
    ((raised / 100 + 1) * 100 - 1).max(price_minor + 100)
}
