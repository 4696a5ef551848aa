-- How many customers each finished run put in each churn risk band, counted as the run ends,
-- so that the staff dashboard reads three numbers here instead of grouping every score in
-- MongoDB on each view. Runs that ended before this migration have none; the dashboard shows
-- bands again after the next run (daily by the schedule, or staff's Score all).
ALTER TABLE scoring_runs
    ADD COLUMN low_risk    integer CHECK (low_risk >= 0),
    ADD COLUMN medium_risk integer CHECK (medium_risk >= 0),
    ADD COLUMN high_risk   integer CHECK (high_risk >= 0);
