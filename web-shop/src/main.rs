//! `web-shop`: serves the shop on `NEXUS_SHOP_ADDR` (default 127.0.0.1:3000) over the
//! storefront-api at `NEXUS_SHOP_API_URL` (default http://127.0.0.1:8080).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    web_shop::server::main().await
}
