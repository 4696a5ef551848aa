# web-shop container image: the Leptos shop's server and its site (wasm bundle, assets).
#
# Build from the workspace root (the build needs the whole workspace and Cargo.lock):
#   docker build -f infrastructure/web-shop.Dockerfile -t nexus/web-shop .
#
# The shop talks only to storefront-api's HTTP API (NEXUS_SHOP_API_URL); in docker-compose.yml
# the nginx gateway sends `/` to it and `/api/` to the API instances.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_TARGET_DIR=/src/target
COPY . .
# `cargo xtask shop-build` adds the wasm32 target and wasm-bindgen-cli at the lockfile's
# version, builds the server (release) and the browser bundle (size-first `wasm-release`).
RUN cargo xtask shop-build \
 && install -m 0755 target/release/web-shop /usr/local/bin/web-shop \
 && cp -r target/site /srv/site

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nexus \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin nexus
COPY --from=builder /usr/local/bin/web-shop /usr/local/bin/web-shop
COPY --from=builder /srv/site /srv/site
# Numeric, so that Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
ENV NEXUS_SHOP_ADDR=0.0.0.0:3000 \
    NEXUS_SHOP_API_URL=http://storefront-api:8080 \
    LEPTOS_SITE_ROOT=/srv/site \
    RUST_LOG=info
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=6 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/healthz"]
ENTRYPOINT ["web-shop"]
