//! The shoppers' store (Leptos, server-rendered and hydrated).
//!
//! Not built yet: this member only reserves its place in the workspace. The web-shop issue
//! builds it on top of storefront-api's HTTP API; it will never talk to a database.
