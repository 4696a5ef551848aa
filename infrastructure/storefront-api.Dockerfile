# storefront-api container image.
#
# Build from the workspace root (the build needs the whole workspace and Cargo.lock):
#   docker build -f infrastructure/storefront-api.Dockerfile -t nexus/storefront-api .
#
# The image serves by default (`CMD ["serve"]`). Database migrations are a separate one-shot
# run of the same image, before the servers start (docker-compose.yml does this with its
# `migrate` service):
#   docker run --rm -e NEXUS_DATABASE__URL=... nexus/storefront-api migrate
# Optional demo catalogue and logins (idempotent):
#   docker run --rm -e NEXUS_DATABASE__URL=... -e NEXUS_MONGODB__URI=... nexus/storefront-api demo-data

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Queries are checked against the committed metadata in storefront-api/.sqlx: no database
# is needed at build time.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never
COPY . .
RUN cargo build --release --locked -p storefront-api \
 && install -m 0755 target/release/storefront-api /usr/local/bin/storefront-api

FROM debian:bookworm-slim AS runtime
# ca-certificates for TLS to managed databases; curl for the container health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nexus \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin nexus
COPY --from=builder /usr/local/bin/storefront-api /usr/local/bin/storefront-api
# Numeric, so that Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
ENV NEXUS_HTTP__HOST=0.0.0.0 \
    NEXUS_LOG__FILTER=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=6 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["storefront-api"]
CMD ["serve"]
