//! Categories: the tree with product counts, breadcrumbs, and the staff's changes (which
//! keep the tree a tree).

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::category_slug_taken;
use crate::domain::{
    FieldError,
    catalog::{
        Slug,
        edits::{CategoryChanges, NewCategory},
        views::{CategoryNode, CategoryRef},
    },
    money::Currency,
};
use crate::storage::{
    StoreError,
    audit::{self, Entity},
};

/// The ids of a category and all its descendants, or `None` if the slug is unknown.
pub async fn category_subtree(db: &PgPool, slug: &str) -> Result<Option<Vec<Uuid>>, StoreError> {
    let ids = sqlx::query_scalar!(
        r#"WITH RECURSIVE tree AS (
               SELECT id FROM categories WHERE slug = $1
               UNION
               SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
           )
           SELECT id AS "id!" FROM tree"#,
        slug
    )
    .fetch_all(db)
    .await?;
    Ok((!ids.is_empty()).then_some(ids))
}

/// The category tree with the counts of active products sold in `currency` (those with a
/// price in it), sub-categories included.
pub async fn category_tree(
    db: &PgPool,
    currency: Currency,
) -> Result<Vec<CategoryNode>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.parent_id, c.slug, c.name, c.position,
                  (SELECT count(*) FROM products p
                     JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = $1
                    WHERE p.category_id = c.id AND p.status = 'active') AS "own_count!"
             FROM categories c ORDER BY c.position, c.name"#,
        currency.code()
    )
    .fetch_all(db)
    .await?;
    let flat = rows
        .into_iter()
        .map(|row| {
            (
                CategoryNode {
                    id: row.id,
                    slug: row.slug,
                    name: row.name,
                    parent_id: row.parent_id,
                    position: row.position,
                    product_count: 0,
                    children: Vec::new(),
                },
                row.own_count,
            )
        })
        .collect();
    Ok(crate::domain::catalog::build_category_tree(flat))
}

pub(super) async fn breadcrumbs(
    db: &PgPool,
    category_id: Uuid,
) -> Result<Vec<CategoryRef>, StoreError> {
    Ok(sqlx::query_as!(
        CategoryRef,
        r#"WITH RECURSIVE up AS (
               SELECT id, parent_id, slug, name, 0 AS depth FROM categories WHERE id = $1
               UNION ALL
               SELECT c.id, c.parent_id, c.slug, c.name, up.depth + 1
                 FROM categories c JOIN up ON c.id = up.parent_id
                WHERE up.depth < 32
           )
           SELECT id AS "id!", slug AS "slug!", name AS "name!" FROM up ORDER BY depth DESC"#,
        category_id
    )
    .fetch_all(db)
    .await?)
}

pub async fn create_category(
    db: &PgPool,
    new: &NewCategory,
    actor_id: Uuid,
) -> Result<CategoryRef, StoreError> {
    let mut tx = db.begin().await?;
    let category = sqlx::query_as!(
        CategoryRef,
        r#"INSERT INTO categories (id, parent_id, slug, name, position)
           VALUES ($1, $2, $3, $4, $5) RETURNING id, slug, name"#,
        Uuid::now_v7(),
        new.parent_id,
        new.slug.as_str(),
        new.name,
        new.position,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("categories_slug_key", category_slug_taken),
                ("categories_parent_id_fkey", || {
                    StoreError::Invalid(FieldError::new("parent_id", "no such category"))
                }),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Category, category.id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "category.create",
        Entity::Category,
        category.id,
        Value::Null,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(category)
}

/// Changes a category. Moving it under itself or one of its descendants is refused, so the
/// tree stays a tree.
pub async fn update_category(
    db: &PgPool,
    id: Uuid,
    changes: &CategoryChanges,
    actor_id: Uuid,
) -> Result<CategoryRef, StoreError> {
    let mut tx = db.begin().await?;
    if changes.parent_id.is_some() {
        // Moves are serialised: two concurrent moves could each pass the check and together
        // make a cycle. The table lock comes first, before any row lock, so that two moves
        // queue instead of deadlocking.
        sqlx::query!("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query!("SELECT id FROM categories WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("category"))?;
    let before = audit::snapshot(&mut tx, Entity::Category, id).await?;
    if let Some(Some(parent)) = changes.parent_id {
        let creates_cycle = sqlx::query_scalar!(
            r#"WITH RECURSIVE subtree AS (
                   SELECT id FROM categories WHERE id = $1
                   UNION
                   SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id
               )
               SELECT EXISTS (SELECT 1 FROM subtree WHERE id = $2) AS "cycle!""#,
            id,
            parent
        )
        .fetch_one(&mut *tx)
        .await?;
        if creates_cycle {
            return Err(StoreError::Invalid(FieldError::new(
                "parent_id",
                "a category cannot move under itself or one of its sub-categories",
            )));
        }
    }
    let category = sqlx::query_as!(
        CategoryRef,
        r#"UPDATE categories SET
               slug = COALESCE($2, slug),
               name = COALESCE($3, name),
               parent_id = CASE WHEN $4::bool THEN $5 ELSE parent_id END,
               position = COALESCE($6, position)
           WHERE id = $1
           RETURNING id, slug, name"#,
        id,
        changes.slug.as_ref().map(Slug::as_str),
        changes.name,
        changes.parent_id.is_some(),
        changes.parent_id.flatten(),
        changes.position,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| {
        StoreError::map_constraint(
            error,
            &[
                ("categories_slug_key", category_slug_taken),
                ("categories_parent_id_fkey", || {
                    StoreError::Invalid(FieldError::new("parent_id", "no such category"))
                }),
            ],
        )
    })?;
    let after = audit::snapshot(&mut tx, Entity::Category, id).await?;
    audit::record(
        &mut tx,
        actor_id,
        "category.update",
        Entity::Category,
        id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(category)
}
