//! Customer segments, the application service: a segment's members now (a dynamic rule with
//! churn conditions reads the latest scoring run's scores from MongoDB), as a page or as CSV;
//! and whether one customer belongs, as a promotion's condition asks at cart time.

use storefront_client::staff::segments::{Segment, SegmentKind, SegmentMember};
use uuid::Uuid;

use crate::{
    churn,
    error::{ApiError, ApiResult},
    state::AppState,
    storage::{self, campaigns::ScoredCustomer},
};

pub async fn segment(state: &AppState, id: Uuid) -> ApiResult<Segment> {
    storage::segments::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("segment"))
}

/// Whether the segment's rule needs the churn scores.
fn needs_scores(segment: &Segment) -> bool {
    segment.kind == SegmentKind::Dynamic
        && segment
            .rule
            .as_ref()
            .is_some_and(|rule| rule.needs_scores())
}

/// Every member of the segment now, by email, with the latest scores where there are some:
/// a rule with churn conditions is 409 `no_scores` before any scoring run finished.
pub async fn members(state: &AppState, segment: &Segment) -> ApiResult<Vec<SegmentMember>> {
    let scores = match churn::latest_scores(state).await {
        Ok((_, scores)) => scores,
        Err(error) if needs_scores(segment) => return Err(error),
        // The scores only annotate the members here: without them (none yet, MongoDB down)
        // the list is still whole.
        Err(ApiError::Conflict { .. }) => Vec::new(),
        Err(error) => {
            tracing::warn!(segment_id = %segment.id, %error, "segment members listed without churn scores");
            Vec::new()
        }
    };
    Ok(storage::segments::members(&state.db, segment, &scores).await?)
}

/// Whether `account_id` belongs to the segment now. For a promotion's condition: when the
/// answer cannot be had (MongoDB down for a churn rule, no scoring run yet) the customer is
/// taken not to belong, so the cart still answers — without the promotion.
pub async fn includes(state: &AppState, segment_id: Uuid, account_id: Uuid) -> bool {
    match includes_checked(state, segment_id, account_id).await {
        Ok(member) => member,
        Err(error) => {
            tracing::warn!(%segment_id, %error, "segment membership unknown; promotion not applied");
            false
        }
    }
}

async fn includes_checked(
    state: &AppState,
    segment_id: Uuid,
    account_id: Uuid,
) -> Result<bool, ApiError> {
    let segment = segment(state, segment_id).await?;
    let score: Option<ScoredCustomer> = if needs_scores(&segment) {
        let Some(run) = storage::scoring_runs::latest_finished(&state.db).await? else {
            return Ok(false);
        };
        storage::churn::score_of(&state.mongo, run.id, account_id).await?
    } else {
        None
    };
    Ok(storage::segments::includes(&state.db, &segment, score.as_ref(), account_id).await?)
}

/// Text a spreadsheet will not run as a formula: a cell that starts with `=`, `+`, `-` or
/// `@` (a customer may name themselves `=HYPERLINK(…)`) gets a leading `'`.
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The members as CSV (RFC 4180, a header row): what staff hand to a mailing tool or a
/// spreadsheet. Amounts in minor units, as everywhere in the API.
pub fn members_csv(members: &[SegmentMember]) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |error: csv::Error| ApiError::Internal(anyhow::anyhow!("writing CSV: {error}"));
    writer
        .write_record([
            "account_id",
            "email",
            "full_name",
            "orders",
            "spent_minor",
            "last_order_at",
            "risk_band",
            "churn_probability",
            "predicted_value_minor",
        ])
        .map_err(fail)?;
    for member in members {
        writer
            .write_record([
                member.account_id.to_string(),
                spreadsheet_safe(&member.email),
                spreadsheet_safe(&member.full_name),
                member.orders.to_string(),
                member.spent_minor.to_string(),
                member
                    .last_order_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default(),
                member.risk_band.clone().unwrap_or_default(),
                member
                    .churn_probability
                    .map(|p| format!("{p:.4}"))
                    .unwrap_or_default(),
                member
                    .predicted_value_minor
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ])
            .map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("writing CSV: {error}")))
}
