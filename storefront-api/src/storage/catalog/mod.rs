//! The catalog in PostgreSQL: categories, products and variants. Every variant write locks
//! its product and refreshes the listing roll-ups through `stock`, which owns those
//! invariants and the stock ledger.

mod categories;
pub mod import;
mod listing;
pub mod prices;
mod products;
mod variants;

pub use categories::*;
pub use listing::*;
pub use products::*;
pub use variants::*;

use crate::domain::FieldError;
use crate::storage::StoreError;

// The constraint violations staff writes can meet, in the shop's words.

fn slug_taken() -> StoreError {
    StoreError::conflict("slug_taken", "Another product already uses this slug.")
}
fn sku_taken() -> StoreError {
    StoreError::conflict("sku_taken", "Another variant already uses this SKU.")
}
fn unknown_category() -> StoreError {
    StoreError::Invalid(FieldError::new("category_id", "no such category"))
}
fn category_slug_taken() -> StoreError {
    StoreError::conflict("slug_taken", "Another category already uses this slug.")
}
