//! How the console writes numbers and dates.

use chrono::{DateTime, NaiveDate, Utc};
use storefront_client::money::{Currency, Money};

pub fn money(money: &Money) -> String {
    money.to_shopper_string()
}

/// A mean or a prediction in minor units, to the nearest minor unit.
pub fn money_of(minor: f64, currency: Currency) -> String {
    money(&Money::new(minor.round() as i64, currency))
}

pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

pub fn day(at: &DateTime<Utc>) -> String {
    date(at.date_naive())
}

pub fn date(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// The window's clock.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_of_a_minor_unit_is_rounded() {
        let euro = Currency::parse("EUR").unwrap();
        assert_eq!(money_of(1234.5, euro), "€12.35");
        assert_eq!(money_of(5367.4, euro), "€53.67");
    }

    #[test]
    fn days_read_the_same_from_a_date_or_a_time() {
        let day = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        assert_eq!(date(day), "4 Jan 2027");
        let at = day.and_hms_opt(23, 59, 0).unwrap().and_utc();
        assert_eq!(super::day(&at), "4 Jan 2027");
    }
}
