-- What the vectors tell about the catalog as a whole (Insight/): clusters of the fused vectors, recomputed by a duty
-- when enough items changed, and the catalog checks of each import job.

-- The last clustering: one row per cluster, its label words, central items and the categories it spans.
CREATE TABLE insight_clusters (
    id          integer PRIMARY KEY,
    size        integer NOT NULL,
    label       text[] NOT NULL,           -- its most telling words, most telling first
    central     text[] NOT NULL,           -- the SKUs nearest its centroid, nearest first
    categories  jsonb NOT NULL,            -- [{"category": ..., "items": n}], largest first
    cohesion    double precision NOT NULL  -- mean cosine of its members to the centroid
);

-- Each clustered item's cluster and its cosine to the centroid. No foreign key to items: a delete must not wait on
-- the duty's rewrite, and a deleted item counts as a change that brings the next recomputation closer.
CREATE TABLE insight_cluster_members (
    sku        text PRIMARY KEY,
    cluster_id integer NOT NULL REFERENCES insight_clusters (id) ON DELETE CASCADE,
    similarity double precision NOT NULL
);
CREATE INDEX insight_cluster_members_cluster ON insight_cluster_members (cluster_id, similarity DESC, sku);

-- When the clusters were computed, over how many items, of which model set, and with how many clusters chosen how.
CREATE TABLE insight_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    fingerprint  text,
    items        integer NOT NULL DEFAULT 0,
    clusters     integer NOT NULL DEFAULT 0,
    chosen_by    text,
    silhouette   double precision,
    computed_at  timestamptz,
    took_ms      double precision
);
INSERT INTO insight_state DEFAULT VALUES;

-- The SKUs an import job stored, recorded after each batch, so that the checks at the job's end cover a resumed job
-- whole; with the size of the picture the job received for it (null when it sent none, or the stored one was kept).
CREATE TABLE import_check_items (
    job_id         uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    sku            text NOT NULL,
    picture_width  integer,
    picture_height integer,
    PRIMARY KEY (job_id, sku)
);

-- What the catalog checks found in an import job's items. A check never rejects a row: it informs.
CREATE TABLE import_checks (
    job_id  uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    kind    text NOT NULL CHECK (kind IN ('duplicate', 'mismatch', 'noPicture', 'smallPicture', 'boilerplateDescription', 'repeatedTitle')),
    sku     text NOT NULL,
    detail  text NOT NULL,
    related text[] NOT NULL DEFAULT '{}',   -- the items it concerns beside sku (the duplicated ones, what the picture resembles)
    score   double precision,
    PRIMARY KEY (job_id, kind, sku)
);
