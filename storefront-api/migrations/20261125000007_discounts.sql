-- Discount codes: a percentage or a fixed amount off the goods, with an optional minimum
-- spend, validity window, overall usage limit and a once-per-customer rule. Retention offers
-- are issued as codes too.
CREATE TABLE discount_codes (
    id                   uuid PRIMARY KEY,
    code                 citext NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{3,32}$'),
    kind                 text NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent_basis_points integer CHECK (percent_basis_points BETWEEN 1 AND 10000),
    amount_minor         bigint CHECK (amount_minor > 0),
    currency             char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    min_subtotal_minor   bigint NOT NULL DEFAULT 0 CHECK (min_subtotal_minor >= 0),
    starts_at            timestamptz,
    expires_at           timestamptz,
    usage_limit          integer CHECK (usage_limit > 0),
    times_used           integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    once_per_customer    boolean NOT NULL DEFAULT false,
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'percent' AND percent_basis_points IS NOT NULL AND amount_minor IS NULL)
        OR (kind = 'fixed' AND amount_minor IS NOT NULL AND currency IS NOT NULL
            AND percent_basis_points IS NULL)),
    CHECK (usage_limit IS NULL OR times_used <= usage_limit),
    CHECK (starts_at IS NULL OR expires_at IS NULL OR starts_at < expires_at)
);

CREATE TABLE discount_redemptions (
    order_id         uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    discount_code_id uuid NOT NULL REFERENCES discount_codes (id),
    account_id       uuid NOT NULL REFERENCES accounts (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX discount_redemptions_code_account_idx ON discount_redemptions (discount_code_id, account_id);

ALTER TABLE orders ADD COLUMN discount_code text;
