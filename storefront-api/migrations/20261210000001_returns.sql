-- Returns: a customer sends back lines of a delivered order; staff approve or refuse it,
-- receive the goods (putting each line back on the shelf or not), and refund it once.
--
-- A return's quantities never exceed what was sold less what other live returns hold (the
-- request checks it under the order's row lock); a return is received once and refunded once
-- (each step is a conditional move of its status under its row lock), and its refund is
-- reserved on the order like any refund, so it can never give back more than was paid.

-- When the customer may still ask to return a delivered order: set when the order is
-- delivered, from the return window then in force (a later change of policy does not move
-- a customer's deadline).
ALTER TABLE orders ADD COLUMN returnable_until timestamptz;
UPDATE orders SET returnable_until = delivered_at + interval '30 days'
 WHERE delivered_at IS NOT NULL;

CREATE TYPE return_status AS ENUM ('requested', 'approved', 'refused', 'received', 'refunded');

-- The number a customer quotes, e.g. 5001.
CREATE SEQUENCE return_number_seq START 5001;

CREATE TABLE returns (
    id              uuid PRIMARY KEY,
    number          bigint NOT NULL UNIQUE DEFAULT nextval('return_number_seq'),
    order_id        uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status          return_status NOT NULL DEFAULT 'requested',
    customer_note   text CHECK (length(customer_note) BETWEEN 1 AND 2000),
    refusal_reason  text CHECK (length(refusal_reason) BETWEEN 1 AND 500),
    -- What it refunded, and the refund reserved for it (a `payments` row of kind refund;
    -- none when nothing was due): set when it is refunded, cleared again if the provider
    -- refuses (the return is then received, to refund again).
    refund_minor    bigint CHECK (refund_minor >= 0),
    refund_id       uuid UNIQUE REFERENCES payments (id),
    -- What the return policy said it was worth back when it was refunded (staff may have
    -- refunded less): the next return of the order refunds the policy's value of everything
    -- returned less these, so the returns add up to the whole whatever order they come in.
    policy_minor    bigint CHECK (policy_minor >= 0),
    requested_at    timestamptz NOT NULL DEFAULT now(),
    approved_at     timestamptz,
    refused_at      timestamptz,
    received_at     timestamptz,
    refunded_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'refused') = (refused_at IS NOT NULL)),
    CHECK ((status = 'refunded') = (refund_minor IS NOT NULL)),
    CHECK ((refund_minor IS NULL) = (policy_minor IS NULL)),
    CHECK (refund_id IS NULL OR refund_minor > 0)
);
CREATE INDEX returns_order_idx ON returns (order_id, requested_at);
CREATE INDEX returns_status_idx ON returns (status, requested_at DESC);

CREATE TABLE return_lines (
    return_id    uuid NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    order_id     uuid NOT NULL,
    line_number  integer NOT NULL,
    quantity     integer NOT NULL CHECK (quantity > 0),
    reason       text NOT NULL CHECK (reason IN ('damaged', 'wrong_item', 'not_as_described',
                                                'does_not_fit', 'changed_mind', 'other')),
    -- Decided when the goods arrive: back on the shelf (a `returned` stock movement) or not
    -- (damaged). NULL until received.
    restocked    boolean,
    PRIMARY KEY (return_id, line_number),
    FOREIGN KEY (order_id, line_number) REFERENCES order_lines (order_id, line_number)
        ON DELETE CASCADE
);
CREATE INDEX return_lines_order_idx ON return_lines (order_id, line_number);
