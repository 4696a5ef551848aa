//! An automatic promotion as staff type it into the promotions form, and how it becomes the
//! API's draft. Only typing is checked here (a whole number where one belongs, a percentage,
//! an amount in the promotion's currency, a date); the shop's rules — tiers that ascend, a
//! window that ends after it starts — are the API's, and its refusals name the field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use storefront_client::money::{Currency, Money};
use storefront_client::staff::promotions::{
    PromotionDraft, PromotionRule, PromotionScope, QuantityTier, SpendTier,
};
use uuid::Uuid;

use crate::ConsoleError;
use crate::campaigns::{currency_of, hundredths_of_percent, optional_amount, whole};

/// Tier rows the form offers.
pub const TIER_ROWS: usize = 3;

/// What a promotion gives, as the form's first choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// Buy X, get Y at a percentage off ("3 for 2": buy 2, get 1 at 100 %).
    #[default]
    BuyXGetY,
    /// From a number of units, a percentage off each.
    QuantityTiers,
    /// From an amount spent, a percentage (`10 %`) or an amount (`5.00`) off.
    SpendTiers,
    FreeShipping,
}

impl PromotionKind {
    pub const ALL: [Self; 4] = [
        Self::BuyXGetY,
        Self::QuantityTiers,
        Self::SpendTiers,
        Self::FreeShipping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuyXGetY => "buy_x_get_y",
            Self::QuantityTiers => "quantity_tiers",
            Self::SpendTiers => "spend_tiers",
            Self::FreeShipping => "free_shipping",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::BuyXGetY => "Buy X, get Y",
            Self::QuantityTiers => "Quantity tiers",
            Self::SpendTiers => "Spend tiers",
            Self::FreeShipping => "Free shipping",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One tier row as typed: from `threshold` (units, or an amount for spend tiers), `off`
/// (`10 %`; for spend tiers also an amount, `5.00`). Empty rows are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TierForm {
    pub threshold: String,
    pub off: String,
}

/// The promotions form as typed. Empty text means "none" where a limit is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromotionForm {
    pub title: String,
    pub kind: PromotionKind,
    pub buy: String,
    pub get: String,
    /// Buy X get Y: the percentage off the Y units (`100` for free).
    pub percent_off: String,
    pub tiers: Vec<TierForm>,
    /// Free shipping from this much spent, in `currency`.
    pub min_spend: String,
    pub include_express: bool,
    /// A category (and its subcategories); `None` for every product.
    pub category_id: Option<Uuid>,
    pub combines: bool,
    /// At most this many orders; empty for no limit.
    pub budget_uses: String,
    /// At most this much given in all, in `currency`; empty for no limit.
    pub budget_amount: String,
    /// The last day it runs (`2027-01-31`, through that day UTC); empty for no end.
    pub ends_on: String,
    pub currency: String,
}

impl Default for PromotionForm {
    /// "3 for 2" on everything, in the demo shop's currency.
    fn default() -> Self {
        Self {
            title: String::new(),
            kind: PromotionKind::BuyXGetY,
            buy: "2".to_owned(),
            get: "1".to_owned(),
            percent_off: "100".to_owned(),
            tiers: vec![TierForm::default(); TIER_ROWS],
            min_spend: String::new(),
            include_express: false,
            category_id: None,
            combines: true,
            budget_uses: String::new(),
            budget_amount: String::new(),
            ends_on: String::new(),
            currency: "EUR".to_owned(),
        }
    }
}

impl PromotionForm {
    /// The API's draft, or the first field staff must correct.
    pub fn to_draft(&self) -> Result<PromotionDraft, ConsoleError> {
        let currency = currency_of(&self.currency)?;
        let amount = |field: &str, text: &str| optional_amount(field, text, currency);
        let percent = |field: &str, text: &str| -> Result<u32, ConsoleError> {
            hundredths_of_percent(text).map_err(|message| ConsoleError::invalid(field, message))
        };
        let units = |field: &str, text: &str| -> Result<u32, ConsoleError> {
            whole(field, text)?
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| ConsoleError::invalid(field, "is required"))
        };
        let rows =
            self.tiers.iter().enumerate().filter(|(_, tier)| {
                !(tier.threshold.trim().is_empty() && tier.off.trim().is_empty())
            });
        let rule = match self.kind {
            PromotionKind::BuyXGetY => PromotionRule::BuyXGetY {
                buy: units("buy", &self.buy)?,
                get: units("get", &self.get)?,
                off_basis_points: percent("percent_off", &self.percent_off)?,
            },
            PromotionKind::QuantityTiers => PromotionRule::QuantityTiers {
                tiers: rows
                    .map(|(n, tier)| {
                        Ok(QuantityTier {
                            min_quantity: units(&format!("tiers[{n}].threshold"), &tier.threshold)?,
                            off_basis_points: percent(&format!("tiers[{n}].off"), &tier.off)?,
                        })
                    })
                    .collect::<Result<_, ConsoleError>>()?,
            },
            PromotionKind::SpendTiers => PromotionRule::SpendTiers {
                tiers: rows
                    .map(|(n, tier)| {
                        let off_field = format!("tiers[{n}].off");
                        let threshold_field = format!("tiers[{n}].threshold");
                        let min_spend_minor = amount(&threshold_field, &tier.threshold)?
                            .ok_or_else(|| {
                                ConsoleError::invalid(&threshold_field, "is required")
                            })?;
                        let (off_basis_points, off_minor) = if tier.off.trim().ends_with('%') {
                            (Some(percent(&off_field, &tier.off)?), None)
                        } else {
                            let off = amount(&off_field, &tier.off)?.ok_or_else(|| {
                                ConsoleError::invalid(&off_field, "is required: 10 % or 5.00")
                            })?;
                            (None, Some(off))
                        };
                        Ok(SpendTier {
                            min_spend_minor,
                            off_basis_points,
                            off_minor,
                        })
                    })
                    .collect::<Result<_, ConsoleError>>()?,
            },
            PromotionKind::FreeShipping => PromotionRule::FreeShipping {
                min_spend_minor: amount("min_spend", &self.min_spend)?.unwrap_or(0),
                include_express: self.include_express,
            },
        };
        let ends_at = match self.ends_on.trim() {
            "" => None,
            text => {
                let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                    ConsoleError::invalid(
                        "ends_on",
                        format!("`{text}` is not a date like 2027-01-31"),
                    )
                })?;
                // Through the whole of its last day.
                day.succ_opt()
                    .and_then(|next| next.and_hms_opt(0, 0, 0))
                    .map(|midnight| midnight.and_utc())
            }
        };
        Ok(PromotionDraft {
            title: self.title.trim().to_owned(),
            rule,
            scope: match self.category_id {
                None => PromotionScope::All,
                Some(id) => PromotionScope::Categories {
                    category_ids: vec![id],
                },
            },
            currency: currency.code().to_owned(),
            starts_at: None,
            ends_at,
            combines: self.combines,
            budget_uses: whole("budget_uses", &self.budget_uses)?,
            budget_minor: amount("budget_amount", &self.budget_amount)?,
            segment_id: None,
        })
    }
}

