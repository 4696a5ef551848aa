//! The demo shop's churn intelligence, so that a new user sees the whole loop at once: a
//! churn model trained on the shop's own history and active, every customer scored, one
//! retention campaign that has run its course with a known effect, and one running.
//!
//! The finished campaign is real data made the way the shop makes it, back-dated: launched
//! [`PAST_START_DAYS`] before the end on the scores the model gives as of that day, its arms
//! drawn by the same enrolment as any launch (`storage::campaigns`, under its lock), its
//! codes issued and its exposures logged. The customers' own orders in the window are the
//! generator's, the same for both arms; on top of them each treated customer answers the
//! offer with probability [`RESPONSE_RATE`] — an order with their code, placed and lived
//! like any other demo order. So the true uplift is known: the campaign's measured uplift
//! and its interval (`domain::measurement`) can be read against it. No message is sent for
//! it (its moment has passed); the running campaign's offers go out through the outbox to
//! the customers who said yes to marketing, as any launch's do.

use std::fmt;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use churn_lab::training::{self, Silent, TrainingConfig};
use churn_lab::{Events, ModelArtifact, Transactions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use storefront_client::account::PostalAddress;
use storefront_client::staff::campaigns::{
    AudienceRule, CampaignDraft, CampaignMode, CampaignResults, Channel, OfferDraft, Uplift,
};
use uuid::Uuid;

use super::{
    ADMIN_EMAIL, CURRENCY, DemoShop,
    history::{self, Order, Shelf},
    insert,
};
use crate::{
    campaigns, churn,
    domain::{
        campaigns::parse_draft,
        order::{Discount, OrderStatus},
    },
    error::ApiError,
    state::AppState,
    storage::{
        self,
        campaigns::{EnrolmentTime, ScoredCustomer},
    },
};

/// Days of future the model learns to predict: a customer who buys nothing in the 90 days
/// after the cut-off churned (the console's default too).
const WINDOW_DAYS: u32 = 90;
/// The finished campaign started this many days before the end...
const PAST_START_DAYS: i64 = 45;
/// ...and each customer's window (the code's validity) lasted this long, so every window
/// closed 15 days before the end and its results are final.
const PAST_DAYS_VALID: i32 = 30;
/// The chance that a treated customer answers the finished campaign's offer: the true
/// effect its measurement is to find.
pub const RESPONSE_RATE: f64 = 0.12;
/// Share of the other treated customers who were shown the banner (they visited while
/// logged in) without buying.
const BANNER_ONLY_SHARE: f64 = 0.3;
/// ChaCha8 stream of the finished campaign's responses.
const RESPONSE_STREAM: u64 = 3;

pub const PAST_CAMPAIGN_NAME: &str = "Win back lapsing customers (demo, finished)";
pub const LIVE_CAMPAIGN_NAME: &str = "Win back lapsing customers";

/// The finished campaign's draft: 15 % off €30 for customers at medium or high risk who have
/// not ordered for a month; a fifth held out, so the interval is narrow enough to read.
fn past_draft() -> CampaignDraft {
    CampaignDraft {
        name: PAST_CAMPAIGN_NAME.to_owned(),
        audience: lapsing_regulars(),
        offer: offer(PAST_DAYS_VALID),
        channels: vec![Channel::Email, Channel::Web],
        holdout_percent: 20,
        frequency_cap_days: 30,
        max_recipients: None,
        mode: CampaignMode::OneOff,
    }
}

/// The running campaign: the same offer for two weeks, enrolling who newly qualifies after
/// each scoring run, at most 200 offered (the mailbox stays readable).
fn live_draft() -> CampaignDraft {
    CampaignDraft {
        name: LIVE_CAMPAIGN_NAME.to_owned(),
        audience: lapsing_regulars(),
        offer: offer(14),
        channels: vec![Channel::Email, Channel::Web],
        holdout_percent: 10,
        frequency_cap_days: 30,
        max_recipients: Some(200),
        mode: CampaignMode::Automatic,
    }
}

fn lapsing_regulars() -> AudienceRule {
    AudienceRule {
        risk_bands: vec!["medium".to_owned(), "high".to_owned()],
        min_days_since_last_order: Some(30),
        exclude_opted_out: true,
        ..AudienceRule::default()
    }
}

fn offer(days_valid: i32) -> OfferDraft {
    OfferDraft {
        percent_basis_points: Some(1500),
        amount_minor: None,
        currency: CURRENCY.to_owned(),
        min_spend_minor: 3000,
        days_valid,
    }
}

/// What `demo-retention` did.
#[derive(Debug, Clone, PartialEq)]
pub enum RetentionOutcome {
    Prepared(Box<Prepared>),
    /// A churn model is active already: the shop has its intelligence.
    AlreadyPresent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub model_version: String,
    pub model_kind: String,
    /// The chosen model's ROC-AUC on the held-out test customers.
    pub test_roc_auc: f64,
    pub training_seconds: f64,
    pub scored: usize,
    pub past_campaign: Option<CampaignResults>,
    /// Orders placed with the finished campaign's codes.
    pub responses: usize,
    pub live_campaign: Option<(Uuid, i64, i64)>,
    /// A treated customer of the running campaign to log in as, to see the banner.
    pub banner_customer: Option<String>,
}

impl fmt::Display for RetentionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prepared = match self {
            Self::AlreadyPresent => {
                return f.write_str(
                    "a churn model is active already; the demo's scores and campaigns are in place",
                );
            }
            Self::Prepared(prepared) => prepared,
        };
        writeln!(
            f,
            "trained churn model {} ({}, test ROC-AUC {:.3}) in {:.0} s, activated it and \
             scored {} customers",
            prepared.model_version,
            prepared.model_kind,
            prepared.test_roc_auc,
            prepared.training_seconds,
            prepared.scored
        )?;
        if let Some(results) = &prepared.past_campaign {
            write!(
                f,
                "campaign \"{PAST_CAMPAIGN_NAME}\": {} treated, {} held out, {} answered the \
                 offer (true response rate {:.0} %); ",
                results.treated.customers,
                results.held_out.customers,
                prepared.responses,
                RESPONSE_RATE * 100.0
            )?;
            match &results.purchase_rate_uplift {
                Uplift::Measured {
                    estimate,
                    low,
                    high,
                    ..
                } => writeln!(
                    f,
                    "measured uplift {estimate:+.1} points (95 % interval {low:+.1} to {high:+.1})"
                )?,
                Uplift::TooEarly { .. } => writeln!(f, "too early to measure")?,
            }
        }
        match &prepared.live_campaign {
            Some((_, treated, held_out)) => write!(
                f,
                "campaign \"{LIVE_CAMPAIGN_NAME}\" is running: {treated} offered (emails to those \
                 who said yes to marketing), {held_out} held out"
            )?,
            None => write!(
                f,
                "campaign \"{LIVE_CAMPAIGN_NAME}\" was not launched: nobody qualifies today"
            )?,
        }
        if let Some(customer) = &prepared.banner_customer {
            write!(f, "; log in to the shop as {customer} to see the offer")?;
        }
        Ok(())
    }
}

