//! Retention campaigns in PostgreSQL: the campaign, who was enrolled in which arm (once, for
//! good), their personal codes and offer messages, what they were shown, and what they went
//! on to buy. Also the record of whole-shop scoring runs the campaigns enrol from.
//!
//! Enrolment runs under one advisory lock for every campaign, so two launches or two
//! scoring runs at once cannot offer a customer twice, break a frequency cap or pass a
//! recipient cap.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use storefront_client::offers::PersonalOffer;
use storefront_client::staff::campaigns::{
    AudienceRule, Campaign, CampaignMode, CampaignStatus, Channel,
};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
    outbox,
};
use crate::domain::{
    FieldError,
    campaigns::{self, Arm, CampaignOffer, Candidate, NewCampaign, Stratum},
    emails::OFFER_TOPIC,
    measurement::EnrolmentOutcome,
    money::Currency,
    order::DiscountValue,
};

/// `pg_advisory_xact_lock` key of enrolment, in every campaign.
const ENROLMENT_LOCK: i64 = 0x6e78_6361_6d70; // "nxcamp"

/// When an enrolment happens: now (a launch or a scoring run; the offers go out), or at an
/// instant in the past (the demo's finished campaign: the audience as it stood then, and no
/// messages, their moment having passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentTime {
    Now,
    BackDated(DateTime<Utc>),
}

impl EnrolmentTime {
    fn instant(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Now => None,
            Self::BackDated(at) => Some(at),
        }
    }
}

/// A customer's latest churn score, as a scoring run left it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredCustomer {
    pub account_id: Uuid,
    pub band: String,
    pub probability: f64,
    /// Predicted spend over the next 365 days in the shop's minor units, when the customer
    /// has history enough for one.
    pub predicted_value_minor: Option<i64>,
}

/// A `campaigns` row with its enrolment counts.
struct CampaignRow {
    id: Uuid,
    name: String,
    status: String,
    mode: String,
    risk_bands: Vec<String>,
    min_probability: Option<f64>,
    max_probability: Option<f64>,
    min_predicted_value_minor: Option<i64>,
    min_days_since_last_order: Option<i32>,
    max_days_since_last_order: Option<i32>,
    exclude_opted_out: bool,
    segment_id: Option<Uuid>,
    offer_kind: String,
    percent_basis_points: Option<i32>,
    amount_minor: Option<i64>,
    currency: String,
    min_spend_minor: i64,
    days_valid: i32,
    channels: Vec<String>,
    holdout_percent: i32,
    frequency_cap_days: i32,
    max_recipients: Option<i32>,
    seed: i64,
    created_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    treated: i64,
    held_out: i64,
    last_enrolled_at: Option<DateTime<Utc>>,
}

/// A campaign as the services work with it: the rules in domain types.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCampaign {
    pub view: Campaign,
    pub offer: CampaignOffer,
}

impl StoredCampaign {
    pub fn id(&self) -> Uuid {
        self.view.id
    }

    pub fn currency(&self) -> Currency {
        self.offer.currency
    }
}

impl TryFrom<CampaignRow> for StoredCampaign {
    type Error = StoreError;

