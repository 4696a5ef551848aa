-- A refund is recorded before the provider is asked, as a 'pending' payment whose id is the
-- provider's idempotency key for it, and settled from the provider's answer: succeeded, or
-- declined (then the reservation on the order is taken back). A provider that does not
-- answer leaves it pending — the money may have moved — and the reaper asks again, with the
-- same id, once `settle_after` has passed. So a refund is never lost, never paid twice, and
-- never forgotten by a crash between reserving and settling.
ALTER TABLE payments DROP CONSTRAINT payments_outcome_check;
ALTER TABLE payments
    ADD CONSTRAINT payments_outcome_check
        CHECK (outcome IN ('succeeded', 'declined', 'failed', 'pending')),
    ADD COLUMN settle_after timestamptz,
    ADD CONSTRAINT payments_pending_is_refund
        CHECK ((outcome = 'pending') = (settle_after IS NOT NULL)
               AND (outcome <> 'pending' OR kind = 'refund'));
CREATE INDEX payments_pending_idx ON payments (settle_after) WHERE outcome = 'pending';

-- The simulated network's refunds (only payments::SimulatedProvider touches them): one row
-- per refund id, so a refund asked for twice is paid once; never more than the charge.
CREATE TABLE simulated_provider_refunds (
    refund_id        uuid PRIMARY KEY,
    charge_reference text NOT NULL,
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    outcome          text NOT NULL CHECK (outcome IN ('refunded', 'refused')),
    reference        text,
    refusal_code     text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX simulated_provider_refunds_charge_idx ON simulated_provider_refunds (charge_reference);
CREATE INDEX simulated_provider_charges_reference_idx ON simulated_provider_charges (reference);
