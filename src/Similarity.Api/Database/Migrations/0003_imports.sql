-- Bulk imports: one row per job, its progress committed with every batch, and its rejected rows.
CREATE TABLE import_jobs (
    id               uuid PRIMARY KEY,
    idempotency_key  text UNIQUE,
    body_sha256      bytea NOT NULL,
    format           text NOT NULL CHECK (format IN ('csv', 'jsonl')),
    catalog_path     text NOT NULL,
    images_path      text,
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'succeeded_with_errors', 'failed', 'cancelled')),
    total_rows       integer,
    processed_rows   integer NOT NULL DEFAULT 0,   -- the resume point: rows before it are committed
    inserted         integer NOT NULL DEFAULT 0,
    updated          integer NOT NULL DEFAULT 0,
    unchanged        integer NOT NULL DEFAULT 0,
    superseded       integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX import_jobs_created ON import_jobs (created_at DESC);
CREATE INDEX import_jobs_open ON import_jobs (created_at) WHERE status IN ('queued', 'running');

CREATE TABLE import_errors (
    job_id     uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_number integer NOT NULL,
    sku        text,
    reason     text NOT NULL,
    PRIMARY KEY (job_id, row_number)
);