    fn try_from(row: CampaignRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("campaign {}: {what}", row.id));
        let value = match (
            row.offer_kind.as_str(),
            row.percent_basis_points,
            row.amount_minor,
        ) {
            ("percent", Some(bp), None) => DiscountValue::Percent {
                basis_points: u32::try_from(bp).map_err(|_| corrupt("negative percentage"))?,
            },
            ("fixed", None, Some(amount_minor)) => DiscountValue::Fixed { amount_minor },
            _ => {
                return Err(corrupt(
                    "an offer that is neither a percentage nor an amount",
                ));
            }
        };
        let offer = CampaignOffer {
            value,
            currency: Currency::parse(&row.currency).map_err(|_| corrupt("unknown currency"))?,
            min_spend_minor: row.min_spend_minor,
            days_valid: row.days_valid,
        };
        let channels = row
            .channels
            .iter()
            .map(|c| Channel::parse(c).ok_or_else(|| corrupt("unknown channel")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            view: Campaign {
                id: row.id,
                name: row.name,
                status: CampaignStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
                mode: CampaignMode::parse(&row.mode).ok_or_else(|| corrupt("mode"))?,
                audience: AudienceRule {
                    risk_bands: row.risk_bands,
                    min_probability: row.min_probability,
                    max_probability: row.max_probability,
                    min_predicted_value_minor: row.min_predicted_value_minor,
                    min_days_since_last_order: row.min_days_since_last_order,
                    max_days_since_last_order: row.max_days_since_last_order,
                    exclude_opted_out: row.exclude_opted_out,
                    segment_id: row.segment_id,
                },
                offer: offer.to_wire(),
                channels,
                holdout_percent: row.holdout_percent,
                frequency_cap_days: row.frequency_cap_days,
                max_recipients: row.max_recipients,
                seed: row.seed,
                created_at: row.created_at,
                ended_at: row.ended_at,
                treated: row.treated,
                held_out: row.held_out,
                last_enrolled_at: row.last_enrolled_at,
            },
            offer,
        })
    }
}

/// Every campaign, or the one with `id`, with its enrolment counts.
async fn read(
    db: impl sqlx::PgExecutor<'_>,
    id: Option<Uuid>,
) -> Result<Vec<StoredCampaign>, StoreError> {
    let rows = sqlx::query_as!(
        CampaignRow,
        r#"SELECT c.id, c.name, c.status, c.mode, c.risk_bands, c.min_probability,
                  c.max_probability, c.min_predicted_value_minor, c.min_days_since_last_order,
                  c.max_days_since_last_order, c.exclude_opted_out, c.segment_id, c.offer_kind,
                  c.percent_basis_points, c.amount_minor, c.currency::text AS "currency!",
                  c.min_spend_minor, c.days_valid, c.channels, c.holdout_percent,
                  c.frequency_cap_days, c.max_recipients, c.seed, c.created_at, c.ended_at,
                  COUNT(e.account_id) FILTER (WHERE e.arm = 'treatment') AS "treated!",
                  COUNT(e.account_id) FILTER (WHERE e.arm = 'holdout') AS "held_out!",
                  MAX(e.enrolled_at) AS last_enrolled_at
             FROM campaigns c
             LEFT JOIN campaign_enrolments e ON e.campaign_id = c.id
            WHERE $1::uuid IS NULL OR c.id = $1
            GROUP BY c.id
            ORDER BY c.created_at DESC, c.id DESC"#,
        id
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(StoredCampaign::try_from).collect()
}

/// Every campaign, newest first.
pub async fn list(db: &PgPool) -> Result<Vec<Campaign>, StoreError> {
    Ok(read(db, None).await?.into_iter().map(|c| c.view).collect())
}

pub async fn find(db: &PgPool, id: Uuid) -> Result<StoredCampaign, StoreError> {
    read(db, Some(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound("campaign"))
}

/// The scored customers who qualify for a campaign at `when`, most at risk first: the audience
/// rule (with its segment's members as they stand now), then who may not be approached — staff and erased or disabled accounts, anyone
/// already in this campaign (`campaign_id`), anyone inside another campaign's measurement
/// window (either arm: a holdout offered something elsewhere would no longer measure
/// anything), and anyone offered something within the frequency cap.
async fn qualifying(
    conn: &mut sqlx::PgConnection,
    campaign_id: Option<Uuid>,
    audience: &AudienceRule,
    frequency_cap_days: i32,
    scored: &[ScoredCustomer],
    when: EnrolmentTime,
) -> Result<Vec<Candidate>, StoreError> {
    // The segment's members now, evaluated over the same scores as the rest of the rule;
    // only they stay candidates (filtered here, not by an `= ANY` over thousands of ids).
    let in_segment: Vec<ScoredCustomer>;
    let scored = match audience.segment_id {
        None => scored,
        Some(id) => {
            let segment = super::segments::find(&mut *conn, id)
                .await?
                .ok_or(StoreError::NotFound("segment"))?;
            let members: std::collections::HashSet<Uuid> =
                super::segments::members(&mut *conn, &segment, scored)
                    .await?
                    .into_iter()
                    .map(|m| m.account_id)
                    .collect();
            in_segment = scored
                .iter()
                .filter(|s| members.contains(&s.account_id))
                .cloned()
                .collect();
            &in_segment
        }
    };
    let ids: Vec<Uuid> = scored.iter().map(|s| s.account_id).collect();
    let bands: Vec<String> = scored.iter().map(|s| s.band.clone()).collect();
    let probabilities: Vec<f64> = scored.iter().map(|s| s.probability).collect();
    let values: Vec<Option<i64>> = scored.iter().map(|s| s.predicted_value_minor).collect();
    let rows = sqlx::query!(
        r#"SELECT s.account_id AS "account_id!", s.band AS "band!",
                  s.probability AS "probability!"
             FROM UNNEST($1::uuid[], $2::text[], $3::float8[], $4::int8[])
                  AS s (account_id, band, probability, predicted_value_minor)
             JOIN accounts a ON a.id = s.account_id
             LEFT JOIN LATERAL (
                  SELECT MAX(o.paid_at) AS last_order_at FROM orders o
                   WHERE o.account_id = a.id AND o.paid_at < COALESCE($14::timestamptz, now())
                     AND o.status <> 'cancelled') l ON true
            WHERE a.role = 'customer' AND a.erased_at IS NULL AND a.disabled_at IS NULL
              AND (cardinality($5::text[]) = 0 OR s.band = ANY($5))
              AND ($6::float8 IS NULL OR s.probability >= $6)
              AND ($7::float8 IS NULL OR s.probability <= $7)
              AND ($8::int8 IS NULL OR s.predicted_value_minor >= $8)
              AND ($9::int4 IS NULL OR l.last_order_at IS NULL
                   OR l.last_order_at < COALESCE($14, now()) - make_interval(days => $9))
              AND ($10::int4 IS NULL
                   OR l.last_order_at >= COALESCE($14, now()) - make_interval(days => $10))
              AND (NOT $11 OR a.marketing_consent OR a.marketing_consent_changed_at IS NULL)
              AND NOT EXISTS (
                  SELECT 1 FROM campaign_enrolments e
                   WHERE e.account_id = a.id
                     AND (e.campaign_id = $12 OR e.window_ends_at > COALESCE($14, now())
                          OR (e.arm = 'treatment'
                              AND e.enrolled_at
                                  > COALESCE($14, now()) - make_interval(days => $13))))
            ORDER BY s.probability DESC, s.account_id"#,
        &ids,
        &bands,
        &probabilities,
        &values as &[Option<i64>],
        &audience.risk_bands,
        audience.min_probability,
        audience.max_probability,
        audience.min_predicted_value_minor,
        audience.min_days_since_last_order,
        audience.max_days_since_last_order,
        audience.exclude_opted_out,
        campaign_id,
        frequency_cap_days,
        when.instant(),
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            account_id: r.account_id,
            band: r.band,
            probability: r.probability,
        })
        .collect())
}

