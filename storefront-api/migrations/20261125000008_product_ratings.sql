-- Reviews live in MongoDB; the catalog keeps each product's rating count and sum so listings
-- can show and sort by it without asking MongoDB. Recomputed from MongoDB after every review
-- write, so a missed update heals with the next one.
ALTER TABLE products
    ADD COLUMN rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    ADD COLUMN rating_sum   bigint  NOT NULL DEFAULT 0 CHECK (rating_sum BETWEEN rating_count AND 5 * rating_count);
