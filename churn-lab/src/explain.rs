//! Churn drivers in the shop's words. A [`Contribution`] names a feature and two numbers; staff
//! should read "last order 67 days ago, 42 days past their usual 25-day rhythm". One wording per
//! feature of [`crate::features`], using the customer's other features where they say more
//! than the one that drives the score (recency against their own rhythm, the 90-day trend as
//! the two order counts it compares).
//!
//! Amounts are written as plain numbers with two decimals: churn-lab knows amounts in major
//! units but not the shop's currency, which the caller shows around them if it wants.

use crate::artifact::Contribution;
use crate::features::MISSING;

const LAST_90_DAYS: &str = " in the last 90 days";

/// `contribution` as staff read it, with `features` the same customer's named features (the
/// feature the contribution is about included).
pub fn describe(contribution: &Contribution, features: &[(String, f64)]) -> String {
    let feature = |name: &str| features.iter().find(|(n, _)| n == name).map(|&(_, v)| v);
    let value = contribution.value;
    let typical = contribution.typical;
    // "2 orders in the last 90 days (typical customer: 1)"
    let counted = |singular: &str, plural: &str, when: &str| {
        format!(
            "{}{when} (typical customer: {})",
            count(value, singular, plural),
            number(typical)
        )
    };
    match contribution.feature.as_str() {
        "recency_days" => match feature("interval_mean_days").filter(|&i| i != MISSING) {
            Some(rhythm) => against_rhythm(value, rhythm),
            None => format!(
                "last order {} ago (typical customer: {})",
                days(value),
                days(typical)
            ),
        },
        "recency_ratio" if value == MISSING => one_order_day(),
        "recency_ratio" => {
            match (
                feature("recency_days"),
                feature("interval_mean_days").filter(|&i| i != MISSING),
            ) {
                (Some(recency), Some(rhythm)) => against_rhythm(recency, rhythm),
                _ => format!(
                    "{} times their usual gap since the last order (typical customer: {})",
                    number(value),
                    number(typical)
                ),
            }
        }
        "frequency" => counted("order", "orders", " so far"),
        "purchase_days" if value <= 1.0 => format!(
            "has ordered on one day only (typical customer: {} days)",
            number(typical)
        ),
        "purchase_days" => format!(
            "ordered on {} different days (typical customer: {})",
            number(value),
            number(typical)
        ),
        "monetary_total" => format!(
            "spent {} in total, {} than the typical customer",
            money(value),
            more_or_less(value, typical)
        ),
        "monetary_mean" => format!(
            "spends {} per order than the typical customer ({} vs {})",
            more_or_less(value, typical),
            money(value),
            money(typical)
        ),
        "monetary_max" => format!(
            "largest order {} (typical customer: {})",
            money(value),
            money(typical)
        ),
        "items_per_order" => format!(
            "{:.1} items per order (typical customer: {:.1})",
            value, typical
        ),
        "tenure_days" => format!(
            "first order {} ago (typical customer: {})",
            days(value),
            days(typical)
        ),
        "interval_mean_days" if value == MISSING => one_order_day(),
        "interval_mean_days" => format!(
            "orders every {} on average (typical customer: {})",
            days(value),
            typical_interval(typical, "every ")
        ),
        "interval_std_days" if value == MISSING => one_order_day(),
        "interval_std_days" => format!(
            "gaps between orders vary by {} (typical customer: {})",
            days(value),
            typical_interval(typical, "")
        ),
        "orders_30d" => counted("order", "orders", " in the last 30 days"),
        "orders_90d" => counted("order", "orders", " in the last 90 days"),
        "orders_180d" => counted("order", "orders", " in the last 180 days"),
        "trend_90d" => match (feature("orders_90d"), feature("orders_180d")) {
            (Some(last), Some(half_year)) => {
                let before = half_year - last;
                if last < before {
                    format!(
                        "orders fell from {} to {} in the last 90 days",
                        number(before),
                        number(last)
                    )
                } else if last > before {
                    format!(
                        "orders rose from {} to {} in the last 90 days",
                        number(before),
                        number(last)
                    )
                } else {
                    format!(
                        "{} in the last 90 days, as in the 90 days before",
                        count(last, "order", "orders")
                    )
                }
            }
            _ => format!(
                "order trend over 90 days {:+.2} (typical customer: {:+.2})",
                value, typical
            ),
        },
        "refunds" => counted("refund", "refunds", ""),
        "refund_share" => format!(
            "refunds took back {:.0}% of what they spent (typical customer: {:.0}%)",
            100.0 * value,
            100.0 * typical
        ),
        "cancellations" => counted("cancelled order", "cancelled orders", ""),
        "sessions_90d" => counted("visit", "visits", LAST_90_DAYS),
        "product_views_90d" => counted("product viewed", "products viewed", LAST_90_DAYS),
        "cart_adds_90d" => counted("cart addition", "cart additions", LAST_90_DAYS),
        "checkouts_started_90d" => counted("checkout started", "checkouts started", LAST_90_DAYS),
        "abandoned_checkouts_90d" => counted(
            "checkout left unfinished",
            "checkouts left unfinished",
            LAST_90_DAYS,
        ),
        "days_since_last_visit" => format!(
            "no visit in {} (typical customer: {})",
            days(value),
            days(typical)
        ),
        other => format!(
            "{other} is {} (typical customer: {})",
            number(value),
            number(typical)
        ),
    }
}

