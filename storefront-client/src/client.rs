mod staff;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::account::{
    Account, AccountDeletion, AccountEnvelope, Address, AddressEnvelope, AddressList,
    AddressRequest, LoggedIn, LoginRequest, MarketingConsent, MarketingConsentChange,
    MarketingConsentEnvelope, PasswordChange, PasswordResetCompletion, PasswordResetRequest,
    PersonalData, ProfileChanges, Registration, SessionInfo, UnsubscribeRequest,
};
use crate::cart::{
    Cart, CartEnvelope, Destination, NewCartItem, QuantityChange, ShippingCountries,
};
use crate::catalog::{
    CategoryList, CategoryNode, ListParams, PriceParams, Product, ProductEnvelope, ProductList,
    SearchParams, SearchResults,
};
use crate::error::{ErrorBody, ErrorEnvelope};
use crate::events::{BatchResult, EventBatch};
use crate::orders::{
    CheckoutRequest, IDEMPOTENCY_KEY, Order, OrderEnvelope, OrderList, OrderListParams,
};
use crate::reviews::{Review, ReviewDraft, ReviewEnvelope, ReviewList, ReviewPageParams};

/// What can go wrong talking to the API.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ClientError {
    /// The API answered with its error envelope.
    #[error("{} ({})", .body.message, .body.code)]
    Api { status: u16, body: ErrorBody },
    /// The API could not be reached, or the connection broke.
    #[error("the shop's API cannot be reached: {0}")]
    Unreachable(String),
    /// The API answered something that is not what this client expects.
    #[error("unexpected answer from the API (HTTP {status}): {message}")]
    Unexpected { status: u16, message: String },
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            Self::Unreachable(_) => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Worth sending again later unchanged: the API was unreachable, or said it (or a store
    /// behind it) is unavailable for now — 503, a gateway's 502/504, or 429.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Api { status, .. } | Self::Unexpected { status, .. } => {
                matches!(status, 429 | 502 | 503 | 504)
            }
        }
    }

    /// The envelope, when the API sent one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Api { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// A client of one storefront-api, e.g. `Client::new("http://127.0.0.1:8080")`.
/// Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    cookies: Option<String>,
    forwarded_for: Option<String>,
    set_cookies: Option<SetCookies>,
}

