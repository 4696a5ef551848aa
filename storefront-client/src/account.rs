//! Accounts, sessions and saved addresses as the API serves them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sqlx",
    sqlx(type_name = "account_role", rename_all = "snake_case")
)]
pub enum Role {
    Customer,
    /// Runs the whole shop: every permission but managing staff.
    Staff,
    /// Every permission.
    Admin,
    /// Products, variants, stock, categories and reviews.
    CatalogManager,
    /// Picks, packs and ships orders; no refunds, no customer records.
    Fulfilment,
    /// Customer service: orders, refunds and customers' personal data.
    Support,
    /// Discount codes, campaigns and the churn scores they target.
    Marketing,
    /// Churn models, scores and the data they are trained on; no personal data.
    Analyst,
}

impl Role {
    /// Every role, customers first.
    pub const ALL: [Self; 8] = [
        Self::Customer,
        Self::Staff,
        Self::Admin,
        Self::CatalogManager,
        Self::Fulfilment,
        Self::Support,
        Self::Marketing,
        Self::Analyst,
    ];

    /// Any role but a customer's may open the staff console; what it may do there is its
    /// permissions' business.
    pub fn is_staff(self) -> bool {
        self != Self::Customer
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Staff => "staff",
            Self::Admin => "admin",
            Self::CatalogManager => "catalog_manager",
            Self::Fulfilment => "fulfilment",
            Self::Support => "support",
            Self::Marketing => "marketing",
            Self::Analyst => "analyst",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

/// What a staff role may do in `/api/v1/admin`. Each admin operation needs exactly one,
/// named in its OpenAPI security scope; which role has which is the API's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// The dashboard's sales, stock and risk figures.
    Dashboard,
    /// Products, variants, stock, categories, review moderation.
    Catalog,
    /// Orders: read, move along (fulfil, ship, deliver, cancel unpaid), notes.
    Orders,
    /// Money back: refunds, and cancelling a paid order (which refunds it).
    Refunds,
    /// Customers' personal data: names, emails, addresses, order histories.
    Customers,
    /// Churn models, scores, score-all jobs and the training data export.
    Churn,
    /// Discount codes and retention campaigns.
    Campaigns,
    /// The audit log of every staff change.
    Audit,
    /// Staff accounts and their roles.
    StaffManagement,
    /// Webhook endpoints (where the shop's events go, with their secrets) and their logs.
    Integrations,
}

impl Permission {
    pub const ALL: [Self; 10] = [
        Self::Dashboard,
        Self::Catalog,
        Self::Orders,
        Self::Refunds,
        Self::Customers,
        Self::Churn,
        Self::Campaigns,
        Self::Audit,
        Self::StaffManagement,
        Self::Integrations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Catalog => "catalog",
            Self::Orders => "orders",
            Self::Refunds => "refunds",
            Self::Customers => "customers",
            Self::Churn => "churn",
            Self::Campaigns => "campaigns",
            Self::Audit => "audit",
            Self::StaffManagement => "staff_management",
            Self::Integrations => "integrations",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|permission| permission.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Where a parcel goes: the fields a saved address, a checkout's shipping address and a
/// placed order share. Unknown fields are refused because client and API ship together from
/// this crate: a misspelt `postcode` is a bug to surface, not a field to drop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    pub full_name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`; at checkout, a country the shop ships to.
    pub country: String,
    #[serde(default)]
    pub phone: Option<String>,
}

impl PostalAddress {
    /// The address as written on a parcel: the name, the street lines, postcode and city,
    /// the region and the country, leaving out what is empty.
    pub fn lines(&self) -> Vec<String> {
        let place = format!("{} {}", self.postal_code.trim(), self.city.trim());
        [
            Some(self.full_name.trim()),
            Some(self.line1.trim()),
            self.line2.as_deref().map(str::trim),
            Some(place.trim()),
            self.region.as_deref().map(str::trim),
            Some(self.country.trim()),
        ]
        .into_iter()
        .flatten()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
    }
}

/// A saved address of an account: the postal fields, flat, beside `id`, `label` and
/// `is_default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub id: Uuid,
    pub label: Option<String>,
    #[serde(flatten)]
    pub address: PostalAddress,
    pub is_default: bool,
}

/// One flat object: [`PostalAddress`]'s properties plus the saved address's own. The derived
/// schema of the flattened struct was an `allOf` with the closed postal object, which no saved
/// address satisfies (schemathesis found it); the postal part is taken from its schema, not
/// written twice.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Address {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
        let RefOr::T(Schema::Object(mut object)) =
            <PostalAddress as utoipa::PartialSchema>::schema()
        else {
            unreachable!("PostalAddress derives an object schema")
        };
        object.description = Some("A saved address of an account.".to_owned());
        // A response may grow fields; only requests are closed.
        object.additional_properties = None;
        let uuid = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".to_owned())));
        object.properties.insert("id".to_owned(), uuid.into());
        object.properties.insert(
            "label".to_owned(),
            <Option<String> as utoipa::PartialSchema>::schema(),
        );
        object.properties.insert(
            "is_default".to_owned(),
            <bool as utoipa::PartialSchema>::schema(),
        );
        object
            .required
            .extend(["id".to_owned(), "is_default".to_owned()]);
        RefOr::T(Schema::Object(object))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Address {}

/// `POST /api/v1/auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Send as `Authorization: Bearer <token>`; browsers get it as an HttpOnly cookie too.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Who is logged in.
    pub account: Account,
    /// What the account's role may do under `/api/v1/admin` (none for a customer): the
    /// staff console shows only the screens these open. The API checks them on every call.
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoggedIn {
    pub session: SessionInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revoked {
    /// How many sessions were ended.
    pub revoked: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountEnvelope {
    pub account: Account,
}

/// `PATCH /api/v1/me`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileChanges {
    /// A new login email; needs `current_password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/auth/password-reset`: email me a link to set a new password. Answered 202
/// whether or not an account has this email (the answer must not tell who shops here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// `POST /api/v1/auth/password-reset/complete`: the token from the emailed link and the new
/// password. Every session of the account ends; the shopper logs in with the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetCompletion {
    pub token: String,
    pub new_password: String,
}

/// Whether the customer wants marketing emails (offers); transactional emails — order
/// confirmations, shipping, refunds, password resets — are sent regardless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketingConsent {
    pub subscribed: bool,
    /// When the customer last changed it; `null` if never (not subscribed).
    pub changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketingConsentEnvelope {
    pub marketing_consent: MarketingConsent,
}

/// `PUT /api/v1/me/marketing-consent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketingConsentChange {
    pub subscribed: bool,
}

/// `POST /api/v1/marketing/unsubscribe`: the token of the signed link in a marketing email;
/// no login needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeRequest {
    pub token: String,
}

