//! Retention campaigns in the shop's terms: the rules a campaign must obey before it may
//! launch (a parse function from the staff's draft, every broken rule naming its field), the
//! offer's wording, and the draw of each enrolled customer into treatment or holdout.
//!
//! The draw is random but reproducible: a customer's place in the queue is a hash of the
//! campaign's seed and their id, so the same campaign, seed and customers always give the
//! same arms. It is stratified by risk band: within each band the holdout keeps its share of
//! everyone enrolled so far (rounded), so low- and high-risk customers are held out alike and
//! the arms stay comparable as automatic enrolments trickle in.

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use storefront_client::staff::campaigns::{
    AudienceRule, CampaignDraft, CampaignMode, Channel, Offer,
};
use uuid::Uuid;

use super::FieldError;
use super::money::{Currency, Money};
use super::order::DiscountValue;
use super::text;

pub const RISK_BANDS: [&str; 3] = ["low", "medium", "high"];

/// A campaign that obeys the shop's rules, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: String,
    pub mode: CampaignMode,
    pub audience: AudienceRule,
    pub offer: CampaignOffer,
    pub channels: Vec<Channel>,
    pub holdout_percent: i32,
    pub frequency_cap_days: i32,
    pub max_recipients: Option<i32>,
}

/// What each treated customer is given: a personal code with these rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignOffer {
    pub value: DiscountValue,
    pub currency: Currency,
    pub min_spend_minor: i64,
    pub days_valid: i32,
}

impl CampaignOffer {
    /// The offer as customers read it: "15 % off your next order", "€5.00 off your next
    /// order of €40.00 or more".
    pub fn headline(&self) -> String {
        let off = match self.value {
            DiscountValue::Percent { basis_points } => {
                if basis_points % 100 == 0 {
                    format!("{} %", basis_points / 100)
                } else {
                    format!("{}.{:02} %", basis_points / 100, basis_points % 100)
                }
            }
            DiscountValue::Fixed { amount_minor } => {
                Money::new(amount_minor, self.currency).to_shopper_string()
            }
        };
        match self.minimum_spend() {
            None => format!("{off} off your next order"),
            Some(minimum) => format!(
                "{off} off your next order of {} or more",
                minimum.to_shopper_string()
            ),
        }
    }

    pub fn minimum_spend(&self) -> Option<Money> {
        (self.min_spend_minor > 0).then(|| Money::new(self.min_spend_minor, self.currency))
    }

    /// When a code issued at `issued_at` stops working — and the customer's measurement
    /// window closes.
    pub fn expires_at(&self, issued_at: DateTime<Utc>) -> DateTime<Utc> {
        issued_at + TimeDelta::days(i64::from(self.days_valid))
    }

    pub fn to_wire(self) -> Offer {
        let (percent_basis_points, amount_minor) = match self.value {
            DiscountValue::Percent { basis_points } => (Some(basis_points), None),
            DiscountValue::Fixed { amount_minor } => (None, Some(amount_minor)),
        };
        Offer {
            headline: self.headline(),
            percent_basis_points,
            amount_minor,
            currency: self.currency.code().to_owned(),
            min_spend_minor: self.min_spend_minor,
            days_valid: self.days_valid,
        }
    }
}