/// Recency against the customer's own average gap between order days.
fn against_rhythm(recency: f64, rhythm: f64) -> String {
    let rhythm_days = number(rhythm);
    if recency > rhythm {
        format!(
            "last order {} ago, {} past their usual {rhythm_days}-day rhythm",
            days(recency),
            days(recency - rhythm)
        )
    } else {
        format!(
            "last order {} ago, within their usual {rhythm_days}-day rhythm",
            days(recency)
        )
    }
}

fn one_order_day() -> String {
    "no rhythm yet: has ordered on one day only".to_owned()
}

/// A typical interval, which is missing when most customers ordered on one day only.
fn typical_interval(typical: f64, prefix: &str) -> String {
    if typical == MISSING {
        "has ordered on one day only".to_owned()
    } else {
        format!("{prefix}{}", days(typical))
    }
}

/// "42 less" or "12.50 more" as money.
fn more_or_less(value: f64, typical: f64) -> String {
    let difference = value - typical;
    if difference < 0.0 {
        format!("{} less", money(-difference))
    } else {
        format!("{} more", money(difference))
    }
}

fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

fn days(n: f64) -> String {
    count(n, "day", "days")
}

fn count(n: f64, singular: &str, plural: &str) -> String {
    if n == 0.0 {
        format!("no {plural}")
    } else if n == 1.0 {
        format!("1 {singular}")
    } else {
        format!("{} {plural}", number(n))
    }
}