/// Who would qualify for a draft today (nobody is enrolled).
pub async fn preview(
    db: &PgPool,
    new: &NewCampaign,
    scored: &[ScoredCustomer],
) -> Result<Vec<(Candidate, Arm)>, StoreError> {
    let mut conn = db.acquire().await?;
    let candidates = qualifying(
        &mut conn,
        None,
        &new.audience,
        new.frequency_cap_days,
        scored,
        EnrolmentTime::Now,
    )
    .await?;
    Ok(campaigns::enrolment(
        0,
        new.holdout_percent,
        |_| Stratum::default(),
        &candidates,
        new.max_recipients.and_then(|cap| u64::try_from(cap).ok()),
    ))
}

/// How many were enrolled, by arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enrolled {
    pub treated: u64,
    pub held_out: u64,
}

/// Launches a campaign: writes it and enrols who qualifies `when` it starts, in one
/// transaction (a launch that fails half-way leaves nothing behind).
pub async fn launch(
    db: &PgPool,
    new: &NewCampaign,
    seed: i64,
    scored: &[ScoredCustomer],
    scoring_run_id: Option<Uuid>,
    actor_id: Uuid,
    when: EnrolmentTime,
) -> Result<(Uuid, Enrolled), StoreError> {
    let mut tx = db.begin().await?;
    let id = Uuid::now_v7();
    let (kind, percent, amount) = match new.offer.value {
        DiscountValue::Percent { basis_points } => {
            ("percent", i32::try_from(basis_points).ok(), None)
        }
        DiscountValue::Fixed { amount_minor } => ("fixed", None, Some(amount_minor)),
    };
    let channels: Vec<String> = new.channels.iter().map(|c| c.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO campaigns (id, name, mode, risk_bands, min_probability, max_probability,
                                min_predicted_value_minor, min_days_since_last_order,
                                max_days_since_last_order, exclude_opted_out, offer_kind,
                                percent_basis_points, amount_minor, currency, min_spend_minor,
                                days_valid, channels, holdout_percent, frequency_cap_days,
                                max_recipients, seed, created_by, created_at, segment_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, COALESCE($23, now()), $24)",
        id,
        new.name,
        new.mode.as_str(),
        &new.audience.risk_bands,
        new.audience.min_probability,
        new.audience.max_probability,
        new.audience.min_predicted_value_minor,
        new.audience.min_days_since_last_order,
        new.audience.max_days_since_last_order,
        new.audience.exclude_opted_out,
        kind,
        percent,
        amount,
        new.offer.currency.code(),
        new.offer.min_spend_minor,
        new.offer.days_valid,
        &channels,
        new.holdout_percent,
        new.frequency_cap_days,
        new.max_recipients,
        seed,
        actor_id,
        when.instant(),
        new.audience.segment_id,
    )
    .execute(&mut *tx)
    .await?;
    let after = audit::snapshot(&mut tx, Entity::Campaign, id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "campaign.launched",
        Entity::Campaign,
        id,
        Value::Null,
        after,
    )
    .await?;
    let campaign = read_in(&mut tx, id).await?;
    let enrolled = enrol_in(&mut tx, &campaign, scored, scoring_run_id, when).await?;
    if enrolled == Enrolled::default() {
        // Dropping the transaction takes the campaign back: one without customers measures
        // nothing.
        return Err(StoreError::Invalid(FieldError::new(
            "audience",
            "no customer qualifies today: widen the bands or probabilities, or lower the limits",
        )));
    }
    tx.commit().await?;
    Ok((id, enrolled))
}

