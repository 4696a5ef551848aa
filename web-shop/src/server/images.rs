//! Placeholder product images.

use axum::{
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};

/// The demo catalog names images (`/images/products/<slug>-<n>.jpg`) but ships none; until a
/// shop uploads real ones, each name gets a stable drawn placeholder.
pub(crate) async fn product_image(Path(file): Path<String>) -> Response {
    let stem = file
        .rsplit_once('.')
        .map_or(file.as_str(), |(stem, _)| stem);
    let hash = stem.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let hue = hash % 360;
    let initial = stem
        .chars()
        .find(char::is_ascii_alphabetic)
        .unwrap_or('N')
        .to_ascii_uppercase();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320" width="320" height="320"><rect width="320" height="320" fill="hsl({hue} 45% 86%)"/><circle cx="160" cy="150" r="86" fill="hsl({hue} 40% 70%)"/><text x="160" y="182" font-family="DejaVu Sans, sans-serif" font-size="92" text-anchor="middle" fill="hsl({hue} 45% 25%)">{initial}</text></svg>"##
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}
