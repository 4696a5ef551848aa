-- Tax per line, and markets whose prices include it.
--
-- An order now stores what each line carried: its share of the discount code and its tax
-- (each line taxed on what it cost after its discounts, rounded on its own), and the tax in
-- shipping; the order's tax is their sum. Orders placed before keep NULL there: their tax
-- was worked out on the order as a whole.
--
-- `prices_include_tax`: the order's market showed prices with tax in them (EU, UK), so the
-- total is subtotal − discount + shipping and the tax is the part of it that is tax;
-- otherwise (US, and every earlier order) tax was added on top. Checkout always says which.
ALTER TABLE orders
    ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false,
    ADD COLUMN shipping_tax_minor bigint CHECK (shipping_tax_minor >= 0);
-- The old rule (total = subtotal − discount + shipping + tax) was declared without a name;
-- find it by what it says rather than by the name PostgreSQL happened to give it.
DO $$
DECLARE
    rule text;
BEGIN
    SELECT conname INTO STRICT rule FROM pg_constraint
     WHERE conrelid = 'orders'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%total_minor = (((subtotal_minor - discount_minor) + shipping_minor) + tax_minor)%';
    EXECUTE format('ALTER TABLE orders DROP CONSTRAINT %I', rule);
END
$$;
ALTER TABLE orders ADD CONSTRAINT orders_total_adds_up CHECK (
    total_minor = subtotal_minor - discount_minor + shipping_minor
                  + CASE WHEN prices_include_tax THEN 0 ELSE tax_minor END
);
ALTER TABLE orders ADD CONSTRAINT orders_included_tax_within_total CHECK (
    NOT prices_include_tax OR tax_minor <= total_minor
);

ALTER TABLE order_lines
    ADD COLUMN code_discount_minor bigint CHECK (code_discount_minor >= 0),
    ADD COLUMN tax_minor bigint CHECK (tax_minor >= 0),
    ADD CONSTRAINT order_lines_discounts_within_line CHECK (
        promotion_discount_minor + coalesce(code_discount_minor, 0) <= line_total_minor
    );
