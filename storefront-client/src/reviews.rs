//! Product reviews as the API serves and accepts them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Published,
    /// Hidden by staff: kept, but not shown to shoppers nor counted in the rating.
    Hidden,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub id: String,
    pub product_id: String,
    /// First name and last initial ("Jane D.").
    pub reviewer: String,
    /// 1-5 stars.
    pub rating: i32,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/products/{slug}/reviews?page=&limit=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ReviewPageParams {
    /// From 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub page: Option<i64>,
    /// 1-100; 20 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewMeta {
    pub total: u64,
    pub page: i64,
    pub limit: i64,
}

impl ReviewMeta {
    /// How many pages `total` reviews fill.
    pub fn pages(&self) -> i64 {
        let total = i64::try_from(self.total).unwrap_or(i64::MAX / 2);
        if self.limit <= 0 {
            0
        } else {
            (total + self.limit - 1) / self.limit
        }
    }
}

/// A product's published reviews, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewList {
    pub reviews: Vec<Review>,
    pub meta: ReviewMeta,
}

/// `POST /api/v1/products/{slug}/reviews`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewDraft {
    /// 1-5 stars.
    pub rating: i64,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewEnvelope {
    pub review: Review,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_survive_a_zero_limit() {
        let meta = |total, limit| ReviewMeta {
            total,
            page: 1,
            limit,
        };
        assert_eq!(meta(0, 5).pages(), 0);
        assert_eq!(meta(5, 5).pages(), 1);
        assert_eq!(meta(6, 5).pages(), 2);
        assert_eq!(meta(6, 0).pages(), 0);
    }
}

/// `PATCH /api/v1/admin/reviews/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Moderation {
    /// `hidden` takes the review off the shop and out of the rating; `published` restores it.
    pub status: ReviewStatus,
}
