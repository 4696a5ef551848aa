//! Accounts and their addresses in PostgreSQL.

use sqlx::PgPool;
use uuid::Uuid;

use storefront_client::account::PostalAddress;

use super::StoreError;
use crate::domain::account::{
    AddressInput, Email, Role,
    views::{Account, Address},
};

/// What a login needs to check a password.
pub struct Credentials {
    pub account_id: Uuid,
    pub role: Role,
    pub password_hash: String,
}

fn email_taken() -> StoreError {
    StoreError::conflict("email_taken", "An account with this email already exists.")
}

pub async fn create_account(
    db: &PgPool,
    email: &Email,
    password_hash: &str,
    full_name: &str,
    role: Role,
) -> Result<Account, StoreError> {
    sqlx::query_as!(
        Account,
        r#"INSERT INTO accounts (id, email, password_hash, full_name, role)
           VALUES ($1, $2, $3, $4, $5::text::account_role)
           RETURNING id, email::text AS "email!", full_name, role AS "role: Role", created_at"#,
        Uuid::now_v7(),
        email.as_str() as _,
        password_hash,
        full_name,
        role.as_str(),
    )
    .fetch_one(db)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("accounts_email_key", email_taken)]))
}

pub async fn credentials(db: &PgPool, email: &Email) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as!(
        Credentials,
        r#"SELECT id AS account_id, role AS "role: Role", password_hash
           FROM accounts WHERE email = $1::text::citext"#,
        email.as_str(),
    )
    .fetch_optional(db)
    .await?)
}

pub async fn password_hash(db: &PgPool, account_id: Uuid) -> Result<String, StoreError> {
    sqlx::query_scalar!(
        "SELECT password_hash FROM accounts WHERE id = $1",
        account_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound("account"))
}

pub async fn account(db: &PgPool, account_id: Uuid) -> Result<Account, StoreError> {
    sqlx::query_as!(
        Account,
        r#"SELECT id, email::text AS "email!", full_name, role AS "role: Role", created_at
           FROM accounts WHERE id = $1"#,
        account_id,
    )
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound("account"))
}

pub async fn update_profile(
    db: &PgPool,
    account_id: Uuid,
    email: Option<&Email>,
    full_name: Option<&str>,
) -> Result<Account, StoreError> {
    sqlx::query_as!(
        Account,
        r#"UPDATE accounts SET
               email = COALESCE($2::text::citext, email),
               full_name = COALESCE($3, full_name),
               updated_at = now()
           WHERE id = $1
           RETURNING id, email::text AS "email!", full_name, role AS "role: Role", created_at"#,
        account_id,
        email.map(Email::as_str),
        full_name,
    )
    .fetch_optional(db)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("accounts_email_key", email_taken)]))?
    .ok_or(StoreError::NotFound("account"))
}

