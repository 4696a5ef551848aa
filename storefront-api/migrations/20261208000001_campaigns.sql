-- Retention campaigns: an audience rule over the latest churn scores, an offer, a holdout,
-- and the record of who was enrolled in which arm, what they were shown and (from orders)
-- what they bought. The loop: score → enrol → offer → exposure → order → measurement.

-- Every scoring of the whole shop (a staff request or the schedule), so that any instance
-- can say when the last one ran and how it went, and campaigns know whose scores are current.
CREATE TABLE scoring_runs (
    id            uuid PRIMARY KEY,
    trigger       text NOT NULL CHECK (trigger IN ('staff', 'schedule')),
    model_version text NOT NULL,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'finished', 'failed')),
    customers     integer,
    enrolled      integer,
    error         text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX scoring_runs_recent_idx ON scoring_runs (started_at DESC);

CREATE TABLE campaigns (
    id                        uuid PRIMARY KEY,
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    status                    text NOT NULL DEFAULT 'running'
                              CHECK (status IN ('running', 'paused', 'ended')),
    mode                      text NOT NULL CHECK (mode IN ('one_off', 'automatic')),
    -- The audience rule. An empty band list means every band.
    risk_bands                text[] NOT NULL DEFAULT '{}',
    min_probability           double precision CHECK (min_probability BETWEEN 0 AND 1),
    max_probability           double precision CHECK (max_probability BETWEEN 0 AND 1),
    min_predicted_value_minor bigint CHECK (min_predicted_value_minor >= 0),
    min_days_since_last_order integer CHECK (min_days_since_last_order >= 0),
    max_days_since_last_order integer CHECK (max_days_since_last_order >= 0),
    exclude_opted_out         boolean NOT NULL DEFAULT true,
    -- The offer: each treated customer gets a personal single-use code with these rules.
    offer_kind                text NOT NULL CHECK (offer_kind IN ('percent', 'fixed')),
    percent_basis_points      integer CHECK (percent_basis_points BETWEEN 1 AND 10000),
    amount_minor              bigint CHECK (amount_minor > 0),
    currency                  char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    min_spend_minor           bigint NOT NULL DEFAULT 0 CHECK (min_spend_minor >= 0),
    -- How long a code stays valid, which is also how long each customer's purchases count
    -- towards the campaign's results (the measurement window).
    days_valid                integer NOT NULL CHECK (days_valid BETWEEN 1 AND 365),
    channels                  text[] NOT NULL CHECK (cardinality(channels) > 0),
    holdout_percent           integer NOT NULL CHECK (holdout_percent BETWEEN 1 AND 99),
    frequency_cap_days        integer NOT NULL CHECK (frequency_cap_days BETWEEN 0 AND 365),
    max_recipients            integer CHECK (max_recipients > 0),
    -- Seeds each customer's draw into treatment or holdout, so an assignment can be
    -- recomputed and audited.
    seed                      bigint NOT NULL,
    created_by                uuid NOT NULL REFERENCES accounts (id),
    created_at                timestamptz NOT NULL DEFAULT now(),
    ended_at                  timestamptz,
    CHECK ((offer_kind = 'percent' AND percent_basis_points IS NOT NULL AND amount_minor IS NULL)
        OR (offer_kind = 'fixed' AND amount_minor IS NOT NULL AND percent_basis_points IS NULL)),
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);

-- A personal code works only for the account it was made for.
ALTER TABLE discount_codes ADD COLUMN account_id uuid REFERENCES accounts (id);

-- One customer in one campaign, in one arm, for good: the primary key makes enrolment
-- happen once, and nothing updates `arm`.
CREATE TABLE campaign_enrolments (
    campaign_id       uuid NOT NULL REFERENCES campaigns (id),
    account_id        uuid NOT NULL REFERENCES accounts (id),
    arm               text NOT NULL CHECK (arm IN ('treatment', 'holdout')),
    -- The score that qualified the customer (the stratum of the draw is the band).
    risk_band         text NOT NULL CHECK (risk_band IN ('low', 'medium', 'high')),
    churn_probability double precision NOT NULL,
    scoring_run_id    uuid REFERENCES scoring_runs (id),
    enrolled_at       timestamptz NOT NULL DEFAULT now(),
    -- The end of the measurement window (and of the code's validity).
    window_ends_at    timestamptz NOT NULL,
    -- Treated customers only.
    discount_code_id  uuid UNIQUE REFERENCES discount_codes (id),
    PRIMARY KEY (campaign_id, account_id),
    CHECK ((arm = 'treatment') = (discount_code_id IS NOT NULL))
);
CREATE INDEX campaign_enrolments_account_idx ON campaign_enrolments (account_id, enrolled_at DESC);

-- What a treated customer was shown, once per channel.
CREATE TABLE campaign_exposures (
    campaign_id uuid NOT NULL,
    account_id  uuid NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'web')),
    exposed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, account_id, channel),
    FOREIGN KEY (campaign_id, account_id) REFERENCES campaign_enrolments (campaign_id, account_id)
);