/// The campaign inside a transaction, its row locked until the transaction ends (so a
/// status change and an enrolment never cross).
async fn read_in(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> Result<StoredCampaign, StoreError> {
    sqlx::query_scalar!("SELECT id FROM campaigns WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("campaign"))?;
    read(&mut **tx, Some(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound("campaign"))
}

/// Enrols, for every running automatic campaign, the scored customers who newly qualify;
/// each campaign in its own transaction. Returns how many were enrolled in all.
pub async fn enrol_automatic(
    db: &PgPool,
    scored: &[ScoredCustomer],
    scoring_run_id: Uuid,
) -> Result<u64, StoreError> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM campaigns WHERE mode = 'automatic' AND status = 'running'
          ORDER BY created_at, id"
    )
    .fetch_all(db)
    .await?;
    let mut total = 0;
    for id in ids {
        let mut tx = db.begin().await?;
        let campaign = read_in(&mut tx, id).await?;
        // Paused or ended since the list was read: the row lock makes this the last word.
        if campaign.view.status != CampaignStatus::Running {
            continue;
        }
        let enrolled = enrol_in(
            &mut tx,
            &campaign,
            scored,
            Some(scoring_run_id),
            EnrolmentTime::Now,
        )
        .await?;
        tx.commit().await?;
        total += enrolled.treated + enrolled.held_out;
    }
    Ok(total)
}

/// Enrols who qualifies for `campaign`, under the enrolment lock: draws the arms, issues the
/// treated their personal codes and (with the email channel, enrolled now) their offer
/// messages.
async fn enrol_in(
    tx: &mut Transaction<'_, Postgres>,
    campaign: &StoredCampaign,
    scored: &[ScoredCustomer],
    scoring_run_id: Option<Uuid>,
    when: EnrolmentTime,
) -> Result<Enrolled, StoreError> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", ENROLMENT_LOCK)
        .execute(&mut **tx)
        .await?;
    let view = &campaign.view;
    let candidates = qualifying(
        tx,
        Some(view.id),
        &view.audience,
        view.frequency_cap_days,
        scored,
        when,
    )
    .await?;
    if candidates.is_empty() {
        return Ok(Enrolled::default());
    }
    let strata = sqlx::query!(
        r#"SELECT risk_band, COUNT(*) AS "enrolled!",
                  COUNT(*) FILTER (WHERE arm = 'holdout') AS "held_out!"
             FROM campaign_enrolments WHERE campaign_id = $1 GROUP BY risk_band"#,
        view.id
    )
    .fetch_all(&mut **tx)
    .await?;
    let stratum = |band: &str| {
        strata
            .iter()
            .find(|s| s.risk_band == band)
            .map(|s| Stratum {
                enrolled: u64::try_from(s.enrolled).unwrap_or(0),
                held_out: u64::try_from(s.held_out).unwrap_or(0),
            })
            .unwrap_or_default()
    };
    let treated_so_far = strata.iter().map(|s| s.enrolled - s.held_out).sum::<i64>();
    let recipients_left = view
        .max_recipients
        .map(|cap| u64::try_from(i64::from(cap) - treated_so_far).unwrap_or(0));
    let drawn = campaigns::enrolment(
        view.seed,
        view.holdout_percent,
        stratum,
        &candidates,
        recipients_left,
    );
    if drawn.is_empty() {
        return Ok(Enrolled::default());
    }

    let now: DateTime<Utc> = match when {
        EnrolmentTime::Now => {
            sqlx::query_scalar!(r#"SELECT now() AS "now!""#)
                .fetch_one(&mut **tx)
                .await?
        }
        EnrolmentTime::BackDated(at) => at,
    };
    let expires_at = campaign.offer.expires_at(now);
    // Drawn before anything else awaits: the thread's generator stays on its thread.
    let mut personal_codes: Vec<String> = {
        let mut rng = rand::rng();
        (0..drawn.len())
            .map(|_| campaigns::personal_code(&mut rng))
            .collect()
    };
    let mut enrolled = Enrolled::default();
    let (mut accounts, mut arms, mut bands, mut probabilities, mut code_ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut codes, mut offers) = (Vec::new(), Vec::new());
    for (candidate, arm) in &drawn {
        let code_id = (*arm == Arm::Treatment).then(Uuid::now_v7);
        if let Some(code_id) = code_id {
            enrolled.treated += 1;
            let code = personal_codes.pop().unwrap_or_default();
            offers.push(json!({
                "customer_id": candidate.account_id,
                "campaign_id": view.id,
                "offer": {
                    "code": code,
                    "headline": view.offer.headline,
                    "minimum_spend": campaign.offer.minimum_spend().map(|m| m.to_shopper_string()),
                    "expires_at": expires_at,
                },
            }));
            codes.push((code_id, code, candidate.account_id));
        } else {
            enrolled.held_out += 1;
        }
        accounts.push(candidate.account_id);
        arms.push(arm.as_str().to_owned());
        bands.push(candidate.band.clone());
        probabilities.push(candidate.probability);
        code_ids.push(code_id);
    }
    issue_codes(tx, campaign, &codes, expires_at).await?;
    sqlx::query!(
        "INSERT INTO campaign_enrolments (campaign_id, account_id, arm, risk_band,
                                          churn_probability, scoring_run_id, enrolled_at,
                                          window_ends_at, discount_code_id)
         SELECT $1, a, arm, band, p, $2, $3, $4, code
           FROM UNNEST($5::uuid[], $6::text[], $7::text[], $8::float8[], $9::uuid[])
                AS t (a, arm, band, p, code)",
        view.id,
        scoring_run_id,
        now,
        expires_at,
        &accounts,
        &arms,
        &bands,
        &probabilities,
        &code_ids as &[Option<Uuid>],
    )
    .execute(&mut **tx)
    .await?;
    if view.channels.contains(&Channel::Email) && when == EnrolmentTime::Now {
        outbox::publish_many(tx, OFFER_TOPIC, &offers).await?;
    }
    Ok(enrolled)
}

