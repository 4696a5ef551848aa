//! Registration, login and logout.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use storefront_client::account::{
    LoggedIn, LoginRequest, PasswordResetCompletion, PasswordResetRequest, Registration, Revoked,
    SessionInfo,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::{ClientAddress, CurrentSession, SESSION_COOKIE},
    cookies,
    domain::{
        FieldError,
        access::RolePermissions,
        account::{
            Email, MAX_FULL_NAME, NewPassword, Role, decoy_hash, verify_password, views::Account,
        },
        emails::LinkPurpose,
        text,
    },
    error::{ApiError, ApiResult, Json},
    routes::cart::{CART_COOKIE, guest_token},
    state::AppState,
    storage::{accounts, carts::CartOwner, password_resets, sessions::Session},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_everywhere))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

/// Moves a guest's cart (if the request carries one) into the account's cart, and tells the
/// browser to forget the guest cart cookie.
async fn adopt_guest_cart(
    state: &AppState,
    headers: &HeaderMap,
    account_id: uuid::Uuid,
    response: &mut Response,
) -> ApiResult<()> {
    if let Some(token) = guest_token(headers) {
        state
            .carts
            .merge(&CartOwner::Guest(token), &CartOwner::Account(account_id))
            .await?;
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::cleared_cookie(state, CART_COOKIE)?,
        );
    }
    Ok(())
}

