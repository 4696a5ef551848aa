//! Card details as a checkout receives them: checked, then reduced to what may be kept.

use chrono::Datelike;

use super::FieldError;

/// A card that passed the checks. Only the brand and last four digits outlive the charge.
#[derive(Clone)]
pub struct Card {
    number: String,
    pub expiry_month: u32,
    pub expiry_year: i32,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Card({} ending {})", self.brand(), self.last4())
    }
}

fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl Card {
    /// Checks number (digits, spaces allowed; Luhn), expiry (not in the past) and CVC.
    pub fn parse(
        number: &str,
        expiry_month: u32,
        expiry_year: i32,
        cvc: &str,
        today: chrono::NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        let digits: Option<Vec<u32>> = compact.chars().map(|c| c.to_digit(10)).collect();
        match digits {
            Some(digits) if (12..=19).contains(&digits.len()) && luhn_valid(&digits) => {}
            _ => errors.push(FieldError::new(
                "payment.card_number",
                "is not a valid card number",
            )),
        }
        if !(1..=12).contains(&expiry_month) {
            errors.push(FieldError::new("payment.expiry_month", "must be 1-12"));
        } else if (expiry_year, expiry_month) < (today.year(), today.month()) {
            errors.push(FieldError::new(
                "payment.expiry_year",
                "the card has expired",
            ));
        }
        if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
            errors.push(FieldError::new("payment.cvc", "must be 3 or 4 digits"));
        }
        if errors.is_empty() {
            Ok(Self {
                number: compact,
                expiry_month,
                expiry_year,
            })
        } else {
            Err(errors)
        }
    }

    /// The full number, for the payment provider only.
    pub fn number(&self) -> &str {
        &self.number
    }

    pub fn last4(&self) -> &str {
        &self.number[self.number.len().saturating_sub(4)..]
    }

    pub fn brand(&self) -> &'static str {
        match self.number.as_bytes().first() {
            Some(b'4') => "visa",
            Some(b'5') => "mastercard",
            Some(b'3') => "amex",
            _ => "card",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn cards_are_checked_and_reduced() {
        let card = Card::parse("4242 4242 4242 4242", 12, 2030, "123", today()).unwrap();
        assert_eq!((card.brand(), card.last4()), ("visa", "4242"));
        assert!(!format!("{card:?}").contains("4242 4242"));
        let errors = Card::parse("4242 4242 4242 4241", 10, 2026, "12", today()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["payment.card_number", "payment.expiry_year", "payment.cvc"]
        );
        assert!(Card::parse("4242424242424242", 11, 2026, "123", today()).is_ok());
    }
}

/// What a payment row records: money taken from the card, or given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    Charge,
    Refund,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Charge => "charge",
            Self::Refund => "refund",
        }
    }
}

/// How a payment attempt ended at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Money moved; the provider's reference is kept.
    Succeeded,
    /// The provider answered no (the card's issuer declined, with a reason code).
    Declined,
    /// The provider did not answer; nothing moved.
    Failed,
}

impl PaymentOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
            Self::Failed => "failed",
        }
    }
}
