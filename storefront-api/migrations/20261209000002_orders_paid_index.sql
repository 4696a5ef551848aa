-- no-transaction
-- Sales figures (the staff dashboard: today, the last 30 days, per day and currency) read
-- the orders paid in a time range; without this index each of them scanned every order.
-- The included columns let those sums come from the index alone. Built concurrently, so a
-- shop with years of orders keeps taking them while it builds (hence no transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_paid_idx
    ON orders (paid_at) INCLUDE (currency, status, total_minor, refunded_minor)
    WHERE paid_at IS NOT NULL;
