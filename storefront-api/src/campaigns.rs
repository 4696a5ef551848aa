//! The retention campaigns service, between the staff routes and storage: a draft is checked
//! (`domain::campaigns`), read against the latest scoring run's scores, previewed with what
//! it could prove, launched, and measured (`domain::measurement`) from the orders.

use chrono::Utc;
use rand::Rng;
use storefront_client::staff::campaigns::{
    AudiencePreview, BandCounts, Campaign, CampaignDetail, CampaignDraft, CampaignResults,
    CampaignStatus,
};
use uuid::Uuid;

use crate::{
    churn,
    domain::{
        campaigns::{Arm, Candidate, NewCampaign, parse_draft},
        measurement::{self, minimum_detectable_uplift},
    },
    error::ApiError,
    state::AppState,
    storage::{
        self,
        campaigns::{EnrolmentTime, ScoredCustomer},
    },
};

async fn checked(
    state: &AppState,
    draft: &CampaignDraft,
) -> Result<
    (
        NewCampaign,
        storefront_client::staff::campaigns::ScoringRun,
        Vec<ScoredCustomer>,
    ),
    ApiError,
> {
    let new = parse_draft(draft).map_err(ApiError::Validation)?;
    if let Some(id) = new.audience.segment_id
        && storage::segments::find(&state.db, id).await?.is_none()
    {
        return Err(ApiError::invalid(
            "audience.segment_id",
            "no customer group or segment has this id",
        ));
    }
    let (run, scores) = churn::latest_scores(state).await?;
    if scores.is_empty() && run.customers.unwrap_or(0) > 0 {
        return Err(ApiError::conflict(
            "scores_replaced",
            "A scoring run is replacing the scores right now; try again in a minute.",
        ));
    }
    Ok((new, run, scores))
}

/// Who a draft would reach today and the smallest uplift it could detect.
pub async fn preview(state: &AppState, draft: &CampaignDraft) -> Result<AudiencePreview, ApiError> {
    let (new, run, scores) = checked(state, draft).await?;
    let qualifying = storage::campaigns::preview(&state.db, &new, &scores).await?;
    let count = |arm: Arm| qualifying.iter().filter(|(_, a)| *a == arm).count() as i64;
    let (treated, held_out) = (count(Arm::Treatment), count(Arm::Holdout));
    let mut by_band = BandCounts::default();
    for (candidate, _) in &qualifying {
        match candidate.band.as_str() {
            "low" => by_band.low += 1,
            "medium" => by_band.medium += 1,
            _ => by_band.high += 1,
        }
    }
    let expected_purchase_rate = expected_purchase_rate(qualifying.iter().map(|(c, _)| c));
    Ok(AudiencePreview {
        qualifying: qualifying.len() as i64,
        treated,
        held_out,
        by_band,
        expected_purchase_rate,
        minimum_detectable_uplift_points: minimum_detectable_uplift(
            treated as u64,
            held_out as u64,
            expected_purchase_rate,
        ),
        scored_at: run.finished_at.unwrap_or(run.started_at),
        model_version: run.model_version,
    })
}

/// The holdout's expected purchase rate: one minus the mean churn probability, the model's
/// own chance that each customer buys within its window.
fn expected_purchase_rate<'a>(candidates: impl Iterator<Item = &'a Candidate>) -> f64 {
    let (sum, n) = candidates.fold((0.0, 0usize), |(sum, n), c| (sum + c.probability, n + 1));
    if n == 0 { 0.0 } else { 1.0 - sum / n as f64 }
}

/// Launches a campaign and enrols who qualifies now. A draft nobody qualifies for is refused
/// (422 on `audience`): a campaign without customers measures nothing.
pub async fn launch(
    state: &AppState,
    draft: &CampaignDraft,
    actor_id: Uuid,
) -> Result<Campaign, ApiError> {
    let (new, run, scores) = checked(state, draft).await?;
    // Positive and below 2^53, so that it reads the same in every tool staff may audit it
    // with — JavaScript's numbers included.
    let seed = rand::rng().random_range(1..(1_i64 << 53));
    let (id, enrolled) = storage::campaigns::launch(
        &state.db,
        &new,
        seed,
        &scores,
        Some(run.id),
        actor_id,
        EnrolmentTime::Now,
    )
    .await?;
    tracing::info!(campaign = %id, treated = enrolled.treated, held_out = enrolled.held_out, "campaign launched");
    Ok(storage::campaigns::find(&state.db, id).await?.view)
}

/// A campaign with its results as of now.
pub async fn detail(state: &AppState, id: Uuid) -> Result<CampaignDetail, ApiError> {
    let campaign = storage::campaigns::find(&state.db, id).await?;
    let outcomes = storage::campaigns::outcomes(&state.db, &campaign).await?;
    let m = measurement::measure(&outcomes, campaign.currency(), Utc::now());
    Ok(CampaignDetail {
        results: CampaignResults {
            campaign_id: id,
            treated: m.treated,
            held_out: m.held_out,
            purchase_rate_uplift: m.purchase_rate_uplift,
            net_revenue_uplift: m.net_revenue_uplift,
            final_at: m.final_at,
            daily: m.daily,
        },
        campaign: campaign.view,
    })
}

/// Pauses, resumes or ends a campaign.
pub async fn set_status(
    state: &AppState,
    id: Uuid,
    status: CampaignStatus,
    actor_id: Uuid,
) -> Result<Campaign, ApiError> {
    storage::campaigns::set_status(&state.db, id, status, actor_id).await?;
    Ok(storage::campaigns::find(&state.db, id).await?.view)
}
