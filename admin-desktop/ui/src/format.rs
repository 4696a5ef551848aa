//! How the console writes numbers and dates.

use chrono::{DateTime, Utc};
use storefront_client::money::Money;

pub fn money(money: &Money) -> String {
    money.to_shopper_string()
}

pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

pub fn day(at: &DateTime<Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

pub fn percent(value: f64) -> String {
    format!("{:.1}%", 100.0 * value)
}

/// A typed minor amount back as staff type it (`2490` EUR → `24.90`).
pub fn amount_text(money: &Money) -> String {
    let digits = u32::from(money.currency.minor_unit_digits());
    if digits == 0 {
        return money.amount_minor.to_string();
    }
    let scale = 10i64.pow(digits);
    format!(
        "{}.{:0width$}",
        money.amount_minor / scale,
        (money.amount_minor % scale).abs(),
        width = digits as usize
    )
}

/// An address on one line: name, street, postal code and city, region, country.
pub fn address(address: &storefront_client::account::PostalAddress) -> String {
    address.lines().join(", ")
}

/// Variant options back as staff type them: `{"size": "M"}` → `size=M`.
pub fn options(options: &serde_json::Value) -> String {
    options
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, value)| format!("{name}={}", value.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
