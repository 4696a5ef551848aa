//! A logged-in customer's personal offers from retention campaigns (`/api/v1/me/offers`):
//! what the shop's banner shows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lists::CountMeta;
use crate::money::Money;

/// An offer the customer may still use: their code is unused and unexpired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalOffer {
    pub campaign_id: Uuid,
    /// "15 % off your next order".
    pub headline: String,
    /// The customer's own code, for the cart.
    pub code: String,
    /// The least the goods must come to; `null` for none.
    pub minimum_spend: Option<Money>,
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/v1/me/offers`: soonest to expire first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferList {
    pub offers: Vec<PersonalOffer>,
    pub meta: CountMeta,
}