fn logged_in(
    state: &AppState,
    status: StatusCode,
    account: Account,
    token: String,
    session: &Session,
) -> ApiResult<Response> {
    let max_age = state.settings.auth.session_ttl_hours * 3600;
    let cookie = cookies::set_cookie(state, SESSION_COOKIE, &token, max_age)?;
    let body = LoggedIn {
        session: SessionInfo {
            token,
            expires_at: session.expires_at,
            permissions: account.role.permissions().to_vec(),
            account,
        },
    };
    Ok((status, [(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Creates a customer account and logs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = Registration,
    responses((status = 201, body = LoggedIn),
              (status = 409, description = "Email taken", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(registration): Json<Registration>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let email = Email::parse(&registration.email)
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok();
    let full_name = text::line(&registration.full_name, MAX_FULL_NAME)
        .map_err(|message| errors.push(FieldError::new("full_name", message)))
        .unwrap_or_default();
    let password = email.as_ref().and_then(|email| {
        NewPassword::parse(&registration.password, email)
            .map_err(|message| errors.push(FieldError::new("password", message)))
            .ok()
    });
    let (Some(email), Some(password), true) = (email, password, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let hash = tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
    let account =
        accounts::create_account(&state.db, &email, &hash, &full_name, Role::Customer).await?;
    let (token, session) = state.sessions.create(account.id, account.role).await?;
    tracing::info!(account_id = %account.id, "account registered");
    let account_id = account.id;
    let mut response = logged_in(&state, StatusCode::CREATED, account, token, &session)?;
    adopt_guest_cart(&state, &headers, account_id, &mut response).await?;
    Ok(response)
}

/// Checks `plain` against the stored hash, counting the attempt against the limits for
/// `account` (an email) and `client` first. Over a limit: 429, without checking.
pub async fn verify_limited(
    state: &AppState,
    account: &str,
    client: &str,
    plain: String,
    phc: String,
) -> ApiResult<bool> {
    if let Some(retry_after_secs) = state.login_limiter.attempt(account, client).await? {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    let matches = tokio::task::spawn_blocking(move || verify_password(&plain, &phc))
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
    if matches {
        state.login_limiter.succeeded(account, client).await?;
    }
    Ok(matches)
}

/// Logs in with email and password. Too many failed attempts for the account from this
/// client, for the account overall, or from this client overall are answered with 429 and
/// `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoggedIn),
              (status = 401, description = "Wrong email or password", body = crate::error::ErrorEnvelope),
              (status = 429, description = "Too many failed attempts", body = crate::error::ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Response> {
    let email =
        Email::parse(&request.email).map_err(|message| ApiError::invalid("email", message))?;
    let credentials = accounts::credentials(&state.db, &email).await?;
    // An unknown email costs a real hash check too, so timing does not reveal accounts.
    let hash = credentials
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |c| c.password_hash.clone());
    let matches = verify_limited(&state, email.as_str(), &client, request.password, hash).await?;
    let Some(credentials) = credentials.filter(|c| matches && !c.disabled) else {
        return Err(invalid_credentials());
    };
    let account = accounts::account(&state.db, credentials.account_id).await?;
    let (token, session) = state.sessions.create(account.id, credentials.role).await?;
    let account_id = account.id;
    let mut response = logged_in(&state, StatusCode::OK, account, token, &session)?;
    adopt_guest_cart(&state, &headers, account_id, &mut response).await?;
    Ok(response)
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_credentials",
        message: "The email or password is wrong.".into(),
    }
}

fn cleared_cookie(state: &AppState) -> ApiResult<[(header::HeaderName, HeaderValue); 1]> {
    Ok([(
        header::SET_COOKIE,
        cookies::cleared_cookie(state, SESSION_COOKIE)?,
    )])
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Response> {
    state.sessions.revoke(&session).await?;
    Ok((StatusCode::NO_CONTENT, cleared_cookie(&state)?).into_response())
}

/// Ends every session of the account, on every device, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", tag = "accounts",
    responses((status = 200, body = Revoked), (status = 401, body = crate::error::ErrorEnvelope)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentSession(session): CurrentSession,
) -> ApiResult<Response> {
    let revoked = state.sessions.revoke_all(session.account_id, None).await?;
    Ok((
        StatusCode::OK,
        cleared_cookie(&state)?,
        Json(Revoked { revoked }),
    )
        .into_response())
}

/// Emails a link to set a new password, if a customer account has this email. The answer is
/// 202 either way, and as quick: it must not tell who has an account. An account gets at most
/// `password_resets::MAX_PER_HOUR` links an hour; the link works once, for
/// `shop.password_reset_minutes`.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", request_body = PasswordResetRequest,
    responses((status = 202, description = "If a customer has this email, a link is on its way"),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    Json(request): Json<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let email =
        Email::parse(&request.email).map_err(|message| ApiError::invalid("email", message))?;
    let requested = password_resets::request(
        &state.db,
        &email,
        state.settings.shop.password_reset_minutes,
    )
    .await?;
    tracing::info!(requested, "password reset asked for");
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token of an emailed link: once, before it expires. Every
/// session of the account ends (whoever knew the old password is logged out), and the
/// account's failed logins are forgiven.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/complete", tag = "accounts",
    request_body = PasswordResetCompletion,
    responses((status = 204),
              (status = 409, description = "The link expired or was used (`reset_link_expired`)", body = crate::error::ErrorEnvelope),
              (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(completion): Json<PasswordResetCompletion>,
) -> ApiResult<StatusCode> {
    let reset_id = state
        .settings
        .shop
        .links()
        .verify(LinkPurpose::PasswordReset, &completion.token)
        .ok_or_else(|| ApiError::invalid("token", "is not a password-reset link of this shop"))?;
    let reset = password_resets::usable(&state.db, reset_id).await?;
    let email = Email::parse(&reset.email).map_err(|m| ApiError::Internal(anyhow::anyhow!(m)))?;
    let password = NewPassword::parse(&completion.new_password, &email)
        .map_err(|message| ApiError::invalid("new_password", message))?;
    let hash = tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
    let account_id = password_resets::complete(&state.db, reset_id, &hash).await?;
    state.sessions.revoke_all(account_id, None).await?;
    state
        .login_limiter
        .succeeded(email.as_str(), &client)
        .await?;
    tracing::info!(%account_id, "password reset");
    Ok(StatusCode::NO_CONTENT)
}
