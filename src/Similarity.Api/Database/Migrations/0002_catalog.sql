-- One row per catalog item: its fields, content hashes, the model fingerprint, and its vectors.
-- Vectors are float32 `vector` without a fixed dimension (the model set decides it); the service builds the
-- HNSW index as an expression over halfvec(D) for the current dimension at start (Catalog/CatalogIndex.cs).
CREATE TABLE items (
    sku             text PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
    title           text NOT NULL,
    description     text,
    category        text,
    brand           text,
    price           numeric(14, 2) CHECK (price >= 0),
    currency        text,
    available       boolean NOT NULL DEFAULT true,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    image_sha256    bytea,
    text_sha256     bytea NOT NULL,
    fingerprint     text NOT NULL,
    embedding       vector NOT NULL,
    image_embedding vector,
    text_embedding  vector,
    image_weight    real NOT NULL,
    text_weight     real NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX items_category ON items (category);
CREATE INDEX items_brand ON items (brand);
CREATE INDEX items_price ON items (price);

-- Bumped in the same transaction as every write: /similar's ETags derive from it.
CREATE TABLE catalog_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision  bigint NOT NULL
);
INSERT INTO catalog_state (revision) VALUES (0);