/// Trains, activates and scores, then adds the demo's two campaigns; nothing when a model
/// is active already. The demo shop (`load_with`) must be loaded.
pub async fn prepare(
    state: &AppState,
    seed: u64,
    config: impl FnOnce(TrainingConfig) -> TrainingConfig + Send + 'static,
) -> anyhow::Result<RetentionOutcome> {
    if storage::churn::active_version(&state.mongo)
        .await?
        .is_some()
    {
        return Ok(RetentionOutcome::AlreadyPresent);
    }
    let Some(ends_at) = insert::loaded_end(&state.db).await? else {
        bail!("the demo shop is not loaded: run `storefront-api demo-data` first");
    };
    let admin = admin_id(&state.db).await?;

    let records = storage::churn::transactions(&state.db, None).await?;
    let event_records = storage::churn::events(&state.batch_mongo, None).await?;
    let started = std::time::Instant::now();
    let (artifact, test_roc_auc, transactions, events) = tokio::task::spawn_blocking(move || {
        let transactions = Transactions::from_records(&records).with_source("the demo shop");
        let events = Events::from_records(&event_records).with_source("the demo shop");
        let last_day = transactions
            .last_date()
            .context("the demo shop has no orders")?;
        let cutoff = last_day - TimeDelta::days(i64::from(WINDOW_DAYS));
        let config = config(TrainingConfig::new(cutoff, WINDOW_DAYS));
        let outcome = training::train(&transactions, Some(&events), &config, &Silent)
            .context("training the demo's churn model failed")?;
        let chosen = outcome.summary.chosen;
        let auc = outcome
            .summary
            .models
            .iter()
            .find(|m| m.model == chosen)
            .map_or(f64::NAN, |m| m.test.roc_auc);
        anyhow::Ok((outcome.artifact, auc, transactions, events))
    })
    .await??;
    let training_seconds = started.elapsed().as_secs_f64();
    register(state, &artifact, admin).await?;

    let (past_campaign, responses) = if campaign_named(&state.db, PAST_CAMPAIGN_NAME)
        .await?
        .is_some()
    {
        (None, 0)
    } else {
        let start = ends_at - TimeDelta::days(PAST_START_DAYS);
        let scores = scores_as_of(&artifact, transactions, events, start).await?;
        let (id, responses) = past_campaign(state, seed, start, &scores, admin).await?;
        (
            Some(campaigns::detail(state, id).await.map_err(api)?.results),
            responses,
        )
    };

    churn::activate_model(state, &artifact.version, admin)
        .await
        .map_err(api)?;
    // The past campaign's enrolments and orders, in the statistics before the live one's
    // audience and staff's results are read.
    super::insert::analyze(&state.db).await?;
    let (_, scored, _) = churn::score_all_now(state).await?;
    let live_campaign = match campaigns::launch(state, &live_draft(), admin).await {
        Ok(campaign) => Some((campaign.id, campaign.treated, campaign.held_out)),
        Err(ApiError::Validation(_)) => None,
        Err(error) => return Err(api(error)),
    };
    let banner_customer = match &live_campaign {
        Some((id, ..)) => treated_customer(&state.db, *id).await?,
        None => None,
    };
    Ok(RetentionOutcome::Prepared(Box::new(Prepared {
        model_version: artifact.version.clone(),
        model_kind: artifact.kind.name().to_owned(),
        test_roc_auc,
        training_seconds,
        scored,
        past_campaign,
        responses,
        live_campaign,
        banner_customer,
    })))
}

