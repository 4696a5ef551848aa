CREATE TABLE categories (
    id         uuid PRIMARY KEY,
    parent_id  uuid REFERENCES categories (id) ON DELETE RESTRICT,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name       text NOT NULL,
    position   integer NOT NULL DEFAULT 0
);
CREATE INDEX categories_parent_idx ON categories (parent_id);

CREATE TYPE product_status AS ENUM ('draft', 'active', 'archived');

CREATE TABLE products (
    id               uuid PRIMARY KEY,
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '',
    category_id      uuid NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    status           product_status NOT NULL DEFAULT 'draft',
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    image_urls       text[] NOT NULL DEFAULT '{}',
    -- Lowest price among the product's active variants, kept by the storage layer in the same
    -- transaction as every variant write; lists sort and filter on it.
    price_from_minor bigint CHECK (price_from_minor >= 0),
    -- True while any active variant has stock; maintained like price_from_minor.
    in_stock         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    search_document  tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', description), 'B')
    ) STORED
);
CREATE INDEX products_search_idx ON products USING gin (search_document);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_category_idx ON products (category_id) WHERE status = 'active';
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC) WHERE status = 'active';
CREATE INDEX products_price_idx ON products (price_from_minor, id) WHERE status = 'active';

CREATE TYPE variant_status AS ENUM ('active', 'archived');

CREATE TABLE variants (
    id               uuid PRIMARY KEY,
    product_id       uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku              text NOT NULL UNIQUE CHECK (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'),
    title            text NOT NULL,
    options          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object'),
    price_minor      bigint NOT NULL CHECK (price_minor >= 0),
    compare_at_minor bigint CHECK (compare_at_minor IS NULL OR compare_at_minor > price_minor),
    stock_on_hand    integer NOT NULL DEFAULT 0 CHECK (stock_on_hand >= 0),
    status           variant_status NOT NULL DEFAULT 'active',
    position         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX variants_product_idx ON variants (product_id);

-- Every change to stock_on_hand is one row here; per variant the deltas sum to stock_on_hand.
CREATE TABLE stock_movements (
    id             bigserial PRIMARY KEY,
    variant_id     uuid NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    delta          integer NOT NULL CHECK (delta <> 0),
    reason         text NOT NULL CHECK (reason IN ('initial', 'restock', 'correction', 'damaged', 'lost', 'returned', 'sale', 'release')),
    note           text,
    stock_after    integer NOT NULL CHECK (stock_after >= 0),
    actor_id       uuid REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_variant_idx ON stock_movements (variant_id, id);