/// A promotion's rule in a few words, as the list shows it.
pub fn describe(rule: &PromotionRule, currency: Currency) -> String {
    let percent = |basis_points: u32| {
        let whole = basis_points / 100;
        match basis_points % 100 {
            0 => format!("{whole} %"),
            cents => format!("{whole}.{cents:02} %"),
        }
    };
    let money = |minor: i64| Money::new(minor, currency).to_shopper_string();
    match rule {
        PromotionRule::BuyXGetY {
            buy,
            get,
            off_basis_points: 10_000,
        } => format!("buy {buy}, get {get} free"),
        PromotionRule::BuyXGetY {
            buy,
            get,
            off_basis_points,
        } => format!("buy {buy}, get {get} at {} off", percent(*off_basis_points)),
        PromotionRule::QuantityTiers { tiers } => tiers
            .iter()
            .map(|tier| {
                format!(
                    "{} off from {} units",
                    percent(tier.off_basis_points),
                    tier.min_quantity
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        PromotionRule::SpendTiers { tiers } => tiers
            .iter()
            .map(|tier| {
                let off = match (tier.off_basis_points, tier.off_minor) {
                    (Some(basis_points), _) => percent(basis_points),
                    (None, Some(minor)) => money(minor),
                    (None, None) => String::new(),
                };
                format!("{off} off from {}", money(tier.min_spend_minor))
            })
            .collect::<Vec<_>>()
            .join("; "),
        PromotionRule::FreeShipping {
            min_spend_minor,
            include_express,
        } => format!(
            "free {}shipping from {}",
            if *include_express { "" } else { "standard " },
            money(*min_spend_minor)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_tiers_take_a_percentage_or_an_amount_and_skip_empty_rows() {
        let form = PromotionForm {
            title: " Spend more ".into(),
            kind: PromotionKind::SpendTiers,
            tiers: vec![
                TierForm {
                    threshold: "50".into(),
                    off: "5.00".into(),
                },
                TierForm::default(),
                TierForm {
                    threshold: "100".into(),
                    off: "12.5 %".into(),
                },
            ],
            budget_uses: "500".into(),
            ends_on: "2027-01-31".into(),
            ..PromotionForm::default()
        };
        let draft = form.to_draft().unwrap();
        assert_eq!(draft.title, "Spend more");
        assert_eq!(
            draft.rule,
            PromotionRule::SpendTiers {
                tiers: vec![
                    SpendTier {
                        min_spend_minor: 5000,
                        off_basis_points: None,
                        off_minor: Some(500),
                    },
                    SpendTier {
                        min_spend_minor: 10_000,
                        off_basis_points: Some(1250),
                        off_minor: None,
                    },
                ]
            }
        );
        assert_eq!(draft.budget_uses, Some(500));
        assert_eq!(
            draft.ends_at.unwrap().to_rfc3339(),
            "2027-02-01T00:00:00+00:00"
        );
        let euro = Currency::parse("EUR").unwrap();
        assert_eq!(
            describe(&draft.rule, euro),
            "€5.00 off from €50.00; 12.50 % off from €100.00"
        );
    }

    #[test]
    fn a_mistyped_field_is_named() {
        let bad = PromotionForm {
            buy: "two".into(),
            ..PromotionForm::default()
        };
        let error = bad.to_draft().unwrap_err();
        assert!(error.to_string().contains("two"), "{error}");
        let date = PromotionForm {
            ends_on: "31/01/2027".into(),
            ..PromotionForm::default()
        };
        assert!(
            date.to_draft()
                .unwrap_err()
                .to_string()
                .contains("2027-01-31")
        );
        assert_eq!(
            describe(
                &PromotionForm::default().to_draft().unwrap().rule,
                Currency::parse("EUR").unwrap()
            ),
            "buy 2, get 1 free"
        );
    }
}