fn api(error: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

async fn admin_id(db: &PgPool) -> anyhow::Result<Uuid> {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1::text::citext")
        .bind(ADMIN_EMAIL)
        .fetch_optional(db)
        .await?
        .context("the demo admin is missing: run `storefront-api demo-data` first")
}

/// Registers the model, unless an earlier, interrupted run did.
async fn register(state: &AppState, artifact: &ModelArtifact, admin: Uuid) -> anyhow::Result<()> {
    let bytes = artifact.to_json();
    match churn::register_model(state, artifact, &bytes, admin).await {
        Ok(_) => Ok(()),
        Err(ApiError::Conflict {
            code: "version_exists",
            ..
        }) => Ok(()),
        Err(error) => Err(api(error)),
    }
}

async fn campaign_named(db: &PgPool, name: &str) -> anyhow::Result<Option<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM campaigns WHERE name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?,
    )
}

/// Every customer's score as the model saw them on `at`'s day, from what came before it.
async fn scores_as_of(
    artifact: &ModelArtifact,
    transactions: Transactions,
    events: Events,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<ScoredCustomer>> {
    let model = artifact.clone();
    let scores = tokio::task::spawn_blocking(move || {
        churn_lab::scoring::score(&model, &transactions, Some(&events), at.date_naive())
    })
    .await??;
    Ok(scores
        .into_iter()
        .filter_map(|score| churn::stored_score(score).scored())
        .collect())
}

/// Launches the finished campaign at `start`, adds the answers of the treated customers who
/// respond and the exposures, and ends it when its windows closed. Returns its id and how
/// many answered.
async fn past_campaign(
    state: &AppState,
    seed: u64,
    start: DateTime<Utc>,
    scores: &[ScoredCustomer],
    admin: Uuid,
) -> anyhow::Result<(Uuid, usize)> {
    let draft = past_draft();
    let new = parse_draft(&draft)
        .map_err(|errors| anyhow::anyhow!("the demo campaign's draft is invalid: {errors:?}"))?;
    // Below 2^53, as every campaign seed.
    let campaign_seed = i64::try_from(seed % (1 << 53)).unwrap_or(1).max(1);
    let (id, _) = storage::campaigns::launch(
        &state.db,
        &new,
        campaign_seed,
        scores,
        None,
        admin,
        EnrolmentTime::BackDated(start),
    )
    .await
    .context("launching the demo's finished campaign failed")?;

    let treated: Vec<Treated> = sqlx::query_as(
        "SELECT e.account_id, d.id AS code_id, d.code::text AS code, e.window_ends_at,
                (SELECT o.shipping_address FROM orders o WHERE o.account_id = e.account_id
                  ORDER BY o.placed_at DESC LIMIT 1) AS last_address
           FROM campaign_enrolments e JOIN discount_codes d ON d.id = e.discount_code_id
          WHERE e.campaign_id = $1 ORDER BY e.account_id",
    )
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    let shop = super::generate(seed, insert::loaded_end(&state.db).await?.unwrap_or(start));
    let discount = Discount {
        value: new.offer.value,
        min_subtotal_minor: new.offer.min_spend_minor,
    };
    let Responses {
        orders,
        redemptions,
        banners,
    } = responses(&shop, seed, start, &treated, discount);

    let mut tx = state.db.begin().await?;
    insert::insert_orders(&mut tx, &orders).await?;
    insert::insert_order_lines(&mut tx, &orders).await?;
    insert::insert_payments(&mut tx, &orders).await?;
    let order_ids: Vec<Uuid> = redemptions.iter().map(|r| r.order).collect();
    let code_ids: Vec<Uuid> = redemptions.iter().map(|r| r.code_id).collect();
    let codes: Vec<&str> = redemptions.iter().map(|r| r.code.as_str()).collect();
    let accounts: Vec<Uuid> = redemptions.iter().map(|r| r.account).collect();
    let placed: Vec<DateTime<Utc>> = redemptions.iter().map(|r| r.placed_at).collect();
    sqlx::query(
        "WITH used AS (
             INSERT INTO discount_redemptions (order_id, discount_code_id, account_id, created_at)
             SELECT o, c, a, p FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[])
                    AS t (o, c, a, p)
             RETURNING discount_code_id)
         UPDATE discount_codes SET times_used = times_used + 1
          WHERE id IN (SELECT discount_code_id FROM used)",
    )
    .bind(&order_ids)
    .bind(&code_ids)
    .bind(&accounts)
    .bind(&placed)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orders o SET discount_code = t.code
           FROM UNNEST($1::uuid[], $2::text[]) AS t (id, code) WHERE o.id = t.id",
    )
    .bind(&order_ids)
    .bind(&codes)
    .execute(&mut *tx)
    .await?;
    // The offer emails went to those who said yes to marketing, minutes after the launch.
    sqlx::query(
        "INSERT INTO campaign_exposures (campaign_id, account_id, channel, exposed_at)
         SELECT e.campaign_id, e.account_id, 'email', e.enrolled_at + interval '5 minutes'
           FROM campaign_enrolments e JOIN accounts a ON a.id = e.account_id
          WHERE e.campaign_id = $1 AND e.arm = 'treatment' AND a.marketing_consent",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let (banner_accounts, banner_times): (Vec<Uuid>, Vec<DateTime<Utc>>) =
        banners.into_iter().unzip();
    sqlx::query(
        "INSERT INTO campaign_exposures (campaign_id, account_id, channel, exposed_at)
         SELECT $1, a, 'web', at FROM UNNEST($2::uuid[], $3::timestamptz[]) AS t (a, at)",
    )
    .bind(id)
    .bind(&banner_accounts)
    .bind(&banner_times)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE campaigns SET status = 'ended', ended_at = created_at + make_interval(days => days_valid)
          WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((id, redemptions.len()))
}