/// Checks a draft: a name; bands among low/medium/high; probabilities within 0-1 and in
/// order; non-negative day counts in order; a percentage (1-100 %) or a fixed amount below
/// the minimum spend; 1-365 days of validity; at least one channel, none twice; a holdout of
/// 1-99 %; a frequency cap of 0-365 days; a positive recipient cap.
pub fn parse_draft(draft: &CampaignDraft) -> Result<NewCampaign, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: &str| errors.push(FieldError::new(field, message));
    let name = text::line(&draft.name, 120)
        .map_err(|message| refuse("name", &message))
        .unwrap_or_default();

    let audience = &draft.audience;
    check_audience("audience", audience, &mut errors);
    let mut refuse = |field: &str, message: &str| errors.push(FieldError::new(field, message));

    let offer = &draft.offer;
    let currency = Currency::parse(&offer.currency)
        .map_err(|message| refuse("offer.currency", &message))
        .ok();
    if offer.min_spend_minor < 0 {
        refuse("offer.min_spend_minor", "must not be negative");
    }
    let value = match (offer.percent_basis_points, offer.amount_minor) {
        (Some(bp), None) if (1..=10_000).contains(&bp) => {
            Some(DiscountValue::Percent { basis_points: bp })
        }
        (Some(_), None) => {
            refuse("offer.percent_basis_points", "must be 1-10000 (0.01-100 %)");
            None
        }
        (None, Some(amount)) if amount <= 0 => {
            refuse("offer.amount_minor", "must be positive");
            None
        }
        (None, Some(amount)) if amount >= offer.min_spend_minor => {
            refuse(
                "offer.amount_minor",
                "must be less than the minimum spend (min_spend_minor), or the order would \
                 come free",
            );
            None
        }
        (None, Some(amount)) => Some(DiscountValue::Fixed {
            amount_minor: amount,
        }),
        _ => {
            refuse(
                "offer.percent_basis_points",
                "give either percent_basis_points or amount_minor",
            );
            None
        }
    };
    if !(1..=365).contains(&offer.days_valid) {
        refuse("offer.days_valid", "must be 1-365 days");
    }

    if draft.channels.is_empty() {
        refuse("channels", "choose at least one of email and web");
    }
    let mut channels = draft.channels.clone();
    channels.sort_by_key(|c| c.as_str());
    channels.dedup();
    if channels.len() != draft.channels.len() {
        refuse("channels", "name each channel once");
    }
    if !(1..=99).contains(&draft.holdout_percent) {
        refuse(
            "holdout_percent",
            "must be 1-99: without a holdout (or without anyone treated) nothing can be measured",
        );
    }
    if !(0..=365).contains(&draft.frequency_cap_days) {
        refuse("frequency_cap_days", "must be 0-365 days");
    }
    if draft.max_recipients.is_some_and(|cap| cap < 1) {
        refuse("max_recipients", "must be at least 1");
    }

    match (errors.is_empty(), value, currency) {
        (true, Some(value), Some(currency)) => Ok(NewCampaign {
            name,
            mode: draft.mode,
            audience: AudienceRule {
                risk_bands: {
                    let mut bands = audience.risk_bands.clone();
                    bands.sort();
                    bands.dedup();
                    bands
                },
                ..audience.clone()
            },
            offer: CampaignOffer {
                value,
                currency,
                min_spend_minor: offer.min_spend_minor,
                days_valid: offer.days_valid,
            },
            channels,
            holdout_percent: draft.holdout_percent,
            frequency_cap_days: draft.frequency_cap_days,
            max_recipients: draft.max_recipients,
        }),
        _ => Err(errors),
    }
}

/// Where an enrolled customer lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arm {
    /// Gets the offer.
    Treatment,
    /// Gets nothing and is never told: the comparison.
    Holdout,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Treatment => "treatment",
            Self::Holdout => "holdout",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Treatment, Self::Holdout]
            .into_iter()
            .find(|arm| arm.as_str() == raw)
    }
}

/// A customer who qualifies, with the score that qualified them.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub account_id: Uuid,
    pub band: String,
    pub probability: f64,
}

/// How many of a campaign's enrolled customers are in each band, and of them held out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stratum {
    pub enrolled: u64,
    pub held_out: u64,
}

/// A customer's place in the campaign's draw: the first 8 bytes of SHA-256 over the seed and
/// the id. Stable across builds and platforms, unlike `std`'s hasher.
pub fn draw_key(seed: i64, account_id: Uuid) -> u64 {
    let digest = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(account_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Draws each candidate's arm. Per band, the holdout after this batch is the rounded share
/// of everyone enrolled in that band; the candidates first in the draw fill what it lacks.
pub fn assign(
    seed: i64,
    holdout_percent: i32,
    strata: impl Fn(&str) -> Stratum,
    candidates: &[Candidate],
) -> Vec<Arm> {
    let share = u64::try_from(holdout_percent.clamp(0, 100)).unwrap_or(0);
    let mut arms = vec![Arm::Treatment; candidates.len()];
    let mut bands: Vec<&str> = candidates.iter().map(|c| c.band.as_str()).collect();
    bands.sort_unstable();
    bands.dedup();
    for band in bands {
        let mut queue: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].band == band)
            .collect();
        queue.sort_by_key(|&i| {
            let id = candidates[i].account_id;
            (draw_key(seed, id), id)
        });
        let before = strata(band);
        let enrolled = before.enrolled + queue.len() as u64;
        let target = (enrolled * share + 50) / 100;
        let new_holdout = usize::try_from(target.saturating_sub(before.held_out))
            .unwrap_or(usize::MAX)
            .min(queue.len());
        for &i in &queue[..new_holdout] {
            arms[i] = Arm::Holdout;
        }
    }
    arms
}

