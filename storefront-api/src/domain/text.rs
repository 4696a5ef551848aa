//! Text people type — names, titles, address lines, reviews — under one rule, for staff and
//! shoppers alike: trimmed, not empty, at most so many characters, and no control characters
//! (a NUL or an escape in a product name breaks feeds, emails, CSV exports and terminals).
//! Longer prose may break lines and use tabs; nothing else below U+0020 or in U+007F–U+009F.

/// One line of text: trimmed, 1 to `max` characters, no control characters.
pub fn line(raw: &str, max: usize) -> Result<String, String> {
    checked(raw, max, |c| c.is_control())
}

/// Prose (a description, a review): like [`line`], but line breaks and tabs are kept.
pub fn prose(raw: &str, max: usize) -> Result<String, String> {
    checked(raw, max, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

/// An optional line: empty or absent is `None`, otherwise as [`line`].
pub fn optional_line(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(value) => line(value, max).map(Some),
    }
}

/// Whether `value` holds a control character (for text kept as typed, like option values).
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

fn checked(raw: &str, max: usize, refused: impl Fn(char) -> bool) -> Result<String, String> {
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err("is required".to_owned());
    }
    if chars > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(refused) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_bounded() {
        assert_eq!(line("  Linen shirt ", 200).unwrap(), "Linen shirt");
        assert_eq!(line("   ", 200).unwrap_err(), "is required");
        assert_eq!(
            line(&"x".repeat(201), 200).unwrap_err(),
            "must be at most 200 characters"
        );
        assert!(line(&"é".repeat(200), 200).is_ok(), "characters, not bytes");
    }

    #[test]
    fn control_characters_are_refused_but_prose_keeps_its_line_breaks() {
        for bad in [
            "bell\u{7}",
            "nul\0",
            "esc\u{1b}[31m",
            "new\nline",
            "c1\u{85}inside",
        ] {
            assert_eq!(
                line(bad, 200).unwrap_err(),
                "must not contain control characters",
                "{bad:?}"
            );
        }
        assert_eq!(prose("Soft.\n\nWarm.", 5000).unwrap(), "Soft.\n\nWarm.");
        assert!(prose("Soft.\u{7}", 5000).is_err());
    }

    #[test]
    fn an_optional_line_may_be_empty() {
        assert_eq!(optional_line(None, 10), Ok(None));
        assert_eq!(optional_line(Some("  "), 10), Ok(None));
        assert_eq!(
            optional_line(Some(" 2nd floor "), 10),
            Ok(Some("2nd floor".into()))
        );
        assert!(optional_line(Some("tab\there"), 10).is_err());
    }
}