/// Whole numbers without decimals, others with one.
fn number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{BASE_FEATURES, ENGAGEMENT_FEATURES};

    fn customer(values: &[(&str, f64)]) -> Vec<(String, f64)> {
        values.iter().map(|&(n, v)| (n.to_owned(), v)).collect()
    }

    fn worded(feature: &str, value: f64, typical: f64, features: &[(String, f64)]) -> String {
        let contribution = Contribution {
            feature: feature.to_owned(),
            value,
            typical,
            effect: 0.1,
            description: String::new(),
        };
        describe(&contribution, features)
    }

    #[test]
    fn recency_is_read_against_the_customers_own_rhythm() {
        let regular = customer(&[("recency_days", 67.0), ("interval_mean_days", 25.0)]);
        assert_eq!(
            worded("recency_days", 67.0, 30.0, &regular),
            "last order 67 days ago, 42 days past their usual 25-day rhythm"
        );
        assert_eq!(
            worded("recency_ratio", 67.0 / 25.0, 1.1, &regular),
            "last order 67 days ago, 42 days past their usual 25-day rhythm"
        );
        let on_time = customer(&[("recency_days", 10.0), ("interval_mean_days", 25.0)]);
        assert_eq!(
            worded("recency_days", 10.0, 30.0, &on_time),
            "last order 10 days ago, within their usual 25-day rhythm"
        );
        // A one-time buyer has no rhythm: compare with the typical customer instead.
        let once = customer(&[("recency_days", 200.0), ("interval_mean_days", MISSING)]);
        assert_eq!(
            worded("recency_days", 200.0, 45.0, &once),
            "last order 200 days ago (typical customer: 45 days)"
        );
        assert_eq!(
            worded("recency_ratio", MISSING, 1.0, &once),
            "no rhythm yet: has ordered on one day only"
        );
    }

    #[test]
    fn the_trend_is_the_two_order_counts_it_compares() {
        let falling = customer(&[("orders_90d", 1.0), ("orders_180d", 5.0)]);
        assert_eq!(
            worded("trend_90d", -0.6, 0.0, &falling),
            "orders fell from 4 to 1 in the last 90 days"
        );
        let rising = customer(&[("orders_90d", 3.0), ("orders_180d", 4.0)]);
        assert_eq!(
            worded("trend_90d", 0.5, 0.0, &rising),
            "orders rose from 1 to 3 in the last 90 days"
        );
        let steady = customer(&[("orders_90d", 2.0), ("orders_180d", 4.0)]);
        assert_eq!(
            worded("trend_90d", 0.0, 0.0, &steady),
            "2 orders in the last 90 days, as in the 90 days before"
        );
    }

    #[test]
    fn money_is_compared_with_the_typical_customer() {
        assert_eq!(
            worded("monetary_mean", 41.0, 64.0, &[]),
            "spends 23.00 less per order than the typical customer (41.00 vs 64.00)"
        );
        assert_eq!(
            worded("monetary_total", 500.0, 120.5, &[]),
            "spent 500.00 in total, 379.50 more than the typical customer"
        );
        assert_eq!(
            worded("monetary_max", 19.99, 80.0, &[]),
            "largest order 19.99 (typical customer: 80.00)"
        );
        assert_eq!(
            worded("refund_share", 0.35, 0.0, &[]),
            "refunds took back 35% of what they spent (typical customer: 0%)"
        );
    }

    #[test]
    fn counts_and_visits_read_as_sentences() {
        assert_eq!(
            worded("days_since_last_visit", 30.0, 8.0, &[]),
            "no visit in 30 days (typical customer: 8 days)"
        );
        assert_eq!(
            worded("sessions_90d", 0.0, 6.0, &[]),
            "no visits in the last 90 days (typical customer: 6)"
        );
        assert_eq!(
            worded("orders_30d", 1.0, 0.0, &[]),
            "1 order in the last 30 days (typical customer: 0)"
        );
        assert_eq!(
            worded("abandoned_checkouts_90d", 2.0, 0.0, &[]),
            "2 checkouts left unfinished in the last 90 days (typical customer: 0)"
        );
        assert_eq!(
            worded("frequency", 3.0, 5.0, &[]),
            "3 orders so far (typical customer: 5)"
        );
        assert_eq!(
            worded("purchase_days", 1.0, 2.0, &[]),
            "has ordered on one day only (typical customer: 2 days)"
        );
        assert_eq!(
            worded("items_per_order", 1.25, 2.0, &[]),
            "1.2 items per order (typical customer: 2.0)"
        );
        assert_eq!(
            worded("interval_mean_days", 40.0, MISSING, &[]),
            "orders every 40 days on average (typical customer: has ordered on one day only)"
        );
        assert_eq!(
            worded("interval_std_days", 12.5, 6.0, &[]),
            "gaps between orders vary by 12.5 days (typical customer: 6 days)"
        );
        assert_eq!(
            worded("tenure_days", 1.0, 300.0, &[]),
            "first order 1 day ago (typical customer: 300 days)"
        );
    }

    /// Every feature has its own wording: none falls through to the generic one.
    #[test]
    fn every_feature_is_worded() {
        let everything: Vec<(String, f64)> = BASE_FEATURES
            .iter()
            .chain(ENGAGEMENT_FEATURES)
            .map(|n| (n.to_string(), 3.0))
            .collect();
        for name in BASE_FEATURES.iter().chain(ENGAGEMENT_FEATURES) {
            for (value, typical) in [(3.0, 1.0), (0.0, 5.0), (MISSING, MISSING)] {
                let words = worded(name, value, typical, &everything);
                assert!(
                    !words.starts_with(&format!("{name} is ")),
                    "{name}: {words}"
                );
                assert!(
                    !words.contains("NaN") && !words.is_empty(),
                    "{name}: {words}"
                );
            }
        }
        assert_eq!(
            worded("loyalty_points", 3.0, 1.5, &[]),
            "loyalty_points is 3 (typical customer: 1.5)"
        );
    }
}
