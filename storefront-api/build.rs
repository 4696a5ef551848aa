//! `sqlx::migrate!` embeds `migrations/` when the crate compiles, but cargo does not know it
//! reads that folder: without this, a new migration file is missing from incremental builds.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
