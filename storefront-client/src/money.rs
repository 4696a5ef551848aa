//! Money in integer minor units with an ISO-4217 currency.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO-4217 currency code such as `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        iso_currency::Currency::from_code(code)
            .map(Self)
            .ok_or_else(|| format!("`{code}` is not an ISO-4217 currency code"))
    }

    /// ISO-4217 `XXX`, "no currency": what a corrupt stored code reads as.
    pub const NONE: Self = Self(iso_currency::Currency::XXX);

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// The sign shoppers know, e.g. `€` for EUR (`¤` where there is none).
    pub fn symbol(self) -> String {
        self.0.symbol().symbol
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY).
    pub fn minor_unit_digits(self) -> u16 {
        self.0.exponent().unwrap_or(0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units (cents) and the currency they are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Amount in the currency's minor unit, e.g. 1999 for EUR 19.99.
    pub amount_minor: i64,
    /// ISO-4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }
}

impl Money {
    /// The amount as shoppers read it: `€19.99`, `-€0.05`, `¥1200`. A symbol shared by several
    /// currencies (`$`) is prefixed with the code's country letters (`US$`, `CA$`) unless it is
    /// the US dollar.
    pub fn to_shopper_string(&self) -> String {
        let code = self.currency.code();
        let symbol = match self.currency.symbol() {
            s if s == "$" && code != "USD" => format!("{}$", &code[..2]),
            s if s == "¤" => format!("{code} "),
            s => s,
        };
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        format!("{sign}{symbol}{}", self.unsigned_amount())
    }

    /// The amount as a plain decimal in major units (`19.99`, `-0.05`, `1200` for JPY), as
    /// spreadsheets and CSV files write it.
    pub fn decimal(&self) -> String {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        format!("{sign}{}", self.unsigned_amount())
    }

    fn unsigned_amount(&self) -> String {
        let digits = u32::from(self.currency.minor_unit_digits());
        let abs = self.amount_minor.unsigned_abs();
        if digits == 0 {
            return abs.to_string();
        }
        let scale = 10u64.pow(digits);
        format!(
            "{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = digits as usize
        )
    }
}

impl Money {
    /// An amount as staff type it (`24.90`, `24,9`, `1200`, optionally with the currency's
    /// symbol or code around it) in `currency`'s minor units. Never through a float: `0.1 +
    /// 0.2` problems cannot happen. Negative amounts and more decimals than the currency has
    /// are refused with a message for the person who typed it.
    pub fn parse_amount(text: &str, currency: Currency) -> Result<Self, String> {
        let digits = u32::from(currency.minor_unit_digits());
        let cleaned: String = text
            .trim()
            .trim_start_matches(currency.code())
            .trim_end_matches(currency.code())
            .trim()
            .trim_start_matches(currency.symbol().as_str())
            .trim()
            .replace([' ', '\u{a0}'], "");
        let invalid = || format!("`{}` is not an amount like 24.90", text.trim());
        if cleaned.starts_with('-') {
            return Err("the amount must not be negative".to_owned());
        }
        let (whole, fraction) = match cleaned.split_once(['.', ',']) {
            Some((whole, fraction)) => (whole, fraction),
            None => (cleaned.as_str(), ""),
        };
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        if fraction.len() > digits as usize {
            return Err(format!(
                "{} has {digits} decimal place{} at most",
                currency.code(),
                if digits == 1 { "" } else { "s" }
            ));
        }
        let scale = 10i64.pow(digits);
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let fraction_minor: i64 = if fraction.is_empty() {
            0
        } else {
            let padded = format!("{fraction:0<width$}", width = digits as usize);
            padded.parse().map_err(|_| invalid())?
        };
        whole
            .checked_mul(scale)
            .and_then(|minor| minor.checked_add(fraction_minor))
            .map(|minor| Self::new(minor, currency))
            .ok_or_else(|| "the amount is too large".to_owned())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        write!(f, "{sign}{} {}", self.unsigned_amount(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_codes_only() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "EUR");
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XYZ").is_err());
    }

    #[test]
    fn displays_with_the_currencys_minor_digits() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::new(1999, eur).to_string(), "19.99 EUR");
        assert_eq!(Money::new(-5, eur).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(1200, jpy).to_string(), "1200 JPY");
    }

    #[test]
    fn typed_amounts_become_minor_units_exactly() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let minor = |text, currency| Money::parse_amount(text, currency).map(|m| m.amount_minor);
        assert_eq!(minor("24.90", eur), Ok(2490));
        assert_eq!(minor("24,9", eur), Ok(2490));
        assert_eq!(minor("€ 1 200.05", eur), Ok(120_005));
        assert_eq!(minor("0.29 EUR", eur), Ok(29));
        assert_eq!(minor("1200", jpy), Ok(1200));
        assert!(minor("12.5", jpy).unwrap_err().contains("0 decimal places"));
        assert!(
            minor("1.999", eur)
                .unwrap_err()
                .contains("2 decimal places")
        );
        assert!(minor("-3", eur).unwrap_err().contains("negative"));
        assert!(minor("abc", eur).is_err());
        assert!(minor("", eur).is_err());
        assert!(minor("99999999999999999999", eur).is_err());
    }

    #[test]
    fn shoppers_see_symbols() {
        let money = |minor, code| Money::new(minor, Currency::parse(code).unwrap());
        assert_eq!(money(1999, "EUR").to_shopper_string(), "€19.99");
        assert_eq!(money(-5, "EUR").to_shopper_string(), "-€0.05");
        assert_eq!(money(1999, "USD").to_shopper_string(), "$19.99");
        assert_eq!(money(1999, "CAD").to_shopper_string(), "CA$19.99");
        assert_eq!(money(1200, "JPY").to_shopper_string(), "¥1200");
    }
}