/// Who of `candidates` (most at risk first) is enrolled and in which arm, when at most
/// `recipients_left` more may be offered anything: the longest prefix whose draw treats no
/// more than that (its holdout comes along, so the arms stay in proportion).
pub fn enrolment(
    seed: i64,
    holdout_percent: i32,
    strata: impl Fn(&str) -> Stratum,
    candidates: &[Candidate],
    recipients_left: Option<u64>,
) -> Vec<(Candidate, Arm)> {
    let mut take = candidates.len();
    loop {
        let arms = assign(seed, holdout_percent, &strata, &candidates[..take]);
        let treated = arms.iter().filter(|&&a| a == Arm::Treatment).count() as u64;
        match recipients_left {
            Some(left) if treated > left => {
                // Every treated customer dropped from the end frees one place; dropping one
                // may also move a holdout place, so draw again until it fits.
                let over = usize::try_from(treated - left).unwrap_or(take);
                take = take.saturating_sub(over.max(1));
            }
            _ => {
                return candidates[..take].iter().cloned().zip(arms).collect();
            }
        }
    }
}

/// A personal code: the campaign's prefix and ten characters from an alphabet without the
/// look-alikes (0/O, 1/I/L), so it can be read out and typed back.
pub fn personal_code(rng: &mut impl rand::Rng) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let tail: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("BACK-{tail}")
}

