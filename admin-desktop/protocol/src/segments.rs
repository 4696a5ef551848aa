//! Customer groups and segments as staff type them: a static group is a name (staff add its
//! members one by one), a dynamic segment a name and a rule over order history and the churn
//! engine's latest scores. Only typing is checked here; the shop's rules (a rule that asks for
//! something, a name not taken) are the API's, and its refusals name the field.

use serde::{Deserialize, Serialize};
use storefront_client::money::Money;
use storefront_client::staff::segments::{Segment, SegmentDraft, SegmentKind, SegmentRule};

use crate::ConsoleError;
use crate::campaigns::{check_bands, currency_of, optional_amount, whole};

/// The new-group form as typed. Empty text means "no condition".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentForm {
    pub name: String,
    /// A rule decides who is in (dynamic); otherwise staff add members (a static group).
    pub dynamic: bool,
    /// The risk bands ticked ([`RISK_BANDS`]); none ticked is every band.
    pub bands: Vec<String>,
    /// Predicted spend over the next year, at least (`50`, `49.90`).
    pub min_predicted_value: String,
    pub min_days_since_last_order: String,
    pub max_days_since_last_order: String,
    pub min_orders: String,
    /// Spent so far, at least.
    pub min_spent: String,
    /// ISO 4217: the amounts' currency.
    pub currency: String,
}

impl Default for SegmentForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            dynamic: false,
            bands: Vec::new(),
            min_predicted_value: String::new(),
            min_days_since_last_order: String::new(),
            max_days_since_last_order: String::new(),
            min_orders: String::new(),
            min_spent: String::new(),
            currency: "EUR".to_owned(),
        }
    }
}

impl SegmentForm {
    pub fn to_draft(&self) -> Result<SegmentDraft, ConsoleError> {
        if !self.dynamic {
            return Ok(SegmentDraft {
                name: self.name.clone(),
                kind: SegmentKind::Static,
                rule: None,
            });
        }
        let currency = currency_of(&self.currency)?;
        check_bands(&self.bands)?;
        let rule = SegmentRule {
            risk_bands: self.bands.clone(),
            min_probability: None,
            max_probability: None,
            min_predicted_value_minor: optional_amount(
                "min_predicted_value",
                &self.min_predicted_value,
                currency,
            )?,
            min_days_since_last_order: whole(
                "min_days_since_last_order",
                &self.min_days_since_last_order,
            )?,
            max_days_since_last_order: whole(
                "max_days_since_last_order",
                &self.max_days_since_last_order,
            )?,
            min_orders: whole("min_orders", &self.min_orders)?,
            min_spent_minor: optional_amount("min_spent", &self.min_spent, currency)?,
        };
        Ok(SegmentDraft {
            name: self.name.clone(),
            kind: SegmentKind::Dynamic,
            rule: Some(rule),
        })
    }
}

/// What a segment is, in one line: "Group: staff add members", or its rule in words.
pub fn describe(segment: &Segment, currency: storefront_client::money::Currency) -> String {
    let Some(rule) = segment
        .rule
        .as_ref()
        .filter(|_| segment.kind == SegmentKind::Dynamic)
    else {
        return "Group: staff add its members".to_owned();
    };
    let mut parts = Vec::new();
    if !rule.risk_bands.is_empty() {
        parts.push(format!("{} risk", rule.risk_bands.join(" or ")));
    }
    let percent = |p: f64| format!("{:.0} %", p * 100.0);
    match (rule.min_probability, rule.max_probability) {
        (Some(from), Some(to)) => {
            parts.push(format!("churn chance {}–{}", percent(from), percent(to)))
        }
        (Some(from), None) => parts.push(format!("churn chance at least {}", percent(from))),
        (None, Some(to)) => parts.push(format!("churn chance at most {}", percent(to))),
        (None, None) => {}
    }
    if let Some(value) = rule.min_predicted_value_minor {
        parts.push(format!(
            "predicted to spend at least {} next year",
            Money::new(value, currency).to_shopper_string()
        ));
    }
    match (
        rule.min_days_since_last_order,
        rule.max_days_since_last_order,
    ) {
        (Some(from), Some(to)) => parts.push(format!("last order {from}–{to} days ago")),
        (Some(from), None) => parts.push(format!("no order in the last {from} days")),
        (None, Some(to)) => parts.push(format!("last order at most {to} days ago")),
        (None, None) => {}
    }
    if let Some(orders) = rule.min_orders {
        parts.push(format!("at least {orders} orders"));
    }
    if let Some(spent) = rule.min_spent_minor {
        parts.push(format!(
            "spent at least {}",
            Money::new(spent, currency).to_shopper_string()
        ));
    }
    if parts.is_empty() {
        "Every customer".to_owned()
    } else {
        format!("Segment: {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_a_name_and_a_segment_a_typed_rule() {
        let group = SegmentForm {
            name: "Press".into(),
            min_orders: "not read".into(),
            ..SegmentForm::default()
        };
        let draft = group.to_draft().expect("a group ignores the rule fields");
        assert_eq!(draft.kind, SegmentKind::Static);
        assert!(draft.rule.is_none());

        let segment = SegmentForm {
            name: "Slipping big spenders".into(),
            dynamic: true,
            bands: vec!["high".into()],
            min_predicted_value: "49.90".into(),
            min_days_since_last_order: "60".into(),
            min_orders: "2".into(),
            ..SegmentForm::default()
        };
        let draft = segment.to_draft().expect("valid");
        let rule = draft.rule.clone().expect("a rule");
        assert_eq!(rule.min_predicted_value_minor, Some(4990));
        assert_eq!(rule.min_days_since_last_order, Some(60));
        assert_eq!(rule.min_orders, Some(2));
        let described = describe(
            &Segment {
                id: uuid::Uuid::nil(),
                name: draft.name,
                kind: draft.kind,
                rule: draft.rule,
                created_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            },
            currency_of("EUR").unwrap(),
        );
        assert_eq!(
            described,
            "Segment: high risk; predicted to spend at least €49.90 next year; \
             no order in the last 60 days; at least 2 orders"
        );

        let typo = SegmentForm {
            min_spent: "lots".into(),
            ..segment
        };
        let error = typo.to_draft().unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Invalid { field, .. } if field == "min_spent"),
            "{error:?}"
        );
    }
}
