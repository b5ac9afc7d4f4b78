-- Model sets as data (issue #13): the sets the service knows, which one is live, and a second set of vector columns
-- for the one other set that may hold vectors beside it (a candidate being embedded, or the previous live set kept
-- ready for a rollback).
--
-- Activation swaps the two groups of columns by renaming them, in one transaction (Models/ModelSets.cs): a rename
-- only changes the catalog, so a switch costs the same at 100 rows as at 100 000, every statement sees wholly one
-- group or the other, and every query, index and trigger keeps naming the live set's vectors `embedding`,
-- `image_embedding`, `text_embedding`. Each group has its own HNSW index (its own dimension); an index follows its
-- column through a rename.
CREATE TABLE model_sets (
    name            text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    fingerprint     text NOT NULL UNIQUE,
    -- live: its vectors are the items' own columns. candidate (deployed), embedding, ready: its vectors are the
    -- standby_ columns. retired: no vectors, files removed.
    status          text NOT NULL CHECK (status IN ('live', 'candidate', 'embedding', 'ready', 'retired')),
    directory       text NOT NULL,            -- where its manifest.json is
    owned           boolean NOT NULL,         -- its folder was made by PUT /models/{name}, and goes when it is retired
    image_dimension integer NOT NULL,
    text_dimension  integer NOT NULL,
    fused_dimension integer NOT NULL,
    bundle_bytes    bigint NOT NULL,          -- the files its manifest names, on disk
    created_at      timestamptz NOT NULL DEFAULT now(),
    activated_at    timestamptz,
    retired_at      timestamptz
);
CREATE UNIQUE INDEX model_sets_one_live ON model_sets ((true)) WHERE status = 'live';
CREATE UNIQUE INDEX model_sets_one_standby ON model_sets ((true)) WHERE status IN ('candidate', 'embedding', 'ready');

-- The standby group mirrors the live one, content hashes included: each group keeps the hashes of the content its
-- vectors were made from, so after a switch the item's hashes are those of the set now live, and a standby whose
-- hashes differ from the live ones is out of date (the item changed since it was embedded).
ALTER TABLE items
    ALTER COLUMN fingerprint DROP NOT NULL,
    ALTER COLUMN embedding DROP NOT NULL,
    ALTER COLUMN image_weight DROP NOT NULL,
    ALTER COLUMN text_weight DROP NOT NULL,
    ALTER COLUMN text_sha256 DROP NOT NULL,
    ADD COLUMN standby_fingerprint text,
    ADD COLUMN standby_embedding vector,
    ADD COLUMN standby_image_embedding vector,
    ADD COLUMN standby_text_embedding vector,
    ADD COLUMN standby_image_weight real,
    ADD COLUMN standby_text_weight real,
    ADD COLUMN standby_text_sha256 bytea,
    ADD COLUMN standby_image_sha256 bytea;
