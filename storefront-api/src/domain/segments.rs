//! The rules for a new customer segment: a unique name of 1-80 characters; a static group
//! has no rule, a dynamic segment has one, checked like a campaign's audience (bands, 0-1
//! probabilities, days since the last order) plus its order-history conditions.

use storefront_client::staff::campaigns::AudienceRule;
use storefront_client::staff::segments::{SegmentDraft, SegmentKind, SegmentRule};

use super::{FieldError, campaigns::check_audience, text};

/// A segment that obeys the shop's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSegment {
    pub name: String,
    pub kind: SegmentKind,
    /// Set exactly when the segment is dynamic.
    pub rule: Option<SegmentRule>,
}

/// The churn and recency conditions of a rule, as a campaign's audience states them.
pub fn audience_of(rule: &SegmentRule) -> AudienceRule {
    AudienceRule {
        risk_bands: rule.risk_bands.clone(),
        min_probability: rule.min_probability,
        max_probability: rule.max_probability,
        min_predicted_value_minor: rule.min_predicted_value_minor,
        min_days_since_last_order: rule.min_days_since_last_order,
        max_days_since_last_order: rule.max_days_since_last_order,
        exclude_opted_out: false,
        segment_id: None,
    }
}

pub fn parse_new_segment(draft: &SegmentDraft) -> Result<NewSegment, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = text::line(&draft.name, 80)
        .map_err(|message| errors.push(FieldError::new("name", message)))
        .unwrap_or_default();
    match (draft.kind, &draft.rule) {
        (SegmentKind::Static, Some(_)) => errors.push(FieldError::new(
            "rule",
            "a static group has no rule: staff add its members",
        )),
        (SegmentKind::Dynamic, None) => {
            errors.push(FieldError::new("rule", "is required for a dynamic segment"))
        }
        (SegmentKind::Dynamic, Some(rule)) => {
            check_audience("rule", &audience_of(rule), &mut errors);
            if rule.min_orders.is_some_and(|orders| orders < 0) {
                errors.push(FieldError::new("rule.min_orders", "must not be negative"));
            }
            if rule.min_spent_minor.is_some_and(|spent| spent < 0) {
                errors.push(FieldError::new(
                    "rule.min_spent_minor",
                    "must not be negative",
                ));
            }
        }
        (SegmentKind::Static, None) => {}
    }
    if errors.is_empty() {
        Ok(NewSegment {
            name,
            kind: draft.kind,
            rule: draft.rule.clone(),
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_belongs_to_a_dynamic_segment_and_is_checked() {
        let draft = |kind, rule| SegmentDraft {
            name: "High risk, high value".into(),
            kind,
            rule,
        };
        let good = SegmentRule {
            risk_bands: vec!["high".into()],
            min_predicted_value_minor: Some(30_000),
            ..SegmentRule::default()
        };
        assert!(parse_new_segment(&draft(SegmentKind::Dynamic, Some(good.clone()))).is_ok());
        let fields = |draft: SegmentDraft| -> Vec<String> {
            parse_new_segment(&draft)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(draft(SegmentKind::Static, Some(good))), ["rule"]);
        assert_eq!(fields(draft(SegmentKind::Dynamic, None)), ["rule"]);
        let bad = SegmentRule {
            risk_bands: vec!["severe".into()],
            max_probability: Some(1.5),
            min_orders: Some(-1),
            ..SegmentRule::default()
        };
        assert_eq!(
            fields(draft(SegmentKind::Dynamic, Some(bad))),
            ["rule.risk_bands", "rule.max_probability", "rule.min_orders"]
        );
    }
}
