-- Automatic promotions: what a promotion gives (rule) and on what (scope) are the wire
-- types' JSON, checked by domain::promotions before they are written and parsed back on
-- every read (a row that does not parse is an error, never a silent "no promotion").
-- Budgets are counters moved only by a conditional UPDATE in the order's transaction, so
-- concurrent checkouts cannot overspend them; the table's checks say so again.
CREATE TABLE promotions (
    id           uuid PRIMARY KEY,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 80),
    rule         jsonb NOT NULL CHECK (jsonb_typeof(rule) = 'object'),
    scope        jsonb NOT NULL CHECK (jsonb_typeof(scope) = 'object'),
    currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    starts_at    timestamptz,
    ends_at      timestamptz,
    combines     boolean NOT NULL DEFAULT false,
    budget_uses  integer CHECK (budget_uses > 0),
    budget_minor bigint CHECK (budget_minor > 0),
    used_uses    integer NOT NULL DEFAULT 0 CHECK (used_uses >= 0),
    used_minor   bigint NOT NULL DEFAULT 0 CHECK (used_minor >= 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (budget_uses IS NULL OR used_uses <= budget_uses),
    CHECK (budget_minor IS NULL OR used_minor <= budget_minor),
    CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
);
CREATE INDEX promotions_running_idx ON promotions (currency, created_at) WHERE active;

-- What each order was given, kept with the title it had then. A redemption of an order
-- cancelled before payment is released: its use and amount go back to the budget, the row
-- stays (the order's totals still show the discount it was placed with).
CREATE TABLE promotion_redemptions (
    order_id                uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    promotion_id            uuid NOT NULL REFERENCES promotions (id),
    title                   text NOT NULL,
    discount_minor          bigint NOT NULL CHECK (discount_minor >= 0),
    shipping_discount_minor bigint NOT NULL CHECK (shipping_discount_minor >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    released_at             timestamptz,
    PRIMARY KEY (order_id, promotion_id)
);
CREATE INDEX promotion_redemptions_promotion_idx ON promotion_redemptions (promotion_id);

-- What promotions took off each line, so a return refunds what its units were sold for.
ALTER TABLE order_lines
    ADD COLUMN promotion_discount_minor bigint NOT NULL DEFAULT 0
        CHECK (promotion_discount_minor BETWEEN 0 AND line_total_minor);
