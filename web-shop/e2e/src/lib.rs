//! Browser tests of the web shop live in `tests/`; see `tests/shop.rs`.