/// Personal single-use codes: one use in all, by their owner alone, until the window ends.
async fn issue_codes(
    tx: &mut Transaction<'_, Postgres>,
    campaign: &StoredCampaign,
    codes: &[(Uuid, String, Uuid)],
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (kind, percent, amount, currency) = match campaign.offer.value {
        DiscountValue::Percent { basis_points } => {
            ("percent", i32::try_from(basis_points).ok(), None, None)
        }
        DiscountValue::Fixed { amount_minor } => (
            "fixed",
            None,
            Some(amount_minor),
            Some(campaign.currency().code()),
        ),
    };
    let ids: Vec<Uuid> = codes.iter().map(|c| c.0).collect();
    let texts: Vec<String> = codes.iter().map(|c| c.1.clone()).collect();
    let owners: Vec<Uuid> = codes.iter().map(|c| c.2).collect();
    sqlx::query!(
        "INSERT INTO discount_codes (id, code, kind, percent_basis_points, amount_minor, currency,
                                     min_subtotal_minor, expires_at, usage_limit,
                                     once_per_customer, account_id)
         SELECT id, code::citext, $1, $2, $3, $4, $5, $6, 1, true, owner
           FROM UNNEST($7::uuid[], $8::text[], $9::uuid[]) AS t (id, code, owner)",
        kind,
        percent,
        amount,
        currency,
        campaign.offer.min_spend_minor,
        expires_at,
        &ids,
        &texts,
        &owners,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Pauses, resumes or ends a campaign. Ending is for good; codes already issued stay valid
/// to their expiry either way.
pub async fn set_status(
    db: &PgPool,
    id: Uuid,
    status: CampaignStatus,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let current = read_in(&mut tx, id).await?.view.status;
    if current == status {
        return Ok(());
    }
    if current == CampaignStatus::Ended {
        return Err(StoreError::conflict(
            "campaign_ended",
            "The campaign has ended; launch a new one instead.",
        ));
    }
    let before = audit::snapshot(&mut tx, Entity::Campaign, id).await?;
    sqlx::query!(
        "UPDATE campaigns SET status = $2,
                ended_at = CASE WHEN $2 = 'ended' THEN now() END
          WHERE id = $1",
        id,
        status.as_str()
    )
    .execute(&mut *tx)
    .await?;
    let after = audit::snapshot(&mut tx, Entity::Campaign, id).await?;
    let action = match status {
        CampaignStatus::Running => "campaign.resumed",
        CampaignStatus::Paused => "campaign.paused",
        CampaignStatus::Ended => "campaign.ended",
    };
    audit::record(
        &mut tx,
        actor_id,
        action,
        Entity::Campaign,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What became of each enrolled customer, from the orders paid within their window in the
/// campaign's currency (cancelled orders do not count; refunds come off, and an order
/// refunded whole is no purchase).
pub async fn outcomes(
    db: &PgPool,
    campaign: &StoredCampaign,
) -> Result<Vec<EnrolmentOutcome>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT e.arm, e.enrolled_at, e.window_ends_at,
                  MIN(o.paid_at) AS first_order_at,
                  COUNT(o.id) AS "orders!",
                  COALESCE(SUM(o.total_minor - o.refunded_minor), 0)::bigint AS "revenue_minor!",
                  COALESCE(SUM(o.discount_minor) FILTER (WHERE r.order_id IS NOT NULL), 0)::bigint
                      AS "discount_cost_minor!",
                  COUNT(r.order_id) > 0 AS "code_redeemed!",
                  EXISTS (SELECT 1 FROM campaign_exposures x WHERE x.campaign_id = e.campaign_id
                             AND x.account_id = e.account_id AND x.channel = 'email') AS "emailed!",
                  EXISTS (SELECT 1 FROM campaign_exposures x WHERE x.campaign_id = e.campaign_id
                             AND x.account_id = e.account_id AND x.channel = 'web') AS "banner_shown!"
             FROM campaign_enrolments e
             LEFT JOIN orders o
                    ON o.account_id = e.account_id AND o.currency = $2
                   AND o.paid_at >= e.enrolled_at AND o.paid_at < e.window_ends_at
                   AND o.status <> 'cancelled' AND o.refunded_minor < o.total_minor
             LEFT JOIN discount_redemptions r
                    ON r.order_id = o.id AND r.discount_code_id = e.discount_code_id
            WHERE e.campaign_id = $1
            GROUP BY e.campaign_id, e.account_id"#,
        campaign.id(),
        campaign.currency().code(),
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(EnrolmentOutcome {
                arm: Arm::parse(&r.arm).ok_or_else(|| {
                    StoreError::Corrupt(format!("campaign {}: arm {}", campaign.id(), r.arm))
                })?,
                enrolled_at: r.enrolled_at,
                window_ends_at: r.window_ends_at,
                first_order_at: r.first_order_at,
                orders: r.orders,
                revenue_minor: r.revenue_minor,
                discount_cost_minor: r.discount_cost_minor,
                code_redeemed: r.code_redeemed,
                emailed: r.emailed,
                banner_shown: r.banner_shown,
            })
        })
        .collect()
}

