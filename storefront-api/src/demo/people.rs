//! Demo accounts: the admin, the staff member and the customers, about 70% of them with a
//! default address (some with a second one) in Germany, France, the Netherlands, Austria,
//! Belgium, Italy or Spain.
//!
//! Pure: everything comes from the RNG it is given.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::{
    ADMIN_EMAIL, ADMIN_NAME, CUSTOMER_COUNT, HISTORY, STAFF_EMAIL, STAFF_NAME, customer_email,
    new_id, pick,
    words::{
        COUNTRIES, Country, DUTCH_POSTCODE_LETTERS, PostalStyle, SECOND_ADDRESS_LABELS, StreetStyle,
    },
};
use storefront_client::account::PostalAddress;

use crate::domain::account::Role;

const ADDRESS_SHARE: f64 = 0.7;
/// Share of customers with an address who have a second one.
const SECOND_ADDRESS_SHARE: f64 = 0.2;
const PHONE_SHARE: f64 = 0.6;
const LINE2_SHARE: f64 = 0.15;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    /// Lower-case, as `Email::parse` would leave it.
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Per mille of customers who said yes to marketing emails when they signed up...
const MARKETING_YES_PER_MILLE: u128 = 450;
/// ...and who said no; the others were never asked (and get no marketing email either).
const MARKETING_NO_PER_MILLE: u128 = 100;

impl Account {
    /// What a customer answered about marketing emails at sign-up, if they were asked. Read
    /// off the account's id rather than drawn, so that adding it moved no other draw.
    pub fn marketing_consent(&self) -> Option<bool> {
        if self.role != Role::Customer {
            return None;
        }
        match self.id.as_u128() % 1000 {
            n if n < MARKETING_YES_PER_MILLE => Some(true),
            n if n < MARKETING_YES_PER_MILLE + MARKETING_NO_PER_MILLE => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: Uuid,
    pub account_id: Uuid,
    pub label: Option<String>,
    pub postal: PostalAddress,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

pub(super) fn generate(
    rng: &mut ChaCha8Rng,
    ends_at: DateTime<Utc>,
) -> (Vec<Account>, Vec<Address>) {
    // The shop opened when its history starts; its staff were there first. A later load
    // reads the end back from the admin's account (`insert::loaded_end`).
    let opened = ends_at - HISTORY;
    let mut accounts = vec![
        Account {
            id: new_id(rng),
            email: ADMIN_EMAIL.to_owned(),
            full_name: ADMIN_NAME.to_owned(),
            role: Role::Admin,
            created_at: opened,
        },
        Account {
            id: new_id(rng),
            email: STAFF_EMAIL.to_owned(),
            full_name: STAFF_NAME.to_owned(),
            role: Role::Staff,
            created_at: opened + TimeDelta::days(3),
        },
    ];
    let mut addresses = Vec::new();
    for number in 1..=CUSTOMER_COUNT {
        let country = home_country(rng);
        let full_name = format!(
            "{} {}",
            pick(rng, country.first_names),
            pick(rng, country.last_names)
        );
        let customer = Account {
            id: new_id(rng),
            email: customer_email(number),
            full_name,
            role: Role::Customer,
            created_at: signup_moment(rng, ends_at),
        };
        if rng.random_bool(ADDRESS_SHARE) {
            addresses.push(address(
                rng,
                country,
                &customer,
                Some("Home"),
                true,
                ends_at,
            ));
            if rng.random_bool(SECOND_ADDRESS_SHARE) {
                let elsewhere = if rng.random_bool(0.8) {
                    country
                } else {
                    home_country(rng)
                };
                let label = pick(rng, SECOND_ADDRESS_LABELS);
                addresses.push(address(
                    rng,
                    elsewhere,
                    &customer,
                    Some(label),
                    false,
                    ends_at,
                ));
            }
        }
        accounts.push(customer);
    }
    (accounts, addresses)
}

/// When a customer signed up. Any instant of the history is possible, but sign-ups were
/// strongest when the shop opened and have tapered off since: the density falls linearly
/// towards the end, so three customers in four joined in the first year and most have
/// a long history (of orders, or of lapsing) to learn churn from. One draw and integer
/// arithmetic, so it is the same on every platform.
fn signup_moment(rng: &mut ChaCha8Rng, ends_at: DateTime<Utc>) -> DateTime<Utc> {
    let span = HISTORY.num_seconds();
    let draw = rng.random_range(1..span);
    // P(ago ≤ x) = x² / span² when ago = √(draw × span) with draw uniform.
    let ago = (draw * span).isqrt().clamp(1, span - 1);
    ends_at - TimeDelta::seconds(ago)
}

pub(super) fn home_country(rng: &mut ChaCha8Rng) -> &'static Country {
    let total: u32 = COUNTRIES.iter().map(|country| country.weight).sum();
    let mut ticket = rng.random_range(0..total);
    for country in COUNTRIES {
        if ticket < country.weight {
            return country;
        }
        ticket -= country.weight;
    }
    &COUNTRIES[0]
}

pub(super) fn address(
    rng: &mut ChaCha8Rng,
    country: &Country,
    customer: &Account,
    label: Option<&str>,
    is_default: bool,
    ends_at: DateTime<Utc>,
) -> Address {
    let city = pick(rng, country.cities);
    let street = pick(rng, country.streets);
    let house = rng.random_range(1..=180);
    let line1 = match country.street_style {
        StreetStyle::NameNumber => format!("{street} {house}"),
        StreetStyle::NumberName => format!("{house} {street}"),
        StreetStyle::NameCommaNumber => format!("{street}, {house}"),
    };
    let line2 = rng.random_bool(LINE2_SHARE).then(|| {
        let pattern = pick(rng, country.line2);
        fill_digits(rng, pattern)
    });
    let (lowest, highest) = city.postal_range;
    let code = rng.random_range(lowest..=highest);
    let postal_code = match country.postal_style {
        PostalStyle::FiveDigits => format!("{code:05}"),
        PostalStyle::FourDigits => format!("{code:04}"),
        PostalStyle::FourDigitsTwoLetters => {
            let letter = |rng: &mut ChaCha8Rng| {
                char::from(
                    DUTCH_POSTCODE_LETTERS[rng.random_range(0..DUTCH_POSTCODE_LETTERS.len())],
                )
            };
            format!("{code:04} {}{}", letter(rng), letter(rng))
        }
    };
    let phone = rng
        .random_bool(PHONE_SHARE)
        .then(|| fill_digits(rng, country.phone));
    // Saved some minutes to days after signing up, but never after the end.
    let created_at =
        (customer.created_at + TimeDelta::minutes(rng.random_range(2..=4 * 24 * 60))).min(ends_at);
    Address {
        id: new_id(rng),
        account_id: customer.id,
        label: label.map(str::to_owned),
        postal: PostalAddress {
            full_name: customer.full_name.clone(),
            line1,
            line2,
            city: city.name.to_owned(),
            region: None,
            postal_code,
            country: country.code.to_owned(),
            phone,
        },
        is_default,
        created_at,
    }
}

/// Replaces every `#` in a pattern with a random digit.
fn fill_digits(rng: &mut ChaCha8Rng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| match c {
            '#' => char::from(b'0' + rng.random_range(0..10u8)),
            other => other,
        })
        .collect()
}
