//! The account's forms: log in, register, log out, profile, password, address book.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Form, Path, State},
    http::{HeaderMap, Method},
    response::Response,
};

use crate::server::forms::*;
use crate::server::*;

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
    let next = safe_next(form.next.as_deref());
    let request = storefront_client::account::LoginRequest {
        email: form.email.trim().to_owned(),
        password: form.password,
    };
    let back = |message: &str| {
        with_query(
            "/account/login",
            &[
                ("error", message),
                ("email", &request.email),
                ("next", &next),
            ],
        )
    };
    let body = json(&request);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/login",
        body,
        None,
        |_| next.clone(),
        back,
    )
    .await
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
    let next = safe_next(form.next.as_deref());
    let request = storefront_client::account::Registration {
        email: form.email.trim().to_owned(),
        password: form.password,
        full_name: form.full_name.trim().to_owned(),
    };
    let back = |message: &str| {
        with_query(
            "/account/register",
            &[
                ("error", message),
                ("email", &request.email),
                ("full_name", &request.full_name),
                ("next", &next),
            ],
        )
    };
    let body = json(&request);
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/register",
        body,
        None,
        |_| next.clone(),
        back,
    )
    .await
}

pub(crate) async fn logout_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match call_api(
        &shop,
        peer,
        headers,
        Method::POST,
        "auth/logout",
        None,
        None,
    )
    .await
    {
        Ok(upstream) => see_other("/", &upstream.headers),
        // Already logged out (an expired session): nothing to end.
        Err(_) => see_other("/", &HeaderMap::new()),
    }
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
    let email = form.email.trim();
    let changes_email = !email.eq_ignore_ascii_case(form.current_email.trim());
    let changes = storefront_client::account::ProfileChanges {
        full_name: Some(form.full_name.trim().to_owned()),
        email: changes_email.then(|| email.to_owned()),
        current_password: (changes_email && !form.current_password.is_empty())
            .then(|| form.current_password.clone()),
    };
    let back = |message: &str| {
        with_query(
            "/account",
            &[
                ("error", message),
                ("full_name", &form.full_name),
                ("email", email),
            ],
        ) + "#details"
    };
    submit(
        &shop,
        peer,
        headers,
        Method::PATCH,
        "me",
        json(&changes),
        None,
        |_| "/account?saved=details#details".to_owned(),
        back,
    )
    .await
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
    let change = storefront_client::account::PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    submit(
        &shop,
        peer,
        headers,
        Method::POST,
        "me/password",
        json(&change),
        None,
        |_| "/account?saved=password#password".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#password",
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct SavedAddressForm {
    /// Empty for a new address.
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
    #[serde(flatten)]
    address: AddressForm,
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
    let id = form.id.trim().parse::<uuid::Uuid>().ok();
    let address = form.address.shipping_address();
    let request = storefront_client::account::AddressRequest {
        label: optional(&form.label),
        full_name: address.full_name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postal_code,
        country: address.country,
        phone: address.phone,
        is_default: form.is_default.is_some(),
    };
    let (method, path, page) = match id {
        Some(id) => (
            Method::PUT,
            format!("me/addresses/{id}"),
            format!("/account/addresses/{id}"),
        ),
        None => (
            Method::POST,
            "me/addresses".to_owned(),
            "/account/addresses/new".to_owned(),
        ),
    };
    let back = |message: &str| {
        let mut pairs = vec![("error", message), ("label", form.label.as_str())];
        pairs.extend(form.address.pairs());
        if form.is_default.is_some() {
            pairs.push(("is_default", "on"));
        }
        with_query(&page, &pairs)
    };
    submit(
        &shop,
        peer,
        headers,
        method,
        &path,
        json(&request),
        None,
        |_| "/account?saved=address#addresses".to_owned(),
        back,
    )
    .await
}

pub(crate) async fn delete_address_form(
    State(shop): State<Shop>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return see_other("/account#addresses", &HeaderMap::new());
    };
    submit(
        &shop,
        peer,
        headers,
        Method::DELETE,
        &format!("me/addresses/{id}"),
        None,
        None,
        |_| "/account?saved=address-deleted#addresses".to_owned(),
        |message| with_query("/account", &[("error", message)]) + "#addresses",
    )
    .await
}
