//! Paging of lists (API-DESIGN.md, "Lists"): the limits of the `page` and `limit` query
//! parameters, and the `meta` of a page-numbered answer. One helper for every list, so the
//! limits and their error messages agree.

use storefront_client::lists::PageMeta;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i64 = 24;
pub const MAX_PAGE_SIZE: i64 = 100;
/// Deeper pages are a sign to narrow the search (and cost an ever larger offset).
pub const MAX_PAGE: i64 = 1000;

/// A page size: 1..=100, 24 when not given.
pub fn page_size(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
    }
}

/// A 1-based page number, at most 1000.
pub fn page_number(page: Option<i64>) -> Result<i64, ApiError> {
    match page {
        None => Ok(1),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "page",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// Which page of a page-numbered list a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub limit: i64,
}

impl Page {
    /// Parses the `page` and `limit` query parameters (the limit is checked first).
    pub fn parse(page: Option<i64>, limit: Option<i64>) -> Result<Self, ApiError> {
        let limit = page_size(limit)?;
        let number = page_number(page)?;
        Ok(Self { number, limit })
    }

    /// Rows to skip before this page.
    pub fn offset(self) -> i64 {
        (self.number - 1) * self.limit
    }

    /// The answer's `meta`, with the list's total.
    pub fn meta(self, total: i64) -> PageMeta {
        PageMeta {
            total,
            page: self.number,
            limit: self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_start_at_one_and_skip_whole_pages() {
        let page = Page::parse(Some(3), Some(10)).unwrap();
        assert_eq!(page.offset(), 20);
        assert_eq!(Page::parse(None, None).unwrap().offset(), 0);
        assert_eq!(page.meta(41).page, 3);
    }

    #[test]
    fn out_of_range_parameters_name_their_field() {
        for (page, limit, field) in [
            (Some(0), None, "page"),
            (Some(1001), None, "page"),
            (None, Some(0), "limit"),
            (None, Some(101), "limit"),
        ] {
            let Err(ApiError::Validation(fields)) = Page::parse(page, limit) else {
                panic!("{page:?}/{limit:?} must be refused");
            };
            assert_eq!(fields[0].field, field);
        }
    }
}
