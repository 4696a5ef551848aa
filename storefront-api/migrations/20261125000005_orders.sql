CREATE TYPE order_status AS ENUM (
    'pending_payment', 'paid', 'fulfilled', 'shipped', 'delivered', 'cancelled', 'refunded'
);

-- Human-friendly order numbers, e.g. 100001.
CREATE SEQUENCE order_number_seq START 100001;

CREATE TABLE orders (
    id                    uuid PRIMARY KEY,
    number                bigint NOT NULL UNIQUE DEFAULT nextval('order_number_seq'),
    account_id            uuid NOT NULL REFERENCES accounts (id),
    status                order_status NOT NULL DEFAULT 'pending_payment',
    currency              char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_minor        bigint NOT NULL CHECK (subtotal_minor >= 0),
    discount_minor        bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
    shipping_minor        bigint NOT NULL CHECK (shipping_minor >= 0),
    tax_rate_basis_points integer NOT NULL CHECK (tax_rate_basis_points BETWEEN 0 AND 10000),
    tax_minor             bigint NOT NULL CHECK (tax_minor >= 0),
    total_minor           bigint NOT NULL CHECK (total_minor >= 0),
    refunded_minor        bigint NOT NULL DEFAULT 0 CHECK (refunded_minor BETWEEN 0 AND total_minor),
    shipping_method       text NOT NULL CHECK (shipping_method IN ('standard', 'express')),
    shipping_address      jsonb NOT NULL,
    cancel_reason         text,
    tracking_number       text,
    placed_at             timestamptz NOT NULL DEFAULT now(),
    paid_at               timestamptz,
    fulfilled_at          timestamptz,
    shipped_at            timestamptz,
    delivered_at          timestamptz,
    cancelled_at          timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (total_minor = subtotal_minor - discount_minor + shipping_minor + tax_minor)
);
CREATE INDEX orders_account_idx ON orders (account_id, placed_at DESC);
CREATE INDEX orders_status_idx ON orders (status, placed_at DESC);
CREATE INDEX orders_placed_idx ON orders (placed_at DESC);

-- What was bought, as it was when bought: names and prices are copied, not referenced.
CREATE TABLE order_lines (
    order_id          uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_number       integer NOT NULL CHECK (line_number > 0),
    variant_id        uuid NOT NULL REFERENCES variants (id),
    product_id        uuid NOT NULL REFERENCES products (id),
    sku               text NOT NULL,
    product_name      text NOT NULL,
    variant_title     text NOT NULL,
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    quantity          integer NOT NULL CHECK (quantity > 0),
    line_total_minor  bigint NOT NULL CHECK (line_total_minor = unit_price_minor * quantity),
    PRIMARY KEY (order_id, line_number)
);
CREATE INDEX order_lines_variant_idx ON order_lines (variant_id);

-- Every attempt to move money, successful or not. Card numbers are never stored.
CREATE TABLE payments (
    id                 uuid PRIMARY KEY,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('charge', 'refund')),
    outcome            text NOT NULL CHECK (outcome IN ('succeeded', 'declined', 'failed')),
    amount_minor       bigint NOT NULL CHECK (amount_minor >= 0),
    provider           text NOT NULL,
    provider_reference text,
    card_brand         text,
    card_last4         char(4),
    failure_code       text,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id, created_at);

-- Idempotent checkout: one row per (customer, Idempotency-Key). A repeated key with the same
-- body replays the stored response; with another body it is refused.
CREATE TABLE checkout_requests (
    account_id      uuid NOT NULL REFERENCES accounts (id),
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    text NOT NULL,
    response_status smallint,
    response_body   jsonb,
    order_id        uuid REFERENCES orders (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (account_id, idempotency_key),
    CHECK ((completed_at IS NULL) = (response_status IS NULL))
);

-- Events written in the same transaction as the change they announce; consumers (emails,
-- webhooks, retention) read them later.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX outbox_unprocessed_idx ON outbox (id) WHERE processed_at IS NULL;

ALTER TABLE stock_movements ADD COLUMN order_id uuid REFERENCES orders (id);
