-- Prices per market currency.
--
-- A product is created in a currency (`products.currency`), in which every variant has its
-- price (`variants.price_minor`). `variant_prices` gives a variant its price in another
-- market's currency (GBP, USD…): set by staff, never converted. A variant without a price in
-- a currency is not for sale to the markets of that currency.
CREATE TABLE variant_prices (
    variant_id       uuid NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_minor      bigint NOT NULL CHECK (price_minor >= 0),
    compare_at_minor bigint CHECK (compare_at_minor IS NULL OR compare_at_minor > price_minor),
    PRIMARY KEY (variant_id, currency)
);

-- Every price of every variant, its product's own currency's included: what a read in one
-- currency joins. (`storage::catalog::prices` refuses a `variant_prices` row in the product's
-- own currency, so a variant has one price per currency here.)
CREATE VIEW variant_currency_prices AS
    SELECT v.id AS variant_id, p.currency, v.price_minor, v.compare_at_minor
      FROM variants v JOIN products p ON p.id = v.product_id
    UNION ALL
    SELECT variant_id, currency, price_minor, compare_at_minor FROM variant_prices;

-- Per product and currency it is sold in: the lowest price among its active variants priced
-- in it, that variant's compare-at price, and whether any of them has stock. Kept by the
-- storage layer whenever prices, variants or stock change (as `products.price_from_minor`
-- and `products.in_stock` are); listings filter and sort on it.
CREATE TABLE product_prices (
    product_id       uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_from_minor bigint NOT NULL CHECK (price_from_minor >= 0),
    compare_at_minor bigint,
    in_stock         boolean NOT NULL,
    PRIMARY KEY (product_id, currency)
);
CREATE INDEX product_prices_listing_idx ON product_prices (currency, price_from_minor, product_id);

INSERT INTO product_prices (product_id, currency, price_from_minor, compare_at_minor, in_stock)
SELECT DISTINCT ON (v.product_id) v.product_id, p.currency, v.price_minor, v.compare_at_minor,
       bool_or(v.stock_on_hand > 0) OVER (PARTITION BY v.product_id)
  FROM variants v JOIN products p ON p.id = v.product_id
 WHERE v.status = 'active'
 ORDER BY v.product_id, v.price_minor, v.position;
