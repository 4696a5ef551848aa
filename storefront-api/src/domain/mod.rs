//! The shop's language as types that cannot hold invalid values once built.
//! Nothing here performs I/O.

pub mod access;
pub mod account;
pub mod campaigns;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod discounts;
pub mod emails;
pub mod events;
pub mod measurement;
pub mod order;
pub mod payment;
pub mod promotions;
pub mod returns;
pub mod reviews;
pub mod segments;
pub mod tax;
pub mod text;
pub mod webhooks;

/// Money is part of the wire types shared with the API's clients.
pub use storefront_client::money;

/// One invalid field of an input; the HTTP layer reports a list of these.
pub use storefront_client::error::FieldError;