/// A saved address to add or replace (`POST /api/v1/me/addresses`, `PUT …/{id}`): the
/// postal fields, flat, beside `label` and `is_default`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "AddressRequestFields")]
pub struct AddressRequest {
    pub label: Option<String>,
    #[serde(flatten)]
    pub address: PostalAddress,
    pub is_default: bool,
}

/// A saved address to add or replace: the postal fields, flat, beside `label` and
/// `is_default` — an [`AddressRequest`] as it arrives. Read flat because serde cannot refuse
/// an unknown field through `flatten` (the flattened part is only shown the fields it knows);
/// for the same reason it is the request's OpenAPI schema: the derived one for the flattened
/// struct was an `allOf` of two closed objects, which no body can satisfy.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct AddressRequestFields {
    #[serde(default)]
    label: Option<String>,
    full_name: String,
    line1: String,
    #[serde(default)]
    line2: Option<String>,
    city: String,
    #[serde(default)]
    region: Option<String>,
    postal_code: String,
    country: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    is_default: bool,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for AddressRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <AddressRequestFields as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for AddressRequest {}

impl From<AddressRequestFields> for AddressRequest {
    fn from(fields: AddressRequestFields) -> Self {
        Self {
            label: fields.label,
            address: PostalAddress {
                full_name: fields.full_name,
                line1: fields.line1,
                line2: fields.line2,
                city: fields.city,
                region: fields.region,
                postal_code: fields.postal_code,
                country: fields.country,
                phone: fields.phone,
            },
            is_default: fields.is_default,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressList {
    pub addresses: Vec<Address>,
    pub meta: CountMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressEnvelope {
    pub address: Address,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_request_takes_its_own_fields_and_refuses_unknown_ones() {
        let request: AddressRequest = serde_json::from_value(serde_json::json!({
            "label": "Home", "full_name": "Jane Doe", "line1": "1 Main St", "city": "Berlin",
            "postal_code": "10115", "country": "DE", "is_default": true,
        }))
        .unwrap();
        assert_eq!(request.label.as_deref(), Some("Home"));
        assert_eq!(request.address.city, "Berlin");
        assert_eq!(request.address.line2, None);
        assert!(request.is_default);

        let misspelt = serde_json::from_value::<AddressRequest>(serde_json::json!({
            "full_name": "Jane Doe", "line1": "1 Main St", "city": "Berlin",
            "postcode": "10115", "postal_code": "10115", "country": "DE",
        }));
        let error = misspelt.unwrap_err().to_string();
        assert!(error.contains("postcode"), "{error}");
    }

    #[test]
    fn a_saved_address_reads_flat_on_the_wire() {
        let address = Address {
            id: Uuid::nil(),
            label: None,
            address: PostalAddress {
                full_name: "Jane Doe".into(),
                line1: "1 Main St".into(),
                city: "Berlin".into(),
                postal_code: "10115".into(),
                country: "DE".into(),
                ..PostalAddress::default()
            },
            is_default: false,
        };
        assert_eq!(
            address.address.lines(),
            ["Jane Doe", "1 Main St", "10115 Berlin", "DE"]
        );
        let wire = serde_json::to_value(&address).unwrap();
        assert_eq!(wire["city"], "Berlin");
        assert_eq!(serde_json::from_value::<Address>(wire).unwrap(), address);
    }
}

/// `GET /api/v1/me/data`: everything the shop holds about the caller, as one document to
/// download (the right of access).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub account: Account,
    pub addresses: Vec<Address>,
    /// Every order, oldest first, with lines, payments and the shipping address.
    pub orders: Vec<crate::orders::Order>,
    /// Reviews written, hidden ones included.
    pub reviews: Vec<crate::reviews::Review>,
    /// What the shop recorded of the caller's visits, oldest first.
    pub events: Vec<RecordedEvent>,
}

/// One behaviour event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub anonymous_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub properties: serde_json::Value,
}

/// `DELETE /api/v1/me`: the password again, so a session left open on a shared computer
/// cannot erase an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountDeletion {
    pub password: String,
}
