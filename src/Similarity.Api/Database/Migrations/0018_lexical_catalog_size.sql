-- The number of items the vocabulary counts its words in, kept by the same statement triggers as the words' own
-- counts: a word's share of the catalog is lexical_words.items / lexical_state.items, read in one index lookup
-- (count(*) over the catalog took milliseconds per search at 100 000 items). A search lets only words held by at most
-- half the catalog choose its lexical candidates (docs/architecture.md, "Hybrid lexical + vector retrieval").
-- Every write already updates catalog_state's one row in its transaction, so this row serialises no writer that was not.
ALTER TABLE lexical_state ADD COLUMN items bigint NOT NULL DEFAULT 0;
UPDATE lexical_state SET items = (SELECT count(*) FROM items);

CREATE OR REPLACE FUNCTION lexical_words_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    words text[];
    deltas integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(w), array_agg(1) INTO words, deltas
        FROM added n, unnest(lexical_words_of(n.title, n.brand, n.category, n.description, n.attributes)) w;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(w), array_agg(-1) INTO words, deltas
        FROM removed o, unnest(lexical_words_of(o.title, o.brand, o.category, o.description, o.attributes)) w;
    ELSE
        -- Only rows whose text changed: a model switch rewrites every row's vectors and none of its words.
        SELECT array_agg(c.w), array_agg(c.d) INTO words, deltas
        FROM removed o JOIN added n USING (sku),
            LATERAL (SELECT w, 1 AS d FROM unnest(lexical_words_of(n.title, n.brand, n.category, n.description, n.attributes)) w
                     UNION ALL
                     SELECT w, -1 FROM unnest(lexical_words_of(o.title, o.brand, o.category, o.description, o.attributes)) w) c
        WHERE (o.title, o.brand, o.category, o.description, o.attributes) IS DISTINCT FROM (n.title, n.brand, n.category, n.description, n.attributes);
    END IF;
    IF words IS NOT NULL THEN
        PERFORM lexical_words_apply(words, deltas);
    END IF;
    -- After the words, in every statement: one lock order for all writers.
    IF TG_OP = 'INSERT' THEN
        UPDATE lexical_state SET items = items + (SELECT count(*) FROM added);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE lexical_state SET items = items - (SELECT count(*) FROM removed);
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row or statement trigger of the three above (the benches empty the catalog so): it empties the
-- vocabulary and the count with it.
CREATE FUNCTION lexical_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lexical_words;
    UPDATE lexical_state SET items = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER items_words_truncate AFTER TRUNCATE ON items FOR EACH STATEMENT EXECUTE FUNCTION lexical_words_truncate();

-- Whether a query word begins some catalog word, in one index probe (LexicalSql.Words): the first word at or after it
-- in byte order. The trigram index cannot serve a LIKE whose pattern is computed per word.
CREATE INDEX lexical_words_prefix ON lexical_words (word text_pattern_ops);
