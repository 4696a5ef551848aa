//! The staff dashboard: sales today and over 30 days, orders waiting, low stock, churn risk.

use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use storefront_client::staff::dashboard::Dashboard;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiResult, Json},
    state::AppState,
    storage::{dashboard, scoring_runs},
};

/// A variant with this many units or fewer is low on stock.
pub use crate::domain::catalog::LOW_STOCK_THRESHOLD;
const LOW_STOCK_SHOWN: i64 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard))
}

/// Midnight (UTC) starting `now`'s day, the start of the 30 days ending with it, and the
/// next midnight.
fn periods(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |midnight| midnight.and_utc());
    (today, today - Duration::days(29), today + Duration::days(1))
}

/// The shop at a glance. Days are UTC days.
#[utoipa::path(get, path = "/api/v1/admin/dashboard", tag = "admin",
    responses((status = 200, body = Dashboard)), security(("bearer" = ["dashboard"])))]
pub async fn dashboard(State(state): State<AppState>) -> ApiResult<Json<Dashboard>> {
    let as_of = Utc::now();
    let (today, month_start, tomorrow) = periods(as_of);
    let (today_sales, month_sales, daily, awaiting, low_stock, churn_risk) = tokio::try_join!(
        dashboard::sales(&state.db, today, tomorrow),
        dashboard::sales(&state.db, month_start, tomorrow),
        dashboard::daily_sales(&state.db, month_start, tomorrow),
        dashboard::awaiting_fulfilment(&state.db),
        dashboard::low_stock(&state.db, LOW_STOCK_THRESHOLD, LOW_STOCK_SHOWN),
        scoring_runs::latest_bands(&state.db),
    )?;
    Ok(Json(Dashboard {
        as_of,
        today: today_sales,
        last_30_days: month_sales,
        daily,
        awaiting_fulfilment: awaiting,
        low_stock,
        low_stock_threshold: LOW_STOCK_THRESHOLD,
        churn_risk,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_is_thirty_days_ending_today() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let (today, month, tomorrow) = periods(now);
        assert_eq!(today.to_rfc3339(), "2026-11-29T00:00:00+00:00");
        assert_eq!(month.to_rfc3339(), "2026-10-31T00:00:00+00:00");
        assert_eq!(tomorrow.to_rfc3339(), "2026-11-30T00:00:00+00:00");
    }
}
