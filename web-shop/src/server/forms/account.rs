//! The account's forms: log in, register, log out, profile, password (changed, or reset
//! through an emailed link), marketing emails, address book, and deleting the account.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, Path, State},
    http::HeaderMap,
    response::Response,
};
use storefront_client::account::{
    AccountDeletion, AddressRequest, LoginRequest, PasswordChange, PasswordResetCompletion,
    ProfileChanges, Registration,
};

use crate::components::AddressValues;
use crate::server::Shop;
use crate::server::forms::{Shopper, optional, safe_next, with_query};

#[derive(Debug, serde::Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let next = safe_next(form.next.as_deref());
    let request = LoginRequest {
        email: form.email.trim().to_owned(),
        password: form.password,
    };
    let answer = shopper.api.login(&request).await;
    shopper.finish(
        answer,
        |_| next.clone(),
        |message| {
            with_query(
                "/account/login",
                &[
                    ("error", message),
                    ("email", &request.email),
                    ("next", &next),
                ],
            )
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct RegisterForm {
    full_name: String,
    email: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn register_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let next = safe_next(form.next.as_deref());
    let request = Registration {
        email: form.email.trim().to_owned(),
        password: form.password,
        full_name: form.full_name.trim().to_owned(),
    };
    let answer = shopper.api.register(&request).await;
    shopper.finish(
        answer,
        |_| next.clone(),
        |message| {
            with_query(
                "/account/register",
                &[
                    ("error", message),
                    ("email", &request.email),
                    ("full_name", &request.full_name),
                    ("next", &next),
                ],
            )
        },
    )
}

pub(crate) async fn logout_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    // Already logged out (an expired session) is as good as logged out: home either way.
    let answer = shopper.api.logout().await;
    shopper.finish(answer, |()| "/".to_owned(), |_| "/".to_owned())
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ProfileForm {
    full_name: String,
    email: String,
    /// The email the form was rendered with: a different `email` is a change of login.
    current_email: String,
    #[serde(default)]
    current_password: String,
}

/// The account page's "Your details" form: a new name, or a new email with the password.
pub(crate) async fn profile_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let email = form.email.trim();
    let changes_email = !email.eq_ignore_ascii_case(form.current_email.trim());
    let changes = ProfileChanges {
        full_name: Some(form.full_name.trim().to_owned()),
        email: changes_email.then(|| email.to_owned()),
        current_password: (changes_email && !form.current_password.is_empty())
            .then(|| form.current_password.clone()),
    };
    let answer = shopper.api.update_profile(&changes).await;
    shopper.finish(
        answer,
        |_| "/account?saved=details#details".to_owned(),
        |message| {
            with_query(
                "/account",
                &[
                    ("error", message),
                    ("full_name", &form.full_name),
                    ("email", email),
                ],
            ) + "#details"
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub(crate) async fn password_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let change = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    let answer = shopper.api.change_password(&change).await;
    shopper.finish(
        answer,
        |()| "/account?saved=password#password".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#password",
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct DeletionForm {
    password: String,
}

/// "Delete my account": the API erases it and clears the session cookie, which goes back to
/// the browser with the redirect home.
pub(crate) async fn delete_account_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<DeletionForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let deletion = AccountDeletion {
        password: form.password,
    };
    let answer = shopper.api.delete_account(&deletion).await;
    shopper.finish(
        answer,
        |()| "/?account=deleted".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#your-data",
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct SavedAddressForm {
    /// Empty for a new address.
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
    #[serde(flatten)]
    address: AddressValues,
    /// A checkbox: present ("on") when ticked.
    is_default: Option<String>,
}

/// The address book's form: adds an address, or replaces the one with `id`.
pub(crate) async fn address_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SavedAddressForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let id = form.id.trim().parse::<uuid::Uuid>().ok();
    let request = AddressRequest {
        label: optional(&form.label),
        address: form.address.to_postal(),
        is_default: form.is_default.is_some(),
    };
    let (answer, page) = match id {
        Some(id) => (
            shopper.api.replace_address(id, &request).await,
            format!("/account/addresses/{id}"),
        ),
        None => (
            shopper.api.add_address(&request).await,
            "/account/addresses/new".to_owned(),
        ),
    };
    shopper.finish(
        answer,
        |_| "/account?saved=address#addresses".to_owned(),
        |message| {
            let mut pairs = vec![("error", message), ("label", form.label.as_str())];
            pairs.extend(form.address.pairs());
            if form.is_default.is_some() {
                pairs.push(("is_default", "on"));
            }
            with_query(&page, &pairs)
        },
    )
}

pub(crate) async fn delete_address_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return shopper.redirect("/account#addresses");
    };
    let answer = shopper.api.delete_address(id).await;
    shopper.finish(
        answer,
        |()| "/account?saved=address-deleted#addresses".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#addresses",
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ForgotPasswordForm {
    email: String,
}

/// "Email me a link": the API answers the same whether or not the address has an account.
pub(crate) async fn forgot_password_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotPasswordForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let email = form.email.trim();
    let answer = shopper.api.request_password_reset(email).await;
    shopper.finish(
        answer,
        |()| {
            with_query(
                "/account/forgot-password",
                &[("sent", "1"), ("email", email)],
            )
        },
        |message| {
            with_query(
                "/account/forgot-password",
                &[("error", message), ("email", email)],
            )
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ResetPasswordForm {
    token: String,
    new_password: String,
}

/// The emailed link's page: the new password, then log in with it.
pub(crate) async fn reset_password_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ResetPasswordForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let completion = PasswordResetCompletion {
        token: form.token.trim().to_owned(),
        new_password: form.new_password,
    };
    let answer = shopper.api.complete_password_reset(&completion).await;
    shopper.finish(
        answer,
        |()| "/account/login?reset=done".to_owned(),
        |message| {
            with_query(
                "/account/reset-password",
                &[("error", message), ("token", &completion.token)],
            )
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct MarketingForm {
    /// `true` or `false`.
    subscribed: String,
}

/// The account page's "Emails" choice.
pub(crate) async fn marketing_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<MarketingForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let answer = shopper
        .api
        .set_marketing_consent(form.subscribed == "true")
        .await;
    shopper.finish(
        answer,
        |_| "/account?saved=marketing#marketing".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#marketing",
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct UnsubscribeForm {
    token: String,
}

/// The unsubscribe page's button (the token is the email link's; no login).
pub(crate) async fn unsubscribe_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<UnsubscribeForm>,
) -> Response {
    let shopper = Shopper::new(&shop, peer, &headers);
    let token = form.token.trim();
    let answer = shopper.api.unsubscribe(token).await;
    shopper.finish(
        answer,
        |_| "/unsubscribe?done=1".to_owned(),
        |message| with_query("/unsubscribe", &[("error", message), ("token", token)]),
    )
}
