-- Imports in the shop's own formats (issue #15) and errors that name the file's line and column (issue #11).
-- A job now records which format it reads (detected or named) and how: its column mapping and what to do when a
-- picture cannot be downloaded. Jobs queued before this migration read our own CSV or JSON Lines: 'native'.
ALTER TABLE import_jobs DROP CONSTRAINT import_jobs_format_check;
UPDATE import_jobs SET format = 'native' WHERE format IN ('csv', 'jsonl');
ALTER TABLE import_jobs ADD CONSTRAINT import_jobs_format_check CHECK (format IN ('native', 'merchant-center', 'shopify', 'mapped'));
ALTER TABLE import_jobs ADD COLUMN format_name text;   -- the `format` form field as sent, if any
ALTER TABLE import_jobs ADD COLUMN mapping jsonb;
ALTER TABLE import_jobs ADD COLUMN missing_image text NOT NULL DEFAULT 'skip' CHECK (missing_image IN ('skip', 'textOnly'));
-- One name for a row the import could not take as sent: an error (the route is /imports/{id}/errors).
ALTER TABLE import_jobs RENAME COLUMN failed TO errors;
ALTER TABLE import_jobs ADD COLUMN pictures_downloaded integer NOT NULL DEFAULT 0;
-- `updated` rows had only fields that are not embedded change; `reembedded` ones their picture or embedded text.
ALTER TABLE import_jobs RENAME COLUMN updated TO reembedded;
ALTER TABLE import_jobs ADD COLUMN updated integer NOT NULL DEFAULT 0;

ALTER TABLE import_errors ADD COLUMN line integer;      -- the file's line the row starts on
ALTER TABLE import_errors ADD COLUMN columns text;      -- the file's columns (or XML elements) at fault, comma-separated
ALTER TABLE import_errors ADD COLUMN stored boolean NOT NULL DEFAULT false;  -- kept without its picture (missingImage=textOnly)

-- The shop's own address of an item's picture, shown by storefronts; for imports, where the picture came from.
ALTER TABLE items ADD COLUMN image_url text CHECK (image_url IS NULL OR image_url ~ '^https?://');

-- What each picture URL answered last time, so a re-import asks whether it changed instead of downloading it again.
CREATE TABLE picture_sources (
    url           text PRIMARY KEY,
    etag          text,
    last_modified timestamptz,
    sha256        bytea NOT NULL,
    fetched_at    timestamptz NOT NULL DEFAULT now()
);

-- Prices kept exactly as written, to their currency's minor units (ISO 4217: up to 4, for CLF), never rounded
-- (issue #11). Unconstrained numeric keeps each value's own scale (19.90 stays 19.90; numeric(18,4) would answer 19.9000).
ALTER TABLE items ALTER COLUMN price TYPE numeric;
ALTER TABLE items ADD CONSTRAINT items_price_exact CHECK (price < 1e14 AND scale(price) <= 4);