/// A treated customer of the finished campaign.
#[derive(sqlx::FromRow)]
struct Treated {
    account_id: Uuid,
    code_id: Uuid,
    code: String,
    window_ends_at: DateTime<Utc>,
    /// Where their last order went (every scored customer has one).
    last_address: Option<sqlx::types::Json<PostalAddress>>,
}

/// What the treated customers did with the offer.
struct Responses {
    orders: Vec<Order>,
    redemptions: Vec<Redemption>,
    /// Who was shown the banner, and when.
    banners: Vec<(Uuid, DateTime<Utc>)>,
}

/// An order placed with a personal code.
struct Redemption {
    order: Uuid,
    code_id: Uuid,
    code: String,
    account: Uuid,
    placed_at: DateTime<Utc>,
}

/// Who of the treated answers the offer (each with [`RESPONSE_RATE`]) and when: their
/// orders, paid ones' redemptions, and the banners shown (to every responder before they
/// bought, and to some others). Pure: the same seed and enrolment give the same answers.
fn responses(
    shop: &DemoShop,
    seed: u64,
    start: DateTime<Utc>,
    treated: &[Treated],
    discount: Discount,
) -> Responses {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(RESPONSE_STREAM);
    let shelf = Shelf::stock(shop, seed);
    let (mut orders, mut redemptions, mut banners) = (Vec::new(), Vec::new(), Vec::new());
    for Treated {
        account_id: account,
        code_id,
        code,
        window_ends_at,
        last_address,
    } in treated
    {
        let responds = rng.random_bool(RESPONSE_RATE);
        let window = (*window_ends_at - start).num_seconds().max(1);
        let at = start + TimeDelta::seconds(rng.random_range(3600..window.max(3601)));
        if !responds {
            if rng.random_bool(BANNER_ONLY_SHARE) {
                banners.push((*account, at));
            }
            continue;
        }
        banners.push((*account, at - TimeDelta::minutes(2)));
        let Some(address) = last_address.as_ref().map(|address| address.0.clone()) else {
            continue;
        };
        let Some(order) =
            history::offer_order(&mut rng, shop, &shelf, *account, address, at, discount)
        else {
            continue;
        };
        // A declined card cancels the order at once; the code stays unused.
        if order.status != OrderStatus::Cancelled || order.paid_at.is_some() {
            redemptions.push(Redemption {
                order: order.id,
                code_id: *code_id,
                code: code.clone(),
                account: *account,
                placed_at: order.placed_at,
            });
        }
        orders.push(order);
    }
    Responses {
        orders,
        redemptions,
        banners,
    }
}

/// A treated customer of the running campaign who can see the banner, the first by email.
async fn treated_customer(db: &PgPool, campaign: Uuid) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT a.email::text FROM campaign_enrolments e JOIN accounts a ON a.id = e.account_id
          WHERE e.campaign_id = $1 AND e.arm = 'treatment'
          ORDER BY length(a.email::text), a.email LIMIT 1",
    )
    .bind(campaign)
    .fetch_optional(db)
    .await?)
}
