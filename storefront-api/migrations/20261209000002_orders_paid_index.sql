-- no-transaction
-- Sales figures (the staff dashboard: today, the last 30 days, per day and currency) read
-- the orders paid in a time range; without this index each of them scanned every order.
-- The included columns let those sums come from the index alone. Built concurrently, so a
-- shop with years of orders keeps taking them while it builds — which is why this file has
-- no transaction and must stay one statement (several would run in one implicit
-- transaction, where CONCURRENTLY is refused). If the build is cut off (the migration Job's
-- deadline, a restart), PostgreSQL leaves an invalid index behind and this migration fails
-- on its next run, on purpose: `DROP INDEX CONCURRENTLY orders_paid_idx;` and migrate again.
CREATE INDEX CONCURRENTLY orders_paid_idx
    ON orders (paid_at) INCLUDE (currency, status, total_minor, refunded_minor)
    WHERE paid_at IS NOT NULL;