/// The `Set-Cookie` headers the API answered with, collected for a server that acts for a
/// browser (the shop's HTML forms) to hand on: a login's session, a guest's new cart.
#[derive(Debug, Clone, Default)]
pub struct SetCookies(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl SetCookies {
    /// The headers collected so far, in the order they came.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock())
    }

    fn keep(&self, headers: &reqwest::header::HeaderMap) {
        let values = headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned));
        self.lock().extend(values);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic elsewhere while holding the lock leaves a list of strings, still whole.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Client {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            token: None,
            cookies: None,
            forwarded_for: None,
            set_cookies: None,
        }
    }

    /// A client over a `reqwest::Client` configured by the caller (its own trusted
    /// certificates, pool or timeouts — a load generator reaching a gateway over HTTPS).
    pub fn with_http(base_url: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            http,
            ..Self::new(base_url)
        }
    }

    /// The same API, acting with a session token (`Authorization: Bearer`).
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The same API, sending a browser's `Cookie` header along (a server rendering a page for
    /// that browser: its session and cart cookies then count). Browsers send their own.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_cookies(&self, cookie_header: impl Into<String>) -> Self {
        Self {
            cookies: Some(cookie_header.into()),
            ..self.clone()
        }
    }

    /// The same API, acting for one browser: its `Cookie` header goes along, its address in
    /// `X-Forwarded-For` (the API's rate limits count per shopper), and the cookies the API
    /// sets are collected in the returned `SetCookies` for the browser.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn for_browser(
        &self,
        cookie_header: Option<String>,
        forwarded_for: String,
    ) -> (Self, SetCookies) {
        let set_cookies = SetCookies::default();
        let client = Self {
            cookies: cookie_header,
            forwarded_for: Some(forwarded_for),
            set_cookies: Some(set_cookies.clone()),
            ..self.clone()
        };
        (client, set_cookies)
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method, self.url(path));
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        if let Some(cookies) = &self.cookies {
            builder = builder.header(reqwest::header::COOKIE, cookies);
        }
        if let Some(forwarded_for) = &self.forwarded_for {
            builder = builder.header("x-forwarded-for", forwarded_for);
        }
        builder
    }

    /// Sends the request; the answer's cookies are kept when acting for a browser.
    async fn answer(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        if let Some(set_cookies) = &self.set_cookies {
            set_cookies.keep(response.headers());
        }
        Ok(response)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.send_raw(builder).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
            status,
            message: e.to_string(),
        })
    }

    /// Sends the request; a success's status and body as they came (a CSV file, say).
    async fn send_raw(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let response = self.answer(builder).await?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        if (200..300).contains(&status) {
            Ok((status, bytes.to_vec()))
        } else {
            Err(error_from(status, &bytes))
        }
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(self.request(method, path).json(body)).await
    }

    /// Sends a request whose success carries no body (204).
    async fn send_empty(&self, builder: reqwest::RequestBuilder) -> Result<(), ClientError> {
        let response = self.answer(builder).await?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        Err(error_from(status, &bytes))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(self.request(reqwest::Method::GET, path).query(query))
            .await
    }

    /// `GET /products`: one page of the active catalog.
    pub async fn products(&self, params: &ListParams) -> Result<ProductList, ClientError> {
        self.get("/products", params).await
    }

    /// `GET /products/{slug}`, in the shop's default market's currency.
    pub async fn product(&self, slug: &str) -> Result<Product, ClientError> {
        self.product_in(slug, &PriceParams::default()).await
    }

    /// `GET /products/{slug}?currency=`: as sold in that currency's market (a 404 where it is
    /// not sold).
    pub async fn product_in(
        &self,
        slug: &str,
        params: &PriceParams,
    ) -> Result<Product, ClientError> {
        let envelope: ProductEnvelope = self
            .get(&format!("/products/{}", path_segment(slug)), params)
            .await?;
        Ok(envelope.product)
    }

    /// `GET /categories`: the category tree.
    pub async fn categories(&self) -> Result<Vec<CategoryNode>, ClientError> {
        self.categories_in(&PriceParams::default()).await
    }

    /// `GET /categories?currency=`: the counts are of the products sold in that currency.
    pub async fn categories_in(
        &self,
        params: &PriceParams,
    ) -> Result<Vec<CategoryNode>, ClientError> {
        let list: CategoryList = self.get("/categories", params).await?;
        Ok(list.categories)
    }

    /// `GET /search`.
    pub async fn search(&self, params: &SearchParams) -> Result<SearchResults, ClientError> {
        self.get("/search", params).await
    }

    /// `GET /cart`: the cart re-priced, with shipping and tax for a destination.
    pub async fn cart(&self, destination: &Destination) -> Result<Cart, ClientError> {
        let envelope: CartEnvelope = self.get("/cart", destination).await?;
        Ok(envelope.cart)
    }

    /// `POST /cart/items`: adds units of a variant (a guest gets a cart on the first add).
    pub async fn add_to_cart(&self, item: &NewCartItem) -> Result<Cart, ClientError> {
        let envelope: CartEnvelope = self
            .send_json(reqwest::Method::POST, "/cart/items", item)
            .await?;
        Ok(envelope.cart)
    }

    /// `PUT /cart/items/{variant_id}`: sets a line's quantity (0 removes it).
    pub async fn set_cart_quantity(
        &self,
        variant_id: uuid::Uuid,
        quantity: i32,
    ) -> Result<Cart, ClientError> {
        let envelope: CartEnvelope = self
            .send_json(
                reqwest::Method::PUT,
                &format!("/cart/items/{variant_id}"),
                &QuantityChange { quantity },
            )
            .await?;
        Ok(envelope.cart)
    }

    /// `DELETE /cart/items/{variant_id}`.
    pub async fn remove_from_cart(&self, variant_id: uuid::Uuid) -> Result<Cart, ClientError> {
        let envelope: CartEnvelope = self
            .send(self.request(
                reqwest::Method::DELETE,
                &format!("/cart/items/{variant_id}"),
            ))
            .await?;
        Ok(envelope.cart)
    }

    /// `GET /shipping/countries`: where the shop ships and what it costs.
    pub async fn shipping_countries(&self) -> Result<ShippingCountries, ClientError> {
        self.get("/shipping/countries", &()).await
    }

    /// `POST /auth/register`: creates a customer account and logs it in.
    pub async fn register(&self, registration: &Registration) -> Result<SessionInfo, ClientError> {
        let logged_in: LoggedIn = self
            .send_json(reqwest::Method::POST, "/auth/register", registration)
            .await?;
        Ok(logged_in.session)
    }

    /// `POST /auth/login`.
    pub async fn login(&self, credentials: &LoginRequest) -> Result<SessionInfo, ClientError> {
        let logged_in: LoggedIn = self
            .send_json(reqwest::Method::POST, "/auth/login", credentials)
            .await?;
        Ok(logged_in.session)
    }

    /// `POST /auth/logout`: ends this session.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send_empty(self.request(reqwest::Method::POST, "/auth/logout"))
            .await
    }

    /// `GET /me`: who is logged in.
    pub async fn me(&self) -> Result<Account, ClientError> {
        let envelope: AccountEnvelope = self.get("/me", &()).await?;
        Ok(envelope.account)
    }

    /// `GET /me/addresses`: saved addresses, the default first.
    pub async fn addresses(&self) -> Result<Vec<Address>, ClientError> {
        let list: AddressList = self.get("/me/addresses", &()).await?;
        Ok(list.addresses)
    }

    /// `POST /me/addresses`.
    pub async fn add_address(&self, address: &AddressRequest) -> Result<Address, ClientError> {
        let envelope: AddressEnvelope = self
            .send_json(reqwest::Method::POST, "/me/addresses", address)
            .await?;
        Ok(envelope.address)
    }

    /// `PUT /me/addresses/{id}`: replaces a saved address.
    pub async fn replace_address(
        &self,
        id: uuid::Uuid,
        address: &AddressRequest,
    ) -> Result<Address, ClientError> {
        let envelope: AddressEnvelope = self
            .send_json(
                reqwest::Method::PUT,
                &format!("/me/addresses/{id}"),
                address,
            )
            .await?;
        Ok(envelope.address)
    }

    /// `DELETE /me/addresses/{id}`.
    pub async fn delete_address(&self, id: uuid::Uuid) -> Result<(), ClientError> {
        self.send_empty(self.request(reqwest::Method::DELETE, &format!("/me/addresses/{id}")))
            .await
    }

    /// `PATCH /me`: a new name, or a new email (with the current password).
    pub async fn update_profile(&self, changes: &ProfileChanges) -> Result<Account, ClientError> {
        let envelope: AccountEnvelope = self
            .send_json(reqwest::Method::PATCH, "/me", changes)
            .await?;
        Ok(envelope.account)
    }

    /// `POST /me/password`: every other session of the account ends.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), ClientError> {
        self.send_empty(
            self.request(reqwest::Method::POST, "/me/password")
                .json(change),
        )
        .await
    }

    /// `POST /auth/password-reset`: emails a reset link if a customer has this email.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), ClientError> {
        let request = PasswordResetRequest {
            email: email.to_owned(),
        };
        self.send_empty(
            self.request(reqwest::Method::POST, "/auth/password-reset")
                .json(&request),
        )
        .await
    }

    /// `POST /auth/password-reset/complete`: sets the new password with the emailed token.
    pub async fn complete_password_reset(
        &self,
        completion: &PasswordResetCompletion,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.request(reqwest::Method::POST, "/auth/password-reset/complete")
                .json(completion),
        )
        .await
    }

    /// `GET /me/marketing-consent`.
    pub async fn marketing_consent(&self) -> Result<MarketingConsent, ClientError> {
        let envelope: MarketingConsentEnvelope = self
            .send(self.request(reqwest::Method::GET, "/me/marketing-consent"))
            .await?;
        Ok(envelope.marketing_consent)
    }

    /// `GET /me/offers`: the personal offers still to use, soonest to expire first.
    pub async fn my_offers(&self) -> Result<Vec<crate::offers::PersonalOffer>, ClientError> {
        let list: crate::offers::OfferList = self.get("/me/offers", &()).await?;
        Ok(list.offers)
    }

    /// `POST /me/offers/{campaign_id}/shown`: the shop showed the offer (logged once).
    pub async fn offer_shown(&self, campaign_id: uuid::Uuid) -> Result<(), ClientError> {
        self.send_empty(self.request(
            reqwest::Method::POST,
            &format!("/me/offers/{campaign_id}/shown"),
        ))
        .await
    }

    /// `PUT /me/marketing-consent`.
    pub async fn set_marketing_consent(
        &self,
        subscribed: bool,
    ) -> Result<MarketingConsent, ClientError> {
        let envelope: MarketingConsentEnvelope = self
            .send_json(
                reqwest::Method::PUT,
                "/me/marketing-consent",
                &MarketingConsentChange { subscribed },
            )
            .await?;
        Ok(envelope.marketing_consent)
    }

    /// `POST /marketing/unsubscribe`: withdraws consent with a signed link's token.
    pub async fn unsubscribe(&self, token: &str) -> Result<MarketingConsent, ClientError> {
        let envelope: MarketingConsentEnvelope = self
            .send_json(
                reqwest::Method::POST,
                "/marketing/unsubscribe",
                &UnsubscribeRequest {
                    token: token.to_owned(),
                },
            )
            .await?;
        Ok(envelope.marketing_consent)
    }

    /// `GET /me/data`: everything the shop holds about the caller.
    pub async fn personal_data(&self) -> Result<PersonalData, ClientError> {
        self.send(self.request(reqwest::Method::GET, "/me/data"))
            .await
    }

    /// `DELETE /me`: erases the account (orders are kept, anonymised); every session ends.
    pub async fn delete_account(&self, deletion: &AccountDeletion) -> Result<(), ClientError> {
        self.send_empty(self.request(reqwest::Method::DELETE, "/me").json(deletion))
            .await
    }

    /// `GET /products/{slug}/reviews`: published reviews, newest first.
    pub async fn reviews(
        &self,
        slug: &str,
        params: &ReviewPageParams,
    ) -> Result<ReviewList, ClientError> {
        self.get(&format!("/products/{}/reviews", path_segment(slug)), params)
            .await
    }

    /// `POST /products/{slug}/reviews`: once per product, after it was delivered.
    pub async fn write_review(
        &self,
        slug: &str,
        draft: &ReviewDraft,
    ) -> Result<Review, ClientError> {
        let envelope: ReviewEnvelope = self
            .send_json(
                reqwest::Method::POST,
                &format!("/products/{}/reviews", path_segment(slug)),
                draft,
            )
            .await?;
        Ok(envelope.review)
    }

    /// `POST /events`: a batch of behaviour events; the bad ones come back with reasons.
    pub async fn record_events(&self, batch: &EventBatch) -> Result<BatchResult, ClientError> {
        self.send_json(reqwest::Method::POST, "/events", batch)
            .await
    }

    /// `POST /checkout`: buys the session's cart. The same `idempotency_key` with the same
    /// request never makes a second order.
    pub async fn checkout(
        &self,
        request: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<Order, ClientError> {
        let envelope: OrderEnvelope = self
            .send(
                self.request(reqwest::Method::POST, "/checkout")
                    .header(IDEMPOTENCY_KEY, idempotency_key)
                    .json(request),
            )
            .await?;
        Ok(envelope.order)
    }

    /// `GET /orders`: the customer's orders, newest first.
    pub async fn orders(&self, params: &OrderListParams) -> Result<OrderList, ClientError> {
        self.get("/orders", params).await
    }

    /// `GET /orders/{id}`.
    pub async fn order(&self, id: uuid::Uuid) -> Result<Order, ClientError> {
        let envelope: OrderEnvelope = self.get(&format!("/orders/{id}"), &()).await?;
        Ok(envelope.order)
    }

    /// `POST /orders/{id}/returns`: asks to return lines of a delivered order.
    pub async fn request_return(
        &self,
        order_id: uuid::Uuid,
        request: &crate::returns::ReturnRequest,
    ) -> Result<crate::returns::OrderReturn, ClientError> {
        let envelope: crate::returns::ReturnEnvelope = self
            .send_json(
                reqwest::Method::POST,
                &format!("/orders/{order_id}/returns"),
                request,
            )
            .await?;
        Ok(envelope.order_return)
    }

    /// `DELETE /cart`.
    pub async fn clear_cart(&self) -> Result<(), ClientError> {
        self.send_empty(self.request(reqwest::Method::DELETE, "/cart"))
            .await
    }
}

fn error_from(status: u16, bytes: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorEnvelope>(bytes) {
        Ok(envelope) => ClientError::Api {
            status,
            body: envelope.error,
        },
        Err(_) => ClientError::Unexpected {
            status,
            message: String::from_utf8_lossy(bytes).chars().take(200).collect(),
        },
    }
}

/// Percent-encodes everything but unreserved characters, so a path parameter stays one segment.
pub fn path_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape_their_segment() {
        assert_eq!(path_segment("linen-shirt"), "linen-shirt");
        assert_eq!(path_segment("../admin?x=1"), "..%2Fadmin%3Fx%3D1");
    }

    #[test]
    fn only_an_unreachable_or_unavailable_api_is_worth_a_retry() {
        let api = |status: u16| ClientError::Api {
            status,
            body: ErrorBody {
                code: "x".into(),
                message: "x".into(),
                details: serde_json::Value::Null,
            },
        };
        assert!(ClientError::Unreachable("refused".into()).is_transient());
        for status in [429, 502, 503, 504] {
            assert!(api(status).is_transient(), "{status}");
        }
        for status in [400, 404, 409, 422, 500] {
            assert!(!api(status).is_transient(), "{status}");
        }
    }
}
