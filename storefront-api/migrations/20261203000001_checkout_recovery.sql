-- A checkout request's first request holds it until its lease runs out: the request deadline,
-- after which that request has been cancelled or its process is gone. A request still
-- incomplete after its lease was interrupted; recovery (a retry with the same key, or the
-- reaper) takes the lease over and finishes it. Rows from before this column get "expired".
ALTER TABLE checkout_requests
    ADD COLUMN lease_expires_at timestamptz NOT NULL DEFAULT now(),
    -- Changes with every holder: the work of a holder whose lease was taken over is refused.
    ADD COLUMN lease_token uuid;
CREATE INDEX checkout_requests_interrupted_idx ON checkout_requests (lease_expires_at)
    WHERE completed_at IS NULL;

-- The simulated payment network's own records, kept apart from the shop's: only
-- payments::SimulatedProvider reads or writes them, as a real provider keeps its ledger on
-- its side. One row per order (the order id is the provider's idempotency key); 'voided'
-- is a charge the shop cancelled before it was made.
CREATE TABLE simulated_provider_charges (
    order_id     uuid PRIMARY KEY,
    outcome      text NOT NULL CHECK (outcome IN ('approved', 'declined', 'voided')),
    reference    text,
    decline_code text,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency     char(3) NOT NULL,
    card_brand   text NOT NULL,
    card_last4   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
