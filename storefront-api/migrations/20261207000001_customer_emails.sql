-- Customer emails: the relay sends them from the outbox like webhooks; shoppers choose
-- whether the shop may send them marketing; and a forgotten password can be reset.

-- Marketing consent, off until the customer gives it; transactional emails (an order's
-- confirmation, a password reset) go out regardless. Every change is kept with where it was
-- made, so the shop can show when and how consent was given or withdrawn.
ALTER TABLE accounts
    ADD COLUMN marketing_consent            boolean NOT NULL DEFAULT false,
    ADD COLUMN marketing_consent_changed_at timestamptz;

CREATE TABLE marketing_consent_changes (
    id         bigserial PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    consent    boolean NOT NULL,
    source     text NOT NULL CHECK (source IN ('account_page', 'unsubscribe_link', 'erasure')),
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX marketing_consent_changes_account_idx
    ON marketing_consent_changes (account_id, id);

-- A password reset a customer asked for. The link in the email carries this id signed with
-- the shop's link secret (the database never holds a usable link); it works once, until
-- `expires_at`.
CREATE TABLE password_resets (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_account_idx ON password_resets (account_id, created_at DESC);

-- One email for one outbox message: sent, given up on (dead), skipped (nobody to send it
-- to any more, or a marketing email to someone who withdrew consent), or still to send.
-- The recipient is read when it is sent, so an erased customer gets nothing.
CREATE TABLE email_deliveries (
    id              bigserial PRIMARY KEY,
    outbox_id       bigint NOT NULL REFERENCES outbox (id),
    kind            text NOT NULL,
    account_id      uuid NOT NULL REFERENCES accounts (id),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- As for webhook deliveries: a relay that died lets it go when this passes.
    leased_until    timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (outbox_id, kind)
);
CREATE INDEX email_deliveries_due_idx ON email_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX email_deliveries_account_idx ON email_deliveries (account_id, id DESC);

-- The relay's retention sweep: messages processed long ago, with nothing left to send,
-- go with their deliveries (`relay.retention_days`).
CREATE INDEX outbox_processed_idx ON outbox (processed_at) WHERE processed_at IS NOT NULL;
CREATE INDEX webhook_deliveries_outbox_idx ON webhook_deliveries (outbox_id);
