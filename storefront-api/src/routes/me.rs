//! The logged-in account: profile, password, addresses, and the customer's own data —
//! a copy of it, and deleting the account.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use storefront_client::account::{
    AccountDeletion, AccountEnvelope, AddressEnvelope, AddressList, AddressRequest,
    MarketingConsentChange, MarketingConsentEnvelope, PasswordChange, PersonalData, ProfileChanges,
};
use storefront_client::lists::CountMeta;
use storefront_client::offers::OfferList;
use storefront_client::staff::campaigns::Channel;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::{ClientAddress, CurrentSession, SESSION_COOKIE},
    cookies,
    domain::{
        FieldError,
        account::{AddressInput, Email, MAX_FULL_NAME, NewPassword},
        text,
    },
    error::{ApiError, ApiResult, Json, Path},
    personal_data,
    routes::auth::verify_limited,
    state::AppState,
    storage::{
        accounts, campaigns,
        marketing_consent::{self, Source},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile, update_profile, delete_account))
        .routes(routes!(personal_data))
        .routes(routes!(change_password))
        .routes(routes!(list_addresses, add_address))
        .routes(routes!(replace_address, delete_address))
        .routes(routes!(marketing_consent, set_marketing_consent))
        .routes(routes!(offers))
        .routes(routes!(offer_shown))
}

