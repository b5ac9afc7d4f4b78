-- Named API keys, each `admin` or `storefront`, sent in X-Api-Key. Only the SHA-256 of the secret is kept: the
-- secret is 256 random bits, shown once when the key is created. A revoked key's row is deleted. The bootstrap
-- admin key (Similarity:AdminApiKey) is configuration, not a row here.
CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role        text NOT NULL CHECK (role IN ('admin', 'storefront')),
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    hint        text NOT NULL,
    per_second  integer NOT NULL CHECK (per_second BETWEEN 1 AND 1000000),
    burst       integer NOT NULL CHECK (burst BETWEEN 1 AND 1000000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
