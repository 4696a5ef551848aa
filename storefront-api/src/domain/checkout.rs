//! The client's name for one checkout attempt.

/// The `Idempotency-Key` of a checkout: 1-255 visible ASCII characters (a UUID, say),
/// scoped to the account. The same key with the same request never places a second order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// No key (or an empty one) was sent.
    Missing,
    /// Longer than 255 characters, or not visible ASCII.
    Malformed,
}

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    /// The header's value as sent (surrounding white space is not part of the key).
    pub fn parse(raw: Option<&str>) -> Result<Self, KeyProblem> {
        let key = raw.map(str::trim).unwrap_or_default();
        if key.is_empty() {
            return Err(KeyProblem::Missing);
        }
        if key.len() > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyProblem::Malformed);
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_a_key_and_white_space_around_it_is_not_part_of_it() {
        let key = IdempotencyKey::parse(Some(" 0b8e6a52-8d0e-4b7e-9f63-2f3f5a1c9d10 ")).unwrap();
        assert_eq!(key.as_str(), "0b8e6a52-8d0e-4b7e-9f63-2f3f5a1c9d10");
    }

    #[test]
    fn missing_empty_long_and_invisible_keys_are_refused() {
        assert_eq!(IdempotencyKey::parse(None), Err(KeyProblem::Missing));
        assert_eq!(IdempotencyKey::parse(Some("  ")), Err(KeyProblem::Missing));
        let long = "k".repeat(256);
        assert_eq!(
            IdempotencyKey::parse(Some(&long)),
            Err(KeyProblem::Malformed)
        );
        assert_eq!(
            IdempotencyKey::parse(Some("two words")),
            Err(KeyProblem::Malformed)
        );
        assert!(IdempotencyKey::parse(Some(&"k".repeat(255))).is_ok());
    }
}