/// A customer's offers still to use, for the shop's banner: treated in a campaign with the
/// web channel, the code unused, unexpired and active. Soonest to expire first.
pub async fn offers_for(db: &PgPool, account_id: Uuid) -> Result<Vec<PersonalOffer>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.offer_kind, c.percent_basis_points, c.amount_minor,
                  c.currency::text AS "currency!", c.min_spend_minor, c.days_valid,
                  d.code::text AS "code!", d.expires_at AS "expires_at!"
             FROM campaign_enrolments e
             JOIN campaigns c ON c.id = e.campaign_id
             JOIN discount_codes d ON d.id = e.discount_code_id
            WHERE e.account_id = $1 AND 'web' = ANY (c.channels)
              AND d.active AND d.times_used = 0 AND d.expires_at > now()
            ORDER BY d.expires_at, c.id"#,
        account_id
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let corrupt = || StoreError::Corrupt(format!("campaign {}: its offer", r.id));
            let value = match (
                r.offer_kind.as_str(),
                r.percent_basis_points,
                r.amount_minor,
            ) {
                ("percent", Some(bp), None) => DiscountValue::Percent {
                    basis_points: u32::try_from(bp).map_err(|_| corrupt())?,
                },
                ("fixed", None, Some(amount_minor)) => DiscountValue::Fixed { amount_minor },
                _ => return Err(corrupt()),
            };
            let offer = CampaignOffer {
                value,
                currency: Currency::parse(&r.currency).map_err(|_| corrupt())?,
                min_spend_minor: r.min_spend_minor,
                days_valid: r.days_valid,
            };
            Ok(PersonalOffer {
                campaign_id: r.id,
                headline: offer.headline(),
                code: r.code,
                minimum_spend: offer.minimum_spend(),
                expires_at: r.expires_at,
            })
        })
        .collect()
}

/// Logs that a treated customer was shown their offer on `channel` (once: a second showing
/// changes nothing). `false` when they hold no offer from that campaign.
pub async fn record_exposure(
    db: &PgPool,
    campaign_id: Uuid,
    account_id: Uuid,
    channel: Channel,
) -> Result<bool, StoreError> {
    let treated = sqlx::query_scalar!(
        r#"WITH logged AS (
               INSERT INTO campaign_exposures (campaign_id, account_id, channel)
               SELECT campaign_id, account_id, $3 FROM campaign_enrolments
                WHERE campaign_id = $1 AND account_id = $2 AND arm = 'treatment'
               ON CONFLICT DO NOTHING)
           SELECT EXISTS (SELECT 1 FROM campaign_enrolments
                           WHERE campaign_id = $1 AND account_id = $2 AND arm = 'treatment')
               AS "treated!""#,
        campaign_id,
        account_id,
        channel.as_str()
    )
    .fetch_one(db)
    .await?;
    Ok(treated)
}
