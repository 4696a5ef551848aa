//! Accounts: normalised emails, the password policy, Argon2id hashing and roles.

use std::fmt;

use argon2::{
    Argon2, PasswordHasher, PasswordVerifier,
    password_hash::{PasswordHash, SaltString, rand_core::OsRng},
};

use storefront_client::account::{AddressRequest, PostalAddress};

use super::{FieldError, text};

/// A person's name as they write it.
pub const MAX_FULL_NAME: usize = 200;

/// A syntactically valid email, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalised = raw.trim().to_lowercase();
        if normalised.is_empty() {
            return Err("is required".into());
        }
        if normalised.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let has_dot_domain = normalised
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !email_address::EmailAddress::is_valid(&normalised) || !has_dot_domain {
            return Err(format!("`{}` is not a valid email address", raw.trim()));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "administrator",
    "qwerty1234",
    "passw0rd123",
    "0123456789",
    "abcdefghij",
    "1q2w3e4r5t",
    "football12",
    "baseball12",
    "sunshine12",
];

/// A password that meets the policy; only ever hashed, never stored or logged.
pub struct NewPassword(String);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

impl NewPassword {
    /// Checks the policy, naming what is wrong in words a shopper understands.
    pub fn parse(raw: &str, email: &Email) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!(
                "is too short: use at least {MIN_PASSWORD_CHARS} characters"
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!(
                "is too long: use at most {MAX_PASSWORD_CHARS} characters"
            ));
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err("is one of the most common passwords; choose another".into());
        }
        let distinct = {
            let mut seen: Vec<char> = lower.chars().collect();
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        };
        if distinct < 4 {
            return Err("uses too few different characters".into());
        }
        let local = email.local_part();
        if local.len() >= 4 && lower.contains(local) {
            return Err("must not contain your email address".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// Argon2id with the crate's default (OWASP-recommended) cost, as a PHC string.
    pub fn hash(&self) -> String {
        hash_password(&self.0)
    }
}

/// Hashes any secret with Argon2id; used for passwords that already passed the policy.
pub fn hash_password(plain: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_else(|error| unreachable!("argon2 with default params cannot fail: {error}"))
}

/// True when `plain` matches the stored PHC string.
pub fn verify_password(plain: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(plain.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password nobody knows; verifying against it costs as much as a real
/// check, so a login for an unknown email takes as long as one with a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&uuid::Uuid::new_v4().to_string()))
}

/// Roles are part of the wire types shared with the API's clients.
pub use storefront_client::account::Role;

/// An assigned ISO 3166-1 alpha-2 country code, in upper case.
pub fn parse_country(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_uppercase();
    if code.len() == 2 && code.parse::<iso_country::Country>().is_ok() {
        Ok(code)
    } else {
        Err(format!("`{raw}` is not a two-letter ISO 3166 country code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("Jane.Doe@Example.com").unwrap()
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email().as_str(), "jane.doe@example.com");
        assert!(Email::parse("  ").is_err());
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b").is_err());
    }

    #[test]
    fn password_policy_names_the_problem() {
        assert!(
            NewPassword::parse("short", &email())
                .unwrap_err()
                .contains("too short")
        );
        assert!(
            NewPassword::parse("password123", &email())
                .unwrap_err()
                .contains("common")
        );
        assert!(
            NewPassword::parse("aaaaaaaaaaaa", &email())
                .unwrap_err()
                .contains("different")
        );
        assert!(
            NewPassword::parse("jane.doe-secret!", &email())
                .unwrap_err()
                .contains("email")
        );
        assert!(NewPassword::parse("correct horse battery", &email()).is_ok());
    }

    #[test]
    fn countries_are_assigned_iso_codes() {
        assert_eq!(parse_country(" de ").unwrap(), "DE");
        assert!(parse_country("XX").is_err());
        assert!(parse_country("Germany").is_err());
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = NewPassword::parse("correct horse battery", &email())
            .unwrap()
            .hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not-a-phc-string"));
    }
}

/// A postal address checked: text trimmed, empty optional lines dropped, the country an
/// ISO 3166 code in capitals. Every invalid field is reported at once, so the shopper fixes
/// them in one go.
pub fn parse_postal_address(raw: &PostalAddress) -> Result<PostalAddress, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut required = |field: &str, value: &str, max: usize| {
        text::line(value, max).unwrap_or_else(|message| {
            errors.push(FieldError::new(field, message));
            String::new()
        })
    };
    let full_name = required("full_name", &raw.full_name, MAX_FULL_NAME);
    let line1 = required("line1", &raw.line1, 200);
    let city = required("city", &raw.city, 100);
    let postal_code = required("postal_code", &raw.postal_code, 20);
    let mut optional = |field: &str, value: &Option<String>, max: usize| {
        text::optional_line(value.as_deref(), max).unwrap_or_else(|message| {
            errors.push(FieldError::new(field, message));
            None
        })
    };
    let line2 = optional("line2", &raw.line2, 200);
    let region = optional("region", &raw.region, 100);
    let phone = optional("phone", &raw.phone, 40);
    let country = parse_country(&raw.country)
        .map_err(|message| errors.push(FieldError::new("country", message)))
        .unwrap_or_default();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PostalAddress {
        full_name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
    })
}

/// A saved address to add or replace, already checked.
pub struct AddressInput {
    pub label: Option<String>,
    pub address: PostalAddress,
    pub is_default: bool,
}

impl AddressInput {
    pub const MAX_LABEL_CHARS: usize = 60;

    pub fn parse(request: &AddressRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let label = text::optional_line(request.label.as_deref(), Self::MAX_LABEL_CHARS)
            .map_err(|message| errors.push(FieldError::new("label", message)))
            .unwrap_or_default();
        match parse_postal_address(&request.address) {
            Ok(address) if errors.is_empty() => Ok(Self {
                label,
                address,
                is_default: request.is_default,
            }),
            Ok(_) => Err(errors),
            Err(mut found) => {
                errors.append(&mut found);
                Err(errors)
            }
        }
    }
}

/// What an account holder (or staff) reads about an account: the wire types.
pub mod views {
    pub use storefront_client::account::{Account, Address};
}
