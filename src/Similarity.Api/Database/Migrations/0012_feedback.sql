-- The closed loop's tables: what the service served, what shoppers did with it, and what is learned from that.
-- served_lists and events are partitioned by day (PostgreSQL's declarative partitions): retention drops whole
-- partitions instead of deleting rows. The feedback duty creates each day's partition ahead of time and drops the
-- expired ones; a default partition catches any row whose day has none yet, so a write never fails for it.

-- One row per list served: GET /similar/{sku}, POST /similar, POST /similar/batch (one row per SKU, same request id),
-- POST /search. Written in batches off the request path (binary COPY).
CREATE TABLE served_lists (
    request_id     uuid NOT NULL,                -- the answer's requestId (UUIDv7), also in its X-Request-Id header
    served_at      timestamptz NOT NULL,
    endpoint       text NOT NULL CHECK (endpoint IN ('similar', 'examples', 'batch', 'search')),
    query_sku      text,                         -- the query item; null for a search or several examples
    visitor_id     text,                         -- as the caller passed it (visitorId), else null
    fingerprint    text NOT NULL,                -- the live model set that answered
    experiment     text,                         -- the experiment this answer took part in, if any
    arm            text,                         -- 'control' or 'treatment' (or 'interleaved'); null outside experiments
    teams          text,                         -- interleaving: one character per position, 'A' or 'B', the side credited for it
    explored_at    smallint,                     -- 1-based position p whose result was swapped with p+1 to estimate position bias
    skus           text[] NOT NULL,              -- the results, best first, as served
    scores         real[] NOT NULL               -- their scores, same order
) PARTITION BY RANGE (served_at);
CREATE TABLE served_lists_default PARTITION OF served_lists DEFAULT;
CREATE INDEX served_lists_request ON served_lists (request_id);
CREATE INDEX served_lists_visitor ON served_lists (visitor_id) WHERE visitor_id IS NOT NULL;

-- What shoppers did, as the shop's backend reported it (POST /events).
CREATE TABLE events (
    event_id    text NOT NULL,                   -- made by the client; the same id again is stored once
    type        text NOT NULL CHECK (type IN ('view', 'click', 'addToCart', 'purchase')),
    visitor_id  text NOT NULL,                   -- opaque; no personal data
    session_id  text,
    sku         text NOT NULL,
    source_sku  text,                            -- the list's query item, when the event came from a served list
    request_id  uuid,                            -- the served list's requestId
    position    smallint,                        -- 1-based, in that list
    occurred_at timestamptz NOT NULL,            -- the client's timestamp (72 h ago to 5 min ahead)
    received_at timestamptz NOT NULL DEFAULT now(),
    quantity    integer,                         -- purchases only
    price       numeric(14, 4),
    currency    text,
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_visitor ON events (visitor_id, occurred_at);
CREATE INDEX events_request ON events (request_id) WHERE request_id IS NOT NULL;

-- Every event id seen, whatever its timestamp: the dedupe across partitions (a partitioned table's unique key must
-- hold the partition key). Pruned with the events' retention.
CREATE TABLE event_ids (
    event_id    text PRIMARY KEY,
    occurred_at timestamptz NOT NULL
);
CREATE INDEX event_ids_age ON event_ids (occurred_at);

-- Visitors that sent more than the configured rate: their events are kept and counted, never learned from.
CREATE TABLE bot_visitors (
    visitor_id  text PRIMARY KEY,
    flagged_at  timestamptz NOT NULL DEFAULT now(),
    reason      text NOT NULL
);

-- Item pairs engaged together within one session by enough distinct visitors; both directions are stored.
CREATE TABLE co_engagement (
    sku        text NOT NULL,
    other_sku  text NOT NULL,
    weight     real NOT NULL,                    -- decayed, type-weighted, position-corrected engagement of the pair
    visitors   integer NOT NULL,                 -- distinct visitors who engaged with both
    score      real NOT NULL,                    -- the normalised strength the blend uses (0..1)
    PRIMARY KEY (sku, other_sku)
);

-- Position bias: the estimated chance that a shopper examines position p (position 1 = 1), from the explored swaps.
CREATE TABLE position_propensities (
    position   smallint PRIMARY KEY,
    propensity real NOT NULL,
    clicks     integer NOT NULL,                 -- the swapped clicks the estimate rests on
    estimated_at timestamptz NOT NULL DEFAULT now()
);

-- The rebuilds' bookkeeping (one row per learned thing: 'coEngagement', 'propensities').
CREATE TABLE feedback_rebuilds (
    name        text PRIMARY KEY,
    rebuilt_at  timestamptz NOT NULL,
    events_through timestamptz,                  -- the last event's received_at folded in
    rows_written integer NOT NULL DEFAULT 0
);

-- Online experiments: two rankers compared by team-draft interleaving on a share of /similar traffic.
CREATE TABLE experiments (
    name        text PRIMARY KEY,
    control     jsonb NOT NULL,                  -- side A: the ranker's parameters (e.g. {"blend": 0})
    treatment   jsonb NOT NULL,                  -- side B
    share       real NOT NULL CHECK (share > 0 AND share <= 1),
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at  timestamptz
);
