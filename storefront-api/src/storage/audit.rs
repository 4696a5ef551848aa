//! The audit log: who did what to which entity, with the state before and after, written in
//! the transaction of the change itself.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::StoreError;
pub use storefront_client::staff::AuditEntry;

/// What staff change, as named in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Product,
    Variant,
    Category,
    DiscountCode,
    Order,
    Review,
    ChurnModel,
    Account,
    WebhookEndpoint,
    Campaign,
    Promotion,
    Segment,
}

impl Entity {
    pub const ALL: [Self; 12] = [
        Self::Product,
        Self::Variant,
        Self::Category,
        Self::DiscountCode,
        Self::Order,
        Self::Review,
        Self::ChurnModel,
        Self::Account,
        Self::WebhookEndpoint,
        Self::Campaign,
        Self::Promotion,
        Self::Segment,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|entity| entity.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Variant => "variant",
            Self::Category => "category",
            Self::DiscountCode => "discount_code",
            Self::Order => "order",
            Self::Review => "review",
            Self::ChurnModel => "churn_model",
            Self::Account => "account",
            Self::WebhookEndpoint => "webhook_endpoint",
            Self::Campaign => "campaign",
            Self::Promotion => "promotion",
            Self::Segment => "segment",
        }
    }
}

/// The row of a catalog entity as JSON, for before/after snapshots (`Null` if absent).
pub async fn snapshot(
    tx: &mut Transaction<'_, Postgres>,
    entity: Entity,
    id: Uuid,
) -> Result<Value, sqlx::Error> {
    let row =
        match entity {
            Entity::Product => sqlx::query_scalar!(
                r#"SELECT to_jsonb(p) - 'search_document' AS "row!" FROM products p WHERE id = $1"#,
                id
            )
            .fetch_optional(&mut **tx)
            .await?,
            Entity::Variant => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(v) || jsonb_build_object('market_prices', COALESCE(
                        (SELECT jsonb_agg(to_jsonb(vp) - 'variant_id' ORDER BY vp.currency)
                           FROM variant_prices vp WHERE vp.variant_id = v.id), '[]')) AS "row!"
                         FROM variants v WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Entity::Category => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(c) AS "row!" FROM categories c WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Entity::DiscountCode => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(d) AS "row!" FROM discount_codes d WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            // Never the signing secret: the audit log is readable with `audit` alone.
            Entity::WebhookEndpoint => sqlx::query_scalar!(
                r#"SELECT to_jsonb(w) - 'secret' AS "row!" FROM webhook_endpoints w WHERE id = $1"#,
                id
            )
            .fetch_optional(&mut **tx)
            .await?,
            Entity::Campaign => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(c) AS "row!" FROM campaigns c WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Entity::Promotion => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(p) AS "row!" FROM promotions p WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Entity::Segment => {
                sqlx::query_scalar!(
                    r#"SELECT to_jsonb(s) AS "row!" FROM customer_segments s WHERE id = $1"#,
                    id
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Entity::Order | Entity::Review | Entity::ChurnModel | Entity::Account => None,
        };
    Ok(row.unwrap_or(Value::Null))
}

/// Writes one audit row in the caller's transaction. The actor is `None` for what the shop
/// does on its own (the reaper settling a refund).
pub async fn record(
    tx: &mut Transaction<'_, Postgres>,
    actor_id: impl Into<Option<Uuid>>,
    action: &str,
    entity: Entity,
    entity_id: Uuid,
    before: Value,
    after: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
           VALUES ($1, $2, $3, $4, $5, $6)"#,
        actor_id.into(),
        action,
        entity.as_str(),
        entity_id,
        before,
        after
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The rows of many products or variants as JSON, for before/after snapshots of a bulk
/// write (the catalog import); ids that do not exist are left out.
pub async fn catalog_snapshots(
    tx: &mut Transaction<'_, Postgres>,
    entity: Entity,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Value>, sqlx::Error> {
    let rows = match entity {
        Entity::Product => sqlx::query!(
            r#"SELECT id, to_jsonb(p) - 'search_document' AS "row!" FROM products p
                    WHERE id = ANY($1)"#,
            ids
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.row))
        .collect(),
        Entity::Variant => sqlx::query!(
            r#"SELECT id, to_jsonb(v) || jsonb_build_object('market_prices', COALESCE(
                        (SELECT jsonb_agg(to_jsonb(vp) - 'variant_id' ORDER BY vp.currency)
                           FROM variant_prices vp WHERE vp.variant_id = v.id), '[]')) AS "row!"
                 FROM variants v WHERE id = ANY($1)"#,
            ids
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.row))
        .collect(),
        other => {
            let mut rows = std::collections::HashMap::new();
            for id in ids {
                rows.insert(*id, snapshot(tx, other, *id).await?);
            }
            rows
        }
    };
    Ok(rows)
}

/// Writes one audit row per entity of a bulk change, in one statement: `before` holds the
/// rows as they were (none for a creation), `after` as they are.
pub async fn record_many(
    tx: &mut Transaction<'_, Postgres>,
    actor_id: Uuid,
    action: &str,
    entity: Entity,
    before: &std::collections::HashMap<Uuid, Value>,
    after: &std::collections::HashMap<Uuid, Value>,
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = after.keys().copied().collect();
    let befores: Vec<Value> = ids
        .iter()
        .map(|id| before.get(id).cloned().unwrap_or(Value::Null))
        .collect();
    let afters: Vec<Value> = ids.iter().map(|id| after[id].clone()).collect();
    sqlx::query!(
        r#"INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
           SELECT $1, $2, $3, u.id, u.before, u.after
             FROM UNNEST($4::uuid[], $5::jsonb[], $6::jsonb[]) AS u(id, before, after)"#,
        actor_id,
        action,
        entity.as_str(),
        &ids,
        &befores,
        &afters,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes one audit row on its own, for changes made outside PostgreSQL (MongoDB reviews).
pub async fn record_alone(
    db: &PgPool,
    actor_id: Uuid,
    action: &str,
    entity: Entity,
    entity_id: Uuid,
    before: Value,
    after: Value,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    record(&mut tx, actor_id, action, entity, entity_id, before, after).await?;
    tx.commit().await?;
    Ok(())
}

/// The log of one entity, oldest first; or, without an entity, the latest entries.
pub async fn trail(
    db: &PgPool,
    entity: Option<(Entity, Uuid)>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let (entity, id) = match entity {
        Some((entity, id)) => (Some(entity.as_str()), Some(id)),
        None => (None, None),
    };
    let mut rows = sqlx::query_as!(
        AuditEntry,
        r#"SELECT actor_id, action, entity, entity_id, before, after, at FROM audit_log
            WHERE ($1::text IS NULL OR entity = $1) AND ($2::uuid IS NULL OR entity_id = $2)
            ORDER BY id DESC LIMIT $3"#,
        entity,
        id,
        limit
    )
    .fetch_all(db)
    .await?;
    rows.reverse();
    Ok(rows)
}
