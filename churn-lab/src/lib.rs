//! Churn analytics: Polars features, linfa models, evaluation and reports.
//!
//! Not built yet: this member only reserves its place in the workspace. The churn-lab issue
//! builds the library and its analyst CLI.
