-- Customer groups and segments. A static group's members are rows staff add; a dynamic
-- segment's rule (the wire type's JSON, checked by domain::segments) is evaluated when it is
-- asked, over the orders and the latest churn scores, so it never goes stale.
CREATE TABLE customer_segments (
    id         uuid PRIMARY KEY,
    name       citext NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80),
    kind       text NOT NULL CHECK (kind IN ('static', 'dynamic')),
    rule       jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'dynamic') = (rule IS NOT NULL))
);

CREATE TABLE customer_segment_members (
    segment_id uuid NOT NULL REFERENCES customer_segments (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, account_id)
);
CREATE INDEX customer_segment_members_account_idx ON customer_segment_members (account_id);

-- A promotion for a segment's members only (signed in; guests are in no segment).
ALTER TABLE promotions ADD COLUMN segment_id uuid REFERENCES customer_segments (id);
