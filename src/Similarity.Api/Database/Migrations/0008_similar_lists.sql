-- Each item's top N neighbours by fused cosine (issue #14), so the storefront's common /similar call reads one row
-- instead of searching the index. Kept live by SimilarLists.Worker: every change of an item's vectors, and every
-- delete, is queued here by a trigger, whatever wrote it (PUT, PATCH, imports).
CREATE TABLE similar_lists (
    -- No foreign key to items: a delete would then lock this row, which the worker may hold while it waits on the
    -- items row for its own key check, and one of the two would end as a deadlock. The worker drops a deleted item's list.
    sku         text PRIMARY KEY,
    fingerprint text NOT NULL,                 -- the model set whose vectors the scores compare
    neighbours  text[] NOT NULL,               -- best first
    scores      double precision[] NOT NULL,   -- the fused cosine of each, same order
    computed_at timestamptz NOT NULL DEFAULT now()
);
-- "Which lists hold X": on every change of X.
CREATE INDEX similar_lists_neighbours ON similar_lists USING gin (neighbours);

CREATE TABLE similar_list_queue (
    sku       text PRIMARY KEY,
    deleted   boolean NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp()  -- the first change not yet applied (freshness is measured from it)
);
CREATE INDEX similar_list_queue_order ON similar_list_queue (queued_at);

-- Bumped by each round of the worker. /similar's ETags derive from it as well as from catalog_state: a counter of
-- its own, because a round that bumped catalog_state would wait on writers that wait on it (the queue's rows).
CREATE TABLE similar_lists_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision  bigint NOT NULL
);
INSERT INTO similar_lists_state (revision) VALUES (0);

CREATE FUNCTION queue_similar_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO similar_list_queue (sku, deleted) VALUES (OLD.sku, true)
        ON CONFLICT (sku) DO UPDATE SET deleted = true;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.embedding IS DISTINCT FROM OLD.embedding OR NEW.fingerprint IS DISTINCT FROM OLD.fingerprint THEN
        INSERT INTO similar_list_queue (sku, deleted) VALUES (NEW.sku, false)
        ON CONFLICT (sku) DO UPDATE SET deleted = false;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER items_similar_lists AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION queue_similar_list();

-- Items already stored get their lists from the worker's first rounds.
INSERT INTO similar_list_queue (sku, deleted) SELECT sku, false FROM items;
