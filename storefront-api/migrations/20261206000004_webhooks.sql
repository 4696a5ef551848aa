-- The outbox relay: messages leave the outbox for the webhook endpoints staff register.
--
-- Each message keeps one id for life (receivers drop duplicates by it) and, for an order's
-- messages, the order as its ordering key: a receiver gets one order's messages in the order
-- they were written. Its body (what receivers get) is written once, when the relay first
-- takes the message, so every attempt and every receiver sees the same bytes.
ALTER TABLE outbox
    ADD COLUMN message_id   uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN ordering_key text,
    ADD COLUMN body         jsonb;

CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    topics          text[] NOT NULL CHECK (cardinality(topics) > 0),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- The signing key, `whsec_` and base64 (Standard Webhooks); shown to staff once.
    secret          text NOT NULL,
    created_by      uuid REFERENCES accounts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Disabled by staff, or by the relay once too many messages in a row died.
    disabled_at     timestamptz,
    disabled_reason text,
    -- Messages that died one after another since the last delivered one.
    dead_in_a_row   integer NOT NULL DEFAULT 0,
    CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL))
);

-- One message for one endpoint: delivered, given up on (dead), or still to try.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    outbox_id       bigint NOT NULL REFERENCES outbox (id),
    ordering_key    text,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- While a relay delivers it, no other takes it; a relay that died lets it go when this
    -- passes, and the message is delivered again.
    leased_until    timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, outbox_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_ordering_idx
    ON webhook_deliveries (endpoint_id, ordering_key, outbox_id) WHERE status = 'pending';

-- Every attempt, as staff read it in the delivery log.
CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    response_excerpt text NOT NULL DEFAULT '',
    error            text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
