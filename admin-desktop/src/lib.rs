//! The staff console (Tauri 2 with a Leptos UI).
//!
//! Not built yet: this member only reserves its place in the workspace. The admin-desktop
//! issue builds it as a UI-agnostic command layer over the typed API client and churn-lab.
