//! The `meta` of list answers (API-DESIGN.md, "Lists"): every list is
//! `{"<plural>": [...], "meta": {...}}`, so counts and paging have one place and adding one
//! never changes a list's shape.

use serde::{Deserialize, Serialize};

/// Page metadata of page-numbered lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageMeta {
    /// Items in the whole list, on every page.
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub limit: i64,
}

/// Metadata of short lists that are answered whole (never paged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountMeta {
    /// Items in the list (top-level items, for a tree).
    pub total: i64,
}

impl CountMeta {
    pub fn of<T>(items: &[T]) -> Self {
        Self {
            total: i64::try_from(items.len()).unwrap_or(i64::MAX),
        }
    }
}
