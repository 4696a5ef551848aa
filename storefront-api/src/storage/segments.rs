//! Customer segments in PostgreSQL: the segments (audited), a static group's members, and
//! who belongs to a segment now — one query for both kinds, over the accounts, their orders
//! and the latest churn scores the caller passes in (they live in MongoDB).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use storefront_client::staff::segments::{Segment, SegmentKind, SegmentMember, SegmentRule};
use uuid::Uuid;

use super::{
    StoreError,
    audit::{self, Entity},
    campaigns::ScoredCustomer,
};
use crate::domain::{FieldError, segments::NewSegment};

struct SegmentRow {
    id: Uuid,
    name: String,
    kind: String,
    rule: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
}

impl TryFrom<SegmentRow> for Segment {
    type Error = StoreError;

    fn try_from(row: SegmentRow) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("segment {}: {what}", row.id));
        let kind = match row.kind.as_str() {
            "static" => SegmentKind::Static,
            "dynamic" => SegmentKind::Dynamic,
            other => return Err(corrupt(format!("unknown kind {other:?}"))),
        };
        let rule = row
            .rule
            .map(serde_json::from_value::<SegmentRule>)
            .transpose()
            .map_err(|error| corrupt(format!("rule: {error}")))?;
        Ok(Segment {
            id: row.id,
            name: row.name,
            kind,
            rule,
            created_at: row.created_at,
        })
    }
}

fn kind_str(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Static => "static",
        SegmentKind::Dynamic => "dynamic",
    }
}

pub async fn create(db: &PgPool, new: &NewSegment, actor_id: Uuid) -> Result<Segment, StoreError> {
    let mut tx = db.begin().await?;
    let rule = new
        .rule
        .as_ref()
        .map(|rule| serde_json::to_value(rule).expect("segment rules serialise"));
    let created = sqlx::query_as!(
        SegmentRow,
        r#"INSERT INTO customer_segments (id, name, kind, rule)
           VALUES ($1, $2::text::citext, $3, $4)
           RETURNING id, name::text AS "name!", kind, rule, created_at"#,
        Uuid::now_v7(),
        new.name,
        kind_str(new.kind),
        rule,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[("customer_segments_name_key", || {
                StoreError::conflict("segment_name_taken", "A segment with this name exists.")
            })],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Segment, created.id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "segment.create",
        Entity::Segment,
        created.id,
        serde_json::Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    created.try_into()
}

/// Every segment, by name.
pub async fn list(db: &PgPool) -> Result<Vec<Segment>, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"SELECT id, name::text AS "name!", kind, rule, created_at
             FROM customer_segments ORDER BY name"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Segment::try_from)
    .collect()
}

pub async fn find(db: impl sqlx::PgExecutor<'_>, id: Uuid) -> Result<Option<Segment>, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"SELECT id, name::text AS "name!", kind, rule, created_at
             FROM customer_segments WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .map(Segment::try_from)
    .transpose()
}

