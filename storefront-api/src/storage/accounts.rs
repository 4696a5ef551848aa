//! Accounts and their addresses in PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use storefront_client::account::PostalAddress;

use super::{
    StoreError,
    audit::{self, Entity},
};
use crate::domain::{
    access::{NewStaff, StaffChange},
    account::{
        AddressInput, Email, Role,
        views::{Account, Address},
    },
};

/// What a login needs to check a password.
pub struct Credentials {
    pub account_id: Uuid,
    pub role: Role,
    pub password_hash: String,
    /// A disabled account cannot log in, whatever its password.
    pub disabled: bool,
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
    let mut tx = db.begin().await?;
    let account = sqlx::query_as!(
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
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("accounts_email_key", email_taken)]))?;
    if role == Role::Customer {
        super::outbox::publish(
            &mut tx,
            "customer.registered",
            serde_json::json!({
                "customer_id": account.id,
                "email": account.email,
                "full_name": account.full_name,
                "registered_at": account.created_at,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(account)
}

pub async fn credentials(db: &PgPool, email: &Email) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as!(
        Credentials,
        r#"SELECT id AS account_id, role AS "role: Role", password_hash,
                  disabled_at IS NOT NULL AS "disabled!"
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

/// A staff account as staff management shows it.
pub struct StaffRecord {
    pub account: Account,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A staff account's row.
struct StaffRow {
    id: Uuid,
    email: String,
    full_name: String,
    role: Role,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
}

impl From<StaffRow> for StaffRecord {
    fn from(row: StaffRow) -> Self {
        Self {
            account: Account {
                id: row.id,
                email: row.email,
                full_name: row.full_name,
                role: row.role,
                created_at: row.created_at,
            },
            disabled_at: row.disabled_at,
        }
    }
}

/// Every staff account: admins first, then by email.
pub async fn staff_members(db: &PgPool) -> Result<Vec<StaffRecord>, StoreError> {
    let rows = sqlx::query_as!(
        StaffRow,
        r#"SELECT id, email::text AS "email!", full_name, role AS "role: Role", created_at,
                  disabled_at
             FROM accounts WHERE role <> 'customer'
            ORDER BY role = 'admin' DESC, email"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(StaffRecord::from).collect())
}

/// Creates a staff account for staff management, audited as the actor's.
pub async fn create_staff(
    db: &PgPool,
    new: &NewStaff,
    password_hash: &str,
    actor_id: Uuid,
) -> Result<Account, StoreError> {
    let mut tx = db.begin().await?;
    let account = sqlx::query_as!(
        Account,
        r#"INSERT INTO accounts (id, email, password_hash, full_name, role)
           VALUES ($1, $2::text::citext, $3, $4, $5::text::account_role)
           RETURNING id, email::text AS "email!", full_name, role AS "role: Role", created_at"#,
        Uuid::now_v7(),
        new.email.as_str(),
        password_hash,
        new.full_name,
        new.role.as_str(),
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| StoreError::map_constraint(error, &[("accounts_email_key", email_taken)]))?;
    audit::record(
        &mut tx,
        actor_id,
        "account.created",
        Entity::Account,
        account.id,
        serde_json::Value::Null,
        serde_json::json!({ "email": account.email, "full_name": account.full_name, "role": account.role }),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Serialises changes to staff accounts, so that two admins demoting each other at once
/// cannot leave the shop without one.
const STAFF_CHANGES_LOCK: i64 = 0x4e65_7875_7353_7446;

/// A staff change as it was made.
pub struct StaffChanged {
    pub record: StaffRecord,
    /// The account's rights changed (another role, or now disabled): its open sessions carry
    /// the old ones and must end. Restating the role it has, or a new name, changes nothing.
    pub rights_changed: bool,
}

/// Changes a staff account's role, name or whether it is disabled, audited. The last enabled
/// admin can be neither demoted nor disabled (409 `last_admin`); a customer's account is not
/// a staff member (404).
pub async fn change_staff(
    db: &PgPool,
    account_id: Uuid,
    change: &StaffChange,
    actor_id: Uuid,
) -> Result<StaffChanged, StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", STAFF_CHANGES_LOCK)
        .execute(&mut *tx)
        .await?;
    let current = sqlx::query!(
        r#"SELECT role AS "role: Role", full_name, disabled_at FROM accounts
            WHERE id = $1 FOR UPDATE"#,
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .filter(|row| row.role.is_staff())
    .ok_or(StoreError::NotFound("staff member"))?;
    let role = change.role.unwrap_or(current.role);
    let disabled = change.disabled.unwrap_or(current.disabled_at.is_some());
    let was_enabled_admin = current.role == Role::Admin && current.disabled_at.is_none();
    if was_enabled_admin && (role != Role::Admin || disabled) {
        let other_admins = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM accounts
                WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1"#,
            account_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if other_admins == 0 {
            return Err(StoreError::conflict(
                "last_admin",
                "This is the shop's last enabled admin; make another admin first.",
            ));
        }
    }
    let row = sqlx::query_as!(
        StaffRow,
        r#"UPDATE accounts SET role = $2::text::account_role,
                  full_name = COALESCE($3, full_name),
                  disabled_at = CASE WHEN $4 THEN COALESCE(disabled_at, now()) END,
                  updated_at = now()
            WHERE id = $1
        RETURNING id, email::text AS "email!", full_name, role AS "role: Role", created_at,
                  disabled_at"#,
        account_id,
        role.as_str(),
        change.full_name,
        disabled,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor_id,
        "account.changed",
        Entity::Account,
        account_id,
        serde_json::json!({
            "role": current.role,
            "full_name": current.full_name,
            "disabled": current.disabled_at.is_some(),
        }),
        serde_json::json!({ "role": row.role, "full_name": row.full_name, "disabled": disabled }),
    )
    .await?;
    tx.commit().await?;
    let rights_changed = row.role != current.role || (disabled && current.disabled_at.is_none());
    Ok(StaffChanged {
        record: row.into(),
        rights_changed,
    })
}

/// One customer's account and addresses as staff see them; the read is written to the audit
/// log first (`customer.viewed`, by the actor), so no personal data is shown unrecorded.
pub async fn customer_for_staff(
    db: &PgPool,
    customer_id: Uuid,
    actor_id: Uuid,
) -> Result<(Account, Vec<Address>), StoreError> {
    let customer = account(db, customer_id).await?;
    if customer.role != Role::Customer {
        return Err(StoreError::NotFound("customer"));
    }
    audit::record_alone(
        db,
        actor_id,
        "customer.viewed",
        Entity::Account,
        customer_id,
        serde_json::Value::Null,
        serde_json::Value::Null,
    )
    .await?;
    Ok((customer, addresses(db, customer_id).await?))
}

/// Records that staff saw these customers in a list (`customer.listed`), one audit row each,
/// with the search that found them.
pub async fn record_customers_listed(
    db: &PgPool,
    customer_ids: &[Uuid],
    search: Option<&str>,
    actor_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO audit_log (actor_id, action, entity, entity_id, after)
           SELECT $1, 'customer.listed', 'account', id, jsonb_build_object('search', $3::text)
             FROM unnest($2::uuid[]) AS id"#,
        actor_id,
        customer_ids,
        search,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The numbers of the customer's orders still on their way (awaiting payment, paid,
/// fulfilled, shipped): an account cannot be erased while the shop still needs the address.
pub async fn open_order_numbers(db: &PgPool, account_id: Uuid) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT number FROM orders
            WHERE account_id = $1
              AND status IN ('pending_payment', 'paid', 'fulfilled', 'shipped')
            ORDER BY number"#,
        account_id
    )
    .fetch_all(db)
    .await?)
}

fn staff_account() -> StoreError {
    StoreError::conflict(
        "staff_account",
        "Staff accounts are disabled by an admin, not deleted.",
    )
}

fn orders_open(numbers: &[i64]) -> StoreError {
    let listed: Vec<String> = numbers.iter().map(i64::to_string).collect();
    StoreError::conflict(
        "orders_open",
        format!(
            "Orders {} are still on their way; the account can be deleted once they are \
             delivered or cancelled.",
            listed.join(", ")
        ),
    )
}

/// Erases a customer's personal data from PostgreSQL in one transaction: the account keeps
/// its row (its orders are the shop's books) with email, name and password replaced, its
/// addresses are deleted, its orders keep only the destination country of their address (in
/// the outbox's messages too), and the checkout answers recorded for its Idempotency-Keys
/// (which repeat the address) are dropped. Audited, and announced through the outbox. Refused while an order is on its way.
pub async fn erase_customer(db: &PgPool, account_id: Uuid) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    // Lock order: the customer's outbox messages first, then the account. The relay's
    // fan-out holds new messages while it queues their emails, whose foreign key waits on
    // the account row; an erasure that took the account first and then the messages deadlocked
    // with it (seen under load, answered as a 409 `concurrent_update`).
    sqlx::query_scalar!(
        r#"SELECT o.id FROM outbox o
            WHERE o.payload ->> 'customer_id' = $1::uuid::text
               OR o.ordering_key IN (SELECT id::text FROM orders WHERE account_id = $1::uuid)
            ORDER BY o.id
              FOR UPDATE"#,
        account_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let role = sqlx::query_scalar!(
        r#"SELECT role AS "role: Role" FROM accounts WHERE id = $1 AND erased_at IS NULL
           FOR UPDATE"#,
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound("account"))?;
    if role != Role::Customer {
        return Err(staff_account());
    }
    // Checked again under the account's lock: a checkout that began before the sessions
    // ended may have placed an order since the first look.
    let open = sqlx::query_scalar!(
        r#"SELECT number FROM orders
            WHERE account_id = $1
              AND status IN ('pending_payment', 'paid', 'fulfilled', 'shipped')
            ORDER BY number"#,
        account_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if !open.is_empty() {
        return Err(orders_open(&open));
    }
    sqlx::query!(
        r#"UPDATE accounts
              SET email = 'erased-' || id::text || '@erased.invalid',
                  full_name = 'Deleted customer',
                  password_hash = '!',
                  marketing_consent = false,
                  erased_at = now(),
                  disabled_at = COALESCE(disabled_at, now()),
                  updated_at = now()
            WHERE id = $1"#,
        account_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM customer_segment_members WHERE account_id = $1",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM addresses WHERE account_id = $1", account_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        r#"UPDATE orders
              SET shipping_address = jsonb_build_object(
                      'full_name', 'Deleted customer', 'line1', '', 'line2', NULL, 'city', '',
                      'region', NULL, 'postal_code', '', 'country', shipping_address->'country',
                      'phone', NULL),
                  updated_at = now()
            WHERE account_id = $1"#,
        account_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM checkout_requests WHERE account_id = $1",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    // The outbox's copies too: a registration's email and name, and the address in the
    // bodies of the orders' messages (as the orders keep it: the country alone). Messages
    // still waiting go out so redacted; the retention sweep deletes the rest in time.
    sqlx::query!(
        r#"UPDATE outbox o
              SET payload = o.payload - 'email' - 'full_name',
                  body = CASE WHEN o.body IS NULL THEN NULL ELSE
                      jsonb_set(
                          o.body #- '{data,email}' #- '{data,full_name}',
                          '{data,order,shipping_address}',
                          jsonb_build_object(
                              'full_name', 'Deleted customer', 'line1', '', 'line2', NULL,
                              'city', '', 'region', NULL, 'postal_code', '',
                              'country', o.body #> '{data,order,shipping_address,country}',
                              'phone', NULL),
                          false) END
            WHERE o.payload ->> 'customer_id' = $1::uuid::text
               OR o.ordering_key IN (SELECT id::text FROM orders WHERE account_id = $1::uuid)"#,
        account_id
    )
    .execute(&mut *tx)
    .await?;
    // What they wrote with their returns, wherever it was copied: the return, its audit
    // entry, and the order bodies of the messages about it.
    sqlx::query!(
        "UPDATE returns SET customer_note = NULL
          WHERE order_id IN (SELECT id FROM orders WHERE account_id = $1)",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE audit_log SET after = after - 'note'
          WHERE action = 'return.requested' AND entity = 'order'
            AND entity_id IN (SELECT id FROM orders WHERE account_id = $1)",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"UPDATE outbox o
              SET body = jsonb_set(o.body, '{data,order,returns}',
                      (SELECT jsonb_agg(r || '{"customer_note": null}')
                         FROM jsonb_array_elements(o.body #> '{data,order,returns}') r))
            WHERE o.ordering_key IN (SELECT id::text FROM orders WHERE account_id = $1::uuid)
              AND jsonb_typeof(o.body #> '{data,order,returns}') = 'array'
              AND jsonb_array_length(o.body #> '{data,order,returns}') > 0"#,
        account_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        account_id,
        "account.erased",
        Entity::Account,
        account_id,
        serde_json::Value::Null,
        serde_json::Value::Null,
    )
    .await?;
    super::outbox::publish(
        &mut tx,
        "customer.erased",
        serde_json::json!({ "customer_id": account_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses early (before anything is erased anywhere) a staff account, or a customer whose
/// orders are still on their way.
pub async fn check_erasable(db: &PgPool, account_id: Uuid) -> Result<(), StoreError> {
    if account(db, account_id).await?.role != Role::Customer {
        return Err(staff_account());
    }
    let open = open_order_numbers(db, account_id).await?;
    if open.is_empty() {
        Ok(())
    } else {
        Err(orders_open(&open))
    }
}
