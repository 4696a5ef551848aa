//! Customers' rights over their personal data, the application service behind `/me/data`
//! and `DELETE /me`: a copy of everything the shop holds about them, and erasure.
//!
//! Erasure touches three stores and cannot be one transaction, so its steps are ordered to
//! make a failure at any point safe to retry: refuse first while an order is still on its way
//! (nothing touched yet); then erase from MongoDB (behaviour events, churn scores; reviews are
//! detached from the person) and end every session and the cart in Redis — each step does
//! nothing the second time; last, the PostgreSQL transaction that replaces the account's
//! personal fields, which is what makes the account gone. A fault before it leaves a
//! customer who can log in again and retry; nothing is ever half-erased in PostgreSQL.

use chrono::Utc;
use storefront_client::account::PersonalData;
use uuid::Uuid;

use crate::{
    error::ApiResult,
    state::AppState,
    storage::{accounts, carts::CartOwner, churn, events, orders, reviews},
};

/// Everything the shop holds about a customer.
pub async fn export(state: &AppState, account_id: Uuid) -> ApiResult<PersonalData> {
    Ok(PersonalData {
        exported_at: Utc::now(),
        account: accounts::account(&state.db, account_id).await?,
        addresses: accounts::addresses(&state.db, account_id).await?,
        orders: orders::all_customer_orders(&state.db, account_id).await?,
        reviews: reviews::by_customer(&state.mongo, account_id).await?,
        events: events::for_customer(&state.mongo, account_id).await?,
    })
}

/// Erases a customer's account; their orders stay in the books, anonymised.
pub async fn erase(state: &AppState, account_id: Uuid) -> ApiResult<()> {
    accounts::check_erasable(&state.db, account_id).await?;
    events::erase_customer(&state.mongo, account_id).await?;
    churn::erase_customer_scores(&state.mongo, account_id).await?;
    reviews::detach_customer(&state.mongo, account_id).await?;
    state.sessions.revoke_all(account_id, None).await?;
    state.carts.clear(&CartOwner::Account(account_id)).await?;
    accounts::erase_customer(&state.db, account_id).await?;
    tracing::info!(%account_id, "customer account erased");
    Ok(())
}
