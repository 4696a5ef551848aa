-- A customer who deletes their account is erased, not removed: the row stays (their orders
-- are the shop's books and point at it) with every personal field replaced, and
-- `erased_at` says when.
ALTER TABLE accounts ADD COLUMN erased_at timestamptz;