/// The audience's checks, each broken one named under `prefix` (`audience.min_probability`):
/// bands are low, medium and high; probabilities 0-1, the least not above the most; a
/// predicted value not negative; 0-3650 days since the last order, the least not above the
/// most. Segments' rules are checked the same way.
pub fn check_audience(prefix: &str, audience: &AudienceRule, errors: &mut Vec<FieldError>) {
    let mut refuse = |field: &str, message: &str| {
        errors.push(FieldError::new(format!("{prefix}.{field}"), message))
    };
    for band in &audience.risk_bands {
        if !RISK_BANDS.contains(&band.as_str()) {
            refuse("risk_bands", "bands are low, medium and high");
            break;
        }
    }
    let probability_ok = |p: Option<f64>| p.is_none_or(|p| (0.0..=1.0).contains(&p));
    if !probability_ok(audience.min_probability) {
        refuse("min_probability", "must be between 0 and 1");
    }
    if !probability_ok(audience.max_probability) {
        refuse("max_probability", "must be between 0 and 1");
    }
    if let (Some(min), Some(max)) = (audience.min_probability, audience.max_probability)
        && min > max
    {
        refuse("max_probability", "must not be below min_probability");
    }
    if audience.min_predicted_value_minor.is_some_and(|v| v < 0) {
        refuse("min_predicted_value_minor", "must not be negative");
    }
    for (field, days) in [
        (
            "min_days_since_last_order",
            audience.min_days_since_last_order,
        ),
        (
            "max_days_since_last_order",
            audience.max_days_since_last_order,
        ),
    ] {
        if days.is_some_and(|d| !(0..=3650).contains(&d)) {
            refuse(field, "must be 0-3650 days");
        }
    }
    if let (Some(min), Some(max)) = (
        audience.min_days_since_last_order,
        audience.max_days_since_last_order,
    ) && min > max
    {
        refuse(
            "max_days_since_last_order",
            "must not be below min_days_since_last_order",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_client::staff::campaigns::OfferDraft;

    fn draft() -> CampaignDraft {
        CampaignDraft {
            name: "Win back".into(),
            audience: AudienceRule::default(),
            offer: OfferDraft {
                percent_basis_points: Some(1500),
                amount_minor: None,
                currency: "EUR".into(),
                min_spend_minor: 0,
                days_valid: 14,
            },
            channels: Channel::ALL.to_vec(),
            holdout_percent: 10,
            frequency_cap_days: 30,
            max_recipients: None,
            mode: CampaignMode::OneOff,
        }
    }

    fn fields(draft: &CampaignDraft) -> Vec<String> {
        parse_draft(draft)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_sound_draft_parses_and_reads_as_customers_will_see_it() {
        let campaign = parse_draft(&draft()).unwrap();
        assert_eq!(campaign.offer.headline(), "15 % off your next order");
        let mut fixed = draft();
        fixed.offer.percent_basis_points = None;
        fixed.offer.amount_minor = Some(500);
        fixed.offer.min_spend_minor = 4000;
        assert_eq!(
            parse_draft(&fixed).unwrap().offer.headline(),
            "€5.00 off your next order of €40.00 or more"
        );
    }

    #[test]
    fn every_broken_rule_names_its_field() {
        let mut bad = draft();
        bad.holdout_percent = 0;
        assert_eq!(fields(&bad), ["holdout_percent"]);
        bad.holdout_percent = 100;
        assert_eq!(fields(&bad), ["holdout_percent"]);

        let mut bad = draft();
        bad.offer.percent_basis_points = None;
        bad.offer.amount_minor = Some(5000);
        bad.offer.min_spend_minor = 3000;
        assert_eq!(
            fields(&bad),
            ["offer.amount_minor"],
            "larger than the minimum"
        );

        let mut bad = draft();
        bad.name = " ".into();
        bad.channels = Vec::new();
        bad.audience.risk_bands = vec!["severe".into()];
        bad.audience.min_probability = Some(0.8);
        bad.audience.max_probability = Some(0.2);
        bad.offer.days_valid = 0;
        bad.max_recipients = Some(0);
        assert_eq!(
            fields(&bad),
            [
                "name",
                "audience.risk_bands",
                "audience.max_probability",
                "offer.days_valid",
                "channels",
                "max_recipients"
            ]
        );
    }

    fn candidates(n: usize, band: &str) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                account_id: Uuid::from_u128(((band.len() as u128) << 64) | (i as u128 + 1)),
                band: band.into(),
                probability: 0.5,
            })
            .collect()
    }

    fn held_out(arms: &[Arm]) -> usize {
        arms.iter().filter(|&&a| a == Arm::Holdout).count()
    }

    #[test]
    fn the_draw_is_reproducible_stratified_and_differs_between_seeds() {
        let mut everyone = candidates(200, "high");
        everyone.extend(candidates(50, "low"));
        let none = |_: &str| Stratum::default();
        let arms = assign(7, 10, none, &everyone);
        assert_eq!(arms, assign(7, 10, none, &everyone), "same seed, same arms");
        assert_ne!(
            arms,
            assign(8, 10, none, &everyone),
            "another seed, another draw"
        );
        assert_eq!(held_out(&arms[..200]), 20, "10 % of the high band");
        assert_eq!(held_out(&arms[200..]), 5, "10 % of the low band");
    }

    #[test]
    fn later_batches_keep_each_bands_share() {
        // 4 enrolled before, none held out: 10 % of 4 + 16 rounds to 2.
        let before = |_: &str| Stratum {
            enrolled: 4,
            held_out: 0,
        };
        assert_eq!(held_out(&assign(1, 10, before, &candidates(16, "high"))), 2);
        // Already over its share: the batch is all treated.
        let over = |_: &str| Stratum {
            enrolled: 10,
            held_out: 5,
        };
        assert_eq!(held_out(&assign(1, 10, over, &candidates(10, "high"))), 0);
    }

    #[test]
    fn the_recipient_cap_limits_who_is_offered_and_keeps_the_holdout_in_proportion() {
        let everyone = candidates(100, "high");
        let enrolled = enrolment(3, 20, |_| Stratum::default(), &everyone, Some(40));
        let treated = enrolled
            .iter()
            .filter(|(_, arm)| *arm == Arm::Treatment)
            .count();
        assert_eq!(treated, 40);
        assert_eq!(enrolled.len(), 50, "20 % of 50 held out");
        assert_eq!(enrolled[0].0, everyone[0], "most at risk first");
        assert!(enrolment(3, 20, |_| Stratum::default(), &everyone, Some(0)).is_empty());
    }
}