pub async fn set_password_hash(
    db: &PgPool,
    account_id: Uuid,
    password_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1",
        account_id,
        password_hash,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Creates or promotes a staff/admin account (the CLI's job; never reachable over HTTP).
pub async fn upsert_staff(
    db: &PgPool,
    email: &Email,
    password_hash: &str,
    full_name: &str,
    role: Role,
) -> Result<Account, StoreError> {
    Ok(sqlx::query_as!(
        Account,
        r#"INSERT INTO accounts (id, email, password_hash, full_name, role)
           VALUES ($1, $2::text::citext, $3, $4, $5::text::account_role)
           ON CONFLICT (email) DO UPDATE SET
               password_hash = EXCLUDED.password_hash,
               full_name = EXCLUDED.full_name,
               role = EXCLUDED.role,
               updated_at = now()
           RETURNING id, email::text AS "email!", full_name, role AS "role: Role", created_at"#,
        Uuid::now_v7(),
        email.as_str(),
        password_hash,
        full_name,
        role.as_str(),
    )
    .fetch_one(db)
    .await?)
}

/// An `addresses` row; the wire's `Address` nests the postal part.
struct AddressRow {
    id: Uuid,
    label: Option<String>,
    full_name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: String,
    phone: Option<String>,
    is_default: bool,
}

impl From<AddressRow> for Address {
    fn from(row: AddressRow) -> Self {
        Self {
            id: row.id,
            label: row.label,
            address: PostalAddress {
                full_name: row.full_name,
                line1: row.line1,
                line2: row.line2,
                city: row.city,
                region: row.region,
                postal_code: row.postal_code,
                country: row.country,
                phone: row.phone,
            },
            is_default: row.is_default,
        }
    }
}

pub async fn addresses(db: &PgPool, account_id: Uuid) -> Result<Vec<Address>, StoreError> {
    let rows = sqlx::query_as!(
        AddressRow,
        r#"SELECT id, label, full_name, line1, line2, city, region, postal_code,
                  country AS "country!", phone, is_default
           FROM addresses WHERE account_id = $1 ORDER BY is_default DESC, created_at"#,
        account_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Address::from).collect())
}

/// Saves an address (new when `address_id` is `None`); making it the default clears the old
/// default in the same transaction.
pub async fn save_address(
    db: &PgPool,
    account_id: Uuid,
    address_id: Option<Uuid>,
    input: &AddressInput,
) -> Result<Address, StoreError> {
    let mut tx = db.begin().await?;
    // Serialises address writes of one account, so two "make this the default" saves cannot
    // both clear the old default and then collide.
    sqlx::query_scalar!(
        "SELECT id FROM accounts WHERE id = $1 FOR UPDATE",
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("account"))?;
    if input.is_default {
        sqlx::query!(
            "UPDATE addresses SET is_default = false WHERE account_id = $1 AND is_default",
            account_id
        )
        .execute(&mut *tx)
        .await?;
    }
    let postal = &input.address;
    let saved = match address_id {
        None => sqlx::query_as!(
            AddressRow,
            r#"INSERT INTO addresses (id, account_id, label, full_name, line1, line2, city, region,
                                      postal_code, country, phone, is_default)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               RETURNING id, label, full_name, line1, line2, city, region, postal_code,
                         country AS "country!", phone, is_default"#,
            Uuid::now_v7(),
            account_id,
            input.label,
            postal.full_name,
            postal.line1,
            postal.line2,
            postal.city,
            postal.region,
            postal.postal_code,
            postal.country,
            postal.phone,
            input.is_default,
        )
        .fetch_one(&mut *tx)
        .await?,
        Some(address_id) => sqlx::query_as!(
            AddressRow,
            r#"UPDATE addresses SET label = $3, full_name = $4, line1 = $5, line2 = $6, city = $7,
                      region = $8, postal_code = $9, country = $10, phone = $11, is_default = $12
               WHERE id = $1 AND account_id = $2
               RETURNING id, label, full_name, line1, line2, city, region, postal_code,
                         country AS "country!", phone, is_default"#,
            address_id,
            account_id,
            input.label,
            postal.full_name,
            postal.line1,
            postal.line2,
            postal.city,
            postal.region,
            postal.postal_code,
            postal.country,
            postal.phone,
            input.is_default,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("address"))?,
    };
    tx.commit().await?;
    Ok(saved.into())
}

pub async fn delete_address(
    db: &PgPool,
    account_id: Uuid,
    address_id: Uuid,
) -> Result<(), StoreError> {
    let deleted = sqlx::query!(
        "DELETE FROM addresses WHERE id = $1 AND account_id = $2",
        address_id,
        account_id
    )
    .execute(db)
    .await?
    .rows_affected();
    if deleted == 0 {
        return Err(StoreError::NotFound("address"));
    }
    Ok(())
}

/// Customers for staff, newest first, optionally matching part of the email or name.
pub async fn staff_customers(
    db: &PgPool,
    text: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Account>, i64), StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id, email::text AS "email!", full_name, role AS "role: Role", created_at,
                  count(*) OVER () AS "total!"
             FROM accounts
            WHERE role = 'customer'
              AND ($1::text IS NULL OR strpos(email::text, lower($1)) > 0
                   OR strpos(lower(full_name), lower($1)) > 0)
            ORDER BY created_at DESC, id DESC
            LIMIT $2 OFFSET $3"#,
        text,
        limit,
        offset,
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let customers = rows
        .into_iter()
        .map(|row| Account {
            id: row.id,
            email: row.email,
            full_name: row.full_name,
            role: row.role,
            created_at: row.created_at,
        })
        .collect();
    Ok((customers, total))
}