/// Adds customers to a static group; those already in it stay, once. Returns how many
/// joined. A dynamic segment is refused (409), an id that is no customer's named (422).
pub async fn add_members(
    db: &PgPool,
    segment: &Segment,
    account_ids: &[Uuid],
    actor_id: Uuid,
) -> Result<u64, StoreError> {
    if segment.kind == SegmentKind::Dynamic {
        return Err(StoreError::conflict(
            "segment_is_dynamic",
            "A dynamic segment's members are whoever matches its rule; add customers to a static group.",
        ));
    }
    let mut tx = db.begin().await?;
    // Held until the members are in: an erasure of one of them waits, then removes them.
    sqlx::query!(
        "SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR SHARE",
        account_ids
    )
    .fetch_all(&mut *tx)
    .await?;
    let unknown = sqlx::query_scalar!(
        r#"SELECT wanted.id AS "id!" FROM unnest($1::uuid[]) AS wanted(id)
            WHERE NOT EXISTS (SELECT 1 FROM accounts a
                               WHERE a.id = wanted.id AND a.role = 'customer'
                                 AND a.erased_at IS NULL)
            LIMIT 1"#,
        account_ids
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(unknown) = unknown {
        return Err(StoreError::Invalid(FieldError::new(
            "account_ids",
            format!("there is no customer {unknown}"),
        )));
    }
    let added = sqlx::query!(
        "INSERT INTO customer_segment_members (segment_id, account_id)
         SELECT $1, id FROM unnest($2::uuid[]) AS id
         ON CONFLICT DO NOTHING",
        segment.id,
        account_ids
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit::record(
        &mut tx,
        actor_id,
        "segment.add_members",
        Entity::Segment,
        segment.id,
        serde_json::Value::Null,
        serde_json::json!({ "account_ids": account_ids, "added": added }),
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Takes a customer out of a static group (nothing happens if they were not in it).
pub async fn remove_member(
    db: &PgPool,
    segment_id: Uuid,
    account_id: Uuid,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query!(
        "DELETE FROM customer_segment_members WHERE segment_id = $1 AND account_id = $2",
        segment_id,
        account_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed > 0 {
        audit::record(
            &mut tx,
            actor_id,
            "segment.remove_member",
            Entity::Segment,
            segment_id,
            serde_json::json!({ "account_id": account_id }),
            serde_json::Value::Null,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether one customer belongs to `segment` now (`score`: theirs in the latest run). The
/// same rule as [`members`], asked of one account by its key — a cart read asks it — rather
/// than of every account.
pub async fn includes(
    db: &PgPool,
    segment: &Segment,
    score: Option<&ScoredCustomer>,
    account_id: Uuid,
) -> Result<bool, StoreError> {
    let found = members_of(
        db,
        segment,
        score.map(std::slice::from_ref).unwrap_or_default(),
        Some(account_id),
    )
    .await?;
    Ok(!found.is_empty())
}

/// Who belongs to `segment` now, by email: a static group's members, or the customers its
/// rule matches over their paid orders and `scores` (the latest run's; a churn condition
/// needs a score). Staff, disabled and erased accounts never do.
pub async fn members(
    db: impl sqlx::PgExecutor<'_>,
    segment: &Segment,
    scores: &[ScoredCustomer],
) -> Result<Vec<SegmentMember>, StoreError> {
    members_of(db, segment, scores, None).await
}

/// The candidates are the account `only` when it is given (found by its key), every account
/// otherwise: the two branches of a `UNION ALL`, each guarded by a condition on the parameter
/// alone, so even a cached generic plan skips the branch it does not need instead of
/// scanning every account for a cart read.
async fn members_of(
    db: impl sqlx::PgExecutor<'_>,
    segment: &Segment,
    scores: &[ScoredCustomer],
    only: Option<Uuid>,
) -> Result<Vec<SegmentMember>, StoreError> {
    let ids: Vec<Uuid> = scores.iter().map(|s| s.account_id).collect();
    let bands: Vec<String> = scores.iter().map(|s| s.band.clone()).collect();
    let probabilities: Vec<f64> = scores.iter().map(|s| s.probability).collect();
    let values: Vec<Option<i64>> = scores.iter().map(|s| s.predicted_value_minor).collect();
    let rule = segment.rule.clone().unwrap_or_default();
    let group = (segment.kind == SegmentKind::Static).then_some(segment.id);
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id!", a.email::text AS "email!", a.full_name AS "full_name!", st.orders AS "orders!",
                  st.spent AS "spent!", st.last_order_at, s.band AS "band?",
                  s.probability AS "probability?", s.predicted_value_minor AS "predicted_value_minor?"
             FROM (SELECT * FROM accounts WHERE $5::uuid IS NULL
                   UNION ALL
                   SELECT * FROM accounts WHERE id = $5) a
             LEFT JOIN UNNEST($1::uuid[], $2::text[], $3::float8[], $4::int8[])
                  AS s (account_id, band, probability, predicted_value_minor)
                  ON s.account_id = a.id
             CROSS JOIN LATERAL (
                  SELECT COUNT(*) AS orders,
                         COALESCE(SUM(o.total_minor - o.refunded_minor), 0)::bigint AS spent,
                         MAX(o.paid_at) AS last_order_at
                    FROM orders o
                   WHERE o.account_id = a.id AND o.paid_at IS NOT NULL
                     AND o.status <> 'cancelled') st
            WHERE a.role = 'customer' AND a.erased_at IS NULL AND a.disabled_at IS NULL
              AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM customer_segment_members m
                                                WHERE m.segment_id = $6 AND m.account_id = a.id))
              AND (NOT $7 OR s.account_id IS NOT NULL)
              AND (cardinality($8::text[]) = 0 OR s.band = ANY($8))
              AND ($9::float8 IS NULL OR s.probability >= $9)
              AND ($10::float8 IS NULL OR s.probability <= $10)
              AND ($11::int8 IS NULL OR s.predicted_value_minor >= $11)
              AND ($12::int4 IS NULL OR st.last_order_at IS NULL
                   OR st.last_order_at < now() - make_interval(days => $12))
              AND ($13::int4 IS NULL OR st.last_order_at >= now() - make_interval(days => $13))
              AND ($14::int4 IS NULL OR st.orders >= $14)
              AND ($15::int8 IS NULL OR st.spent >= $15)
            ORDER BY a.email"#,
        &ids,
        &bands,
        &probabilities,
        &values as &[Option<i64>],
        only,
        group,
        rule.needs_scores(),
        &rule.risk_bands,
        rule.min_probability,
        rule.max_probability,
        rule.min_predicted_value_minor,
        rule.min_days_since_last_order,
        rule.max_days_since_last_order,
        rule.min_orders,
        rule.min_spent_minor,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SegmentMember {
            account_id: row.id,
            email: row.email,
            full_name: row.full_name,
            orders: row.orders,
            spent_minor: row.spent,
            last_order_at: row.last_order_at,
            risk_band: row.band,
            churn_probability: row.probability,
            predicted_value_minor: row.predicted_value_minor,
        })
        .collect())
}
