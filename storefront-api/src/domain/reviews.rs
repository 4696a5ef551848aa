//! Product reviews: one per customer and product, only from customers who received it.

use super::{FieldError, text};

const MAX_TITLE: usize = 120;
const MAX_BODY: usize = 5000;

pub use storefront_client::reviews::{Review, ReviewStatus};

/// A review as written, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    pub rating: i32,
    pub title: String,
    pub body: String,
}

impl NewReview {
    pub fn parse(rating: i64, title: &str, body: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=5).contains(&rating) {
            errors.push(FieldError::new("rating", "must be 1 to 5 stars"));
        }
        let title = text::line(title, MAX_TITLE)
            .map_err(|message| errors.push(FieldError::new("title", message)))
            .ok();
        let body = text::prose(body, MAX_BODY)
            .map_err(|message| errors.push(FieldError::new("body", message)))
            .ok();
        match (title, body) {
            (Some(title), Some(body)) if errors.is_empty() => Ok(Self {
                rating: i32::try_from(rating).unwrap_or(0),
                title,
                body,
            }),
            _ => Err(errors),
        }
    }
}

/// How a reviewer is shown: first name and the initial of the last ("Jane D.").
pub fn display_name(full_name: &str) -> String {
    let mut parts = full_name.split_whitespace();
    match (parts.next(), parts.last()) {
        (Some(first), Some(last)) => {
            format!("{first} {}.", last.chars().next().unwrap_or_default())
        }
        (Some(first), None) => first.to_owned(),
        _ => "A customer".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviews_are_checked_and_reviewers_shortened() {
        assert!(NewReview::parse(5, "Great", "Fits well.").is_ok());
        let errors = NewReview::parse(6, " ", "").unwrap_err();
        assert_eq!(errors.len(), 3);
        assert_eq!(display_name("Jane Mary Doe"), "Jane D.");
        assert_eq!(display_name("Cher"), "Cher");
    }
}
