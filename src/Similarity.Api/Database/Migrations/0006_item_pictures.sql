-- Each item's picture as people see it (issue #12): a normalised JPEG (longest side 640 px, the copy a later
-- re-embedding reads) and a 256 px thumbnail. A table of its own so that the vector queries, which read `items`,
-- never touch picture bytes; deleting an item deletes its pictures.
CREATE TABLE item_pictures (
    sku          text PRIMARY KEY REFERENCES items (sku) ON DELETE CASCADE,
    image_sha256 bytea NOT NULL,          -- the uploaded bytes this copy was made from (items.image_sha256)
    etag         text NOT NULL,
    full_jpeg    bytea NOT NULL,
    thumb_jpeg   bytea NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- JPEG bytes do not compress: skip PostgreSQL's attempt, keep them out of line.
ALTER TABLE item_pictures ALTER COLUMN full_jpeg SET STORAGE EXTERNAL, ALTER COLUMN thumb_jpeg SET STORAGE EXTERNAL;
