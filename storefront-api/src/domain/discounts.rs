//! The shop's rules for a new discount code, as a parse function: a `DiscountCodeDraft` from
//! staff either becomes a `NewDiscountCode` that storage may write as it is, or every broken
//! rule comes back at once, each naming its field.

use chrono::{DateTime, Utc};
use storefront_client::staff::discounts::DiscountCodeDraft;

use super::FieldError;
use super::money::Currency;
use super::order::DiscountValue;

/// A discount code that obeys the shop's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDiscountCode {
    /// Upper case, 3-32 of `A-Z 0-9 _ -`.
    pub code: String,
    pub value: DiscountValue,
    /// Set exactly when the value is a fixed amount.
    pub currency: Option<Currency>,
    pub min_subtotal_minor: i64,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i32>,
    pub once_per_customer: bool,
}

/// Checks a draft against the rules: a code of 3-32 letters, digits, `_` or `-`; either a
/// percentage (1-10000 basis points) or a positive fixed amount with its currency; a
/// non-negative minimum spend; a validity window that ends after it starts; a usage limit of
/// at least one.
pub fn parse_new_code(draft: &DiscountCodeDraft) -> Result<NewDiscountCode, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = draft.code.trim().to_uppercase();
    if !(3..=32).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        errors.push(FieldError::new(
            "code",
            "use 3-32 letters, digits, '_' or '-'",
        ));
    }
    let value = match (draft.percent_basis_points, draft.amount_minor) {
        (Some(bp), None) if (1..=10_000).contains(&bp) => {
            Some(DiscountValue::Percent { basis_points: bp })
        }
        (Some(_), None) => {
            errors.push(FieldError::new("percent_basis_points", "must be 1-10000"));
            None
        }
        (None, Some(amount)) if amount > 0 => Some(DiscountValue::Fixed {
            amount_minor: amount,
        }),
        (None, Some(_)) => {
            errors.push(FieldError::new("amount_minor", "must be positive"));
            None
        }
        _ => {
            errors.push(FieldError::new(
                "percent_basis_points",
                "give either percent_basis_points or amount_minor",
            ));
            None
        }
    };
    let currency = match (&value, draft.currency.as_deref()) {
        (Some(DiscountValue::Fixed { .. }), Some(code)) => Currency::parse(code)
            .map_err(|message| errors.push(FieldError::new("currency", message)))
            .ok(),
        (Some(DiscountValue::Fixed { .. }), None) => {
            errors.push(FieldError::new(
                "currency",
                "is required for a fixed amount",
            ));
            None
        }
        (_, Some(_)) => {
            errors.push(FieldError::new(
                "currency",
                "only a fixed amount has a currency",
            ));
            None
        }
        _ => None,
    };
    if draft.min_subtotal_minor < 0 {
        errors.push(FieldError::new(
            "min_subtotal_minor",
            "must not be negative",
        ));
    }
    if let (Some(starts), Some(expires)) = (draft.starts_at, draft.expires_at)
        && starts >= expires
    {
        errors.push(FieldError::new("expires_at", "must be after starts_at"));
    }
    if draft.usage_limit.is_some_and(|limit| limit < 1) {
        errors.push(FieldError::new("usage_limit", "must be at least 1"));
    }
    match (value, errors.is_empty()) {
        (Some(value), true) => Ok(NewDiscountCode {
            code,
            value,
            currency,
            min_subtotal_minor: draft.min_subtotal_minor,
            starts_at: draft.starts_at,
            expires_at: draft.expires_at,
            usage_limit: draft.usage_limit,
            once_per_customer: draft.once_per_customer,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(code: &str) -> DiscountCodeDraft {
        DiscountCodeDraft {
            code: code.to_owned(),
            percent_basis_points: Some(1000),
            ..DiscountCodeDraft::default()
        }
    }

    #[test]
    fn a_good_draft_is_upper_cased() {
        let new = parse_new_code(&draft(" welcome10 ")).unwrap();
        assert_eq!(new.code, "WELCOME10");
        assert_eq!(new.value, DiscountValue::Percent { basis_points: 1000 });
        assert_eq!(new.currency, None);
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let bad = DiscountCodeDraft {
            code: "x".into(),
            percent_basis_points: None,
            amount_minor: Some(500),
            min_subtotal_minor: -1,
            usage_limit: Some(0),
            ..DiscountCodeDraft::default()
        };
        let fields: Vec<String> = parse_new_code(&bad)
            .unwrap_err()
            .into_iter()
            .map(|error| error.field)
            .collect();
        assert_eq!(
            fields,
            ["code", "currency", "min_subtotal_minor", "usage_limit"]
        );
    }

    #[test]
    fn a_percentage_has_no_currency() {
        let with_currency = DiscountCodeDraft {
            currency: Some("EUR".into()),
            ..draft("SPRING")
        };
        let errors = parse_new_code(&with_currency).unwrap_err();
        assert_eq!(errors[0].field, "currency");
    }
}
