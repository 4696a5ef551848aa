//! What staff do to orders and how they filter them, as typed.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use storefront_client::account::Account;
use storefront_client::money::{Currency, Money};
use storefront_client::orders::OrderStatus;
use storefront_client::staff::orders::{StaffOrder, StaffOrderListParams};
use uuid::Uuid;

use crate::ConsoleError;

/// What staff do to an order. Each is confirmed in the UI before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    Fulfil,
    Ship {
        tracking_number: String,
    },
    Deliver,
    Cancel {
        reason: String,
    },
    /// An amount as typed (`12.50`) in the order's currency.
    Refund {
        amount: String,
        reason: String,
    },
    Note {
        body: String,
    },
    /// A customer's requested return: accept it (they are told to send the items).
    ApproveReturn {
        return_id: Uuid,
    },
    RefuseReturn {
        return_id: Uuid,
        reason: String,
    },
    /// The items arrived: back on the shelf, except the lines written off (damaged).
    ReceiveReturn {
        return_id: Uuid,
        written_off: Vec<i32>,
    },
    /// An amount as typed in the order's currency; empty refunds what the return is worth
    /// back under the shop's policy.
    RefundReturn {
        return_id: Uuid,
        amount: String,
    },
}

/// One order as the detail screen shows it: the staff view and who placed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    #[serde(flatten)]
    pub detail: StaffOrder,
    pub customer: Option<Account>,
}

/// The orders list's filters as staff typed them; empty text means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// First day (UTC), `YYYY-MM-DD`, included.
    pub placed_from: String,
    /// Last day (UTC), `YYYY-MM-DD`, included.
    pub placed_to: String,
    /// A customer's email, or part of their email or name that only they match.
    pub customer: String,
    /// Totals as typed (`25`, `99.90`) in `currency`.
    pub min_total: String,
    pub max_total: String,
    /// ISO 4217; the totals' decimals follow it.
    pub currency: String,
    pub page: i64,
}

impl OrderFilter {
    /// The API's query, except the customer (which needs a lookup), or the first field staff
    /// must correct.
    pub fn to_params(&self) -> Result<StaffOrderListParams, ConsoleError> {
        let day = |field: &str, text: &str| -> Result<Option<NaiveDate>, ConsoleError> {
            match text.trim() {
                "" => Ok(None),
                text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| ConsoleError::invalid(field, "write a day as YYYY-MM-DD")),
            }
        };
        let from = day("placed_from", &self.placed_from)?;
        let to = day("placed_to", &self.placed_to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(ConsoleError::invalid(
                "placed_to",
                "is before the first day",
            ));
        }
        let needs_currency =
            !(self.min_total.trim().is_empty() && self.max_total.trim().is_empty());
        let currency = if needs_currency {
            Some(
                Currency::parse(&self.currency.trim().to_ascii_uppercase())
                    .map_err(|message| ConsoleError::invalid("currency", message))?,
            )
        } else {
            None
        };
        let total = |field: &str, text: &str| -> Result<Option<i64>, ConsoleError> {
            match (text.trim(), currency) {
                ("", _) | (_, None) => Ok(None),
                (text, Some(currency)) => Money::parse_amount(text, currency)
                    .map(|m| Some(m.amount_minor))
                    .map_err(|message| ConsoleError::invalid(field, message)),
            }
        };
        let min_total = total("min_total", &self.min_total)?;
        let max_total = total("max_total", &self.max_total)?;
        if let (Some(min), Some(max)) = (min_total, max_total)
            && max < min
        {
            return Err(ConsoleError::invalid(
                "max_total",
                "is below the lowest total",
            ));
        }
        let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        Ok(StaffOrderListParams {
            status: self.status,
            placed_from: from.map(midnight),
            // The last day is included: up to the next midnight.
            placed_to: to.and_then(|day| day.succ_opt()).map(midnight),
            customer_id: None,
            min_total,
            max_total,
            page: Some(self.page.max(1)),
            limit: Some(25),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn days_are_whole_utc_days_and_the_last_is_included() {
        let params = OrderFilter {
            placed_from: "2026-11-01".into(),
            placed_to: " 2026-11-30 ".into(),
            page: 0,
            ..OrderFilter::default()
        }
        .to_params()
        .unwrap();
        assert_eq!(
            params.placed_from,
            Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(
            params.placed_to,
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(params.page, Some(1));
    }

    #[test]
    fn typos_name_the_field_to_correct() {
        let field_of = |filter: OrderFilter| match filter.to_params() {
            Err(ConsoleError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let typed = |from: &str, to: &str, min: &str, max: &str| OrderFilter {
            placed_from: from.into(),
            placed_to: to.into(),
            min_total: min.into(),
            max_total: max.into(),
            currency: "EUR".into(),
            ..OrderFilter::default()
        };
        assert_eq!(field_of(typed("1.11.2026", "", "", "")), "placed_from");
        assert_eq!(
            field_of(typed("2026-11-02", "2026-11-01", "", "")),
            "placed_to"
        );
        assert_eq!(field_of(typed("", "", "ten", "")), "min_total");
        assert_eq!(field_of(typed("", "", "20", "10")), "max_total");
        let no_currency = OrderFilter {
            currency: "€".into(),
            ..typed("", "", "10", "")
        };
        assert_eq!(field_of(no_currency), "currency");
    }

    #[test]
    fn totals_follow_the_currencys_decimals() {
        let yen = OrderFilter {
            min_total: "1200".into(),
            currency: "JPY".into(),
            ..OrderFilter::default()
        }
        .to_params()
        .unwrap();
        assert_eq!(yen.min_total, Some(1200));
        let params = OrderFilter {
            min_total: "12.5".into(),
            max_total: "100".into(),
            currency: " eur".into(),
            ..OrderFilter::default()
        }
        .to_params()
        .unwrap();
        assert_eq!(
            (params.min_total, params.max_total),
            (Some(1250), Some(10_000))
        );
        let no_totals = OrderFilter::default().to_params().unwrap();
        assert_eq!((no_totals.min_total, no_totals.max_total), (None, None));
    }
}