/// The caller's personal offers still to use (from retention campaigns that show in the
/// shop), soonest to expire first: what the shop's banner shows.
#[utoipa::path(get, path = "/api/v1/me/offers", tag = "accounts",
    responses((status = 200, body = OfferList), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn offers(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Json<OfferList>> {
    let offers = campaigns::offers_for(&state.db, session.account_id).await?;
    Ok(Json(OfferList {
        meta: CountMeta::of(&offers),
        offers,
    }))
}

/// Logs that the shop showed the caller the offer of a campaign (its banner), once: showing
/// it again changes nothing. 404 when the caller holds no offer from that campaign.
#[utoipa::path(post, path = "/api/v1/me/offers/{campaign_id}/shown", tag = "accounts",
    params(("campaign_id" = Uuid, Path, description = "The campaign the offer comes from")),
    responses((status = 204), (status = 401, body = crate::error::ErrorEnvelope),
              (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn offer_shown(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(campaign_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if campaigns::record_exposure(&state.db, campaign_id, session.account_id, Channel::Web).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("offer"))
    }
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = AccountEnvelope), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn profile(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Json<AccountEnvelope>> {
    let account = accounts::account(&state.db, session.account_id).await?;
    Ok(Json(AccountEnvelope { account }))
}

/// Everything the shop holds about the caller — account, addresses, orders, reviews and
/// recorded visits — as one JSON document to download.
#[utoipa::path(get, path = "/api/v1/me/data", tag = "accounts",
    responses((status = 200, body = PersonalData), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn personal_data(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<impl IntoResponse> {
    let data = personal_data::export(&state, session.account_id).await?;
    let disposition = [(
        header::CONTENT_DISPOSITION,
        "attachment; filename=\"my-nexus-data.json\"",
    )];
    Ok((disposition, Json(data)))
}

/// Deletes the caller's account, after the password is given again: name, email, addresses,
/// recorded visits and scores are erased, reviews stay unsigned, orders stay in the shop's
/// books with only the destination country; every session ends. Refused (409 `orders_open`)
/// while an order is still on its way, and for staff accounts (409 `staff_account`).
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts", request_body = AccountDeletion,
    responses((status = 204), (status = 401, body = crate::error::ErrorEnvelope),
              (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope),
              (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_account(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    ClientAddress(client): ClientAddress,
    Json(deletion): Json<AccountDeletion>,
) -> ApiResult<Response> {
    let account = accounts::account(&state.db, session.account_id).await?;
    let stored = accounts::password_hash(&state.db, session.account_id).await?;
    // Guesses of the password count like failed logins.
    if !verify_limited(&state, &account.email, &client, deletion.password, stored).await? {
        return Err(ApiError::invalid("password", "is wrong"));
    }
    personal_data::erase(&state, session.account_id).await?;
    let cleared = [(
        header::SET_COOKIE,
        cookies::cleared_cookie(&state, SESSION_COOKIE)?,
    )];
    Ok((StatusCode::NO_CONTENT, cleared).into_response())
}

/// Changes the caller's name or email.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = ProfileChanges,
    responses((status = 200, body = AccountEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope),
              (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_profile(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    ClientAddress(client): ClientAddress,
    Json(changes): Json<ProfileChanges>,
) -> ApiResult<Json<AccountEnvelope>> {
    let mut errors = Vec::new();
    let email = changes
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok()
        .flatten();
    let full_name = changes
        .full_name
        .as_deref()
        .map(|name| text::line(name, MAX_FULL_NAME))
        .transpose()
        .map_err(|message| errors.push(FieldError::new("full_name", message)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if email.is_some() {
        // Whoever holds a session must not be able to take over the login without the password.
        let current = accounts::account(&state.db, session.account_id).await?;
        let stored = accounts::password_hash(&state.db, session.account_id).await?;
        let Some(password) = changes.current_password else {
            return Err(ApiError::invalid(
                "current_password",
                "is required to change the email",
            ));
        };
        if !verify_limited(&state, &current.email, &client, password, stored).await? {
            return Err(ApiError::invalid("current_password", "is wrong"));
        }
    }
    let account = accounts::update_profile(
        &state.db,
        session.account_id,
        email.as_ref(),
        full_name.as_deref(),
    )
    .await?;
    Ok(Json(AccountEnvelope { account }))
}

/// Changes the password after checking the current one; every other session is ended.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope),
              (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    ClientAddress(client): ClientAddress,
    Json(change): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let account = accounts::account(&state.db, session.account_id).await?;
    let email = Email::parse(&account.email).map_err(|m| ApiError::Internal(anyhow::anyhow!(m)))?;
    let new_password = NewPassword::parse(&change.new_password, &email)
        .map_err(|message| ApiError::invalid("new_password", message))?;
    let stored = accounts::password_hash(&state.db, session.account_id).await?;
    // Guesses of the current password count like failed logins.
    if !verify_limited(
        &state,
        email.as_str(),
        &client,
        change.current_password,
        stored,
    )
    .await?
    {
        return Err(ApiError::invalid("current_password", "is wrong"));
    }
    let hash = tokio::task::spawn_blocking(move || new_password.hash())
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
    accounts::set_password_hash(&state.db, session.account_id, &hash).await?;
    state
        .sessions
        .revoke_all(session.account_id, Some(&session))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's saved addresses, the default first.
#[utoipa::path(get, path = "/api/v1/me/addresses", tag = "accounts",
    responses((status = 200, body = AddressList), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_addresses(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Json<AddressList>> {
    let addresses = accounts::addresses(&state.db, session.account_id).await?;
    Ok(Json(AddressList {
        meta: CountMeta::of(&addresses),
        addresses,
    }))
}

/// Saves a new address.
#[utoipa::path(post, path = "/api/v1/me/addresses", tag = "accounts", request_body = AddressRequest,
    responses((status = 201, body = AddressEnvelope), (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn add_address(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(request): Json<AddressRequest>,
) -> ApiResult<(StatusCode, Json<AddressEnvelope>)> {
    let input = AddressInput::parse(&request).map_err(ApiError::Validation)?;
    let address = accounts::save_address(&state.db, session.account_id, None, &input).await?;
    Ok((StatusCode::CREATED, Json(AddressEnvelope { address })))
}

/// Replaces one of the caller's addresses.
#[utoipa::path(put, path = "/api/v1/me/addresses/{id}", tag = "accounts", request_body = AddressRequest,
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 200, body = AddressEnvelope), (status = 404, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn replace_address(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
    Json(request): Json<AddressRequest>,
) -> ApiResult<Json<AddressEnvelope>> {
    let input = AddressInput::parse(&request).map_err(ApiError::Validation)?;
    let address = accounts::save_address(&state.db, session.account_id, Some(id), &input).await?;
    Ok(Json(AddressEnvelope { address }))
}

/// Deletes one of the caller's addresses.
#[utoipa::path(delete, path = "/api/v1/me/addresses/{id}", tag = "accounts",
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_address(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    accounts::delete_address(&state.db, session.account_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the caller wants marketing emails.
#[utoipa::path(get, path = "/api/v1/me/marketing-consent", tag = "accounts",
    responses((status = 200, body = MarketingConsentEnvelope), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn marketing_consent(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Json<MarketingConsentEnvelope>> {
    let consent = marketing_consent::consent(&state.db, session.account_id).await?;
    Ok(Json(MarketingConsentEnvelope {
        marketing_consent: consent.into(),
    }))
}

/// Gives or withdraws consent to marketing emails (recorded with the time and "account page").
#[utoipa::path(put, path = "/api/v1/me/marketing-consent", tag = "accounts",
    request_body = MarketingConsentChange,
    responses((status = 200, body = MarketingConsentEnvelope), (status = 401, body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_marketing_consent(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
    Json(change): Json<MarketingConsentChange>,
) -> ApiResult<Json<MarketingConsentEnvelope>> {
    let consent = marketing_consent::set(
        &state.db,
        session.account_id,
        change.subscribed,
        Source::AccountPage,
    )
    .await?;
    Ok(Json(MarketingConsentEnvelope {
        marketing_consent: consent.into(),
    }))
}
