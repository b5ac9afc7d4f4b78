-- The lexical index: each item's words as a weighted tsvector (title A; brand and category B; description C; attribute
-- values D) with a GIN index, and the catalog's vocabulary for typo correction. Both are kept in step by triggers, so
-- every write path (PUT, PATCH, imports' COPY and upserts, a model switch) keeps them current without knowing of them.
--
-- A trigger rather than a generated column: the text-search configuration is a setting (Similarity:Search:TextSearchConfig),
-- so the expression is not a constant, and unaccent is only STABLE. A generated column would need an IMMUTABLE wrapper
-- that lies about unaccent's dictionary and a table rewrite with a new expression whenever the setting changes
-- (ALTER COLUMN ... SET EXPRESSION exists only from PostgreSQL 17). The trigger reads the configuration from
-- lexical_state, which the service writes at start, re-indexing the catalog when it changed.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE TABLE lexical_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    config    text NOT NULL    -- a text-search configuration's name; text, not regconfig, so pg_upgrade keeps the table
);
INSERT INTO lexical_state (config) VALUES ('simple');

-- Attribute values as one text (keys are not words a shopper types).
CREATE FUNCTION lexical_attribute_text(attributes jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(value, ' '), '') FROM jsonb_each_text(CASE WHEN jsonb_typeof(attributes) = 'object' THEN attributes ELSE '{}' END)
$$;

-- A category path's words: "signs_and_symbols/flags/europe" would otherwise be read as one file-path token.
CREATE FUNCTION lexical_path_words(category text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(category, '/_', '  ')
$$;

CREATE FUNCTION lexical_document(config regconfig, title text, brand text, category text, description text, attributes jsonb)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector(config, public.unaccent(coalesce(title, ''))), 'A')
        || setweight(to_tsvector(config, public.unaccent(concat_ws(' ', brand, lexical_path_words(category)))), 'B')
        || setweight(to_tsvector(config, public.unaccent(coalesce(description, ''))), 'C')
        || setweight(to_tsvector(config, public.unaccent(lexical_attribute_text(attributes))), 'D')
$$;

-- The words of an item as a shopper types them: lower case, without accents, unstemmed (the vocabulary corrects
-- a query's words before the configuration stems them).
CREATE FUNCTION lexical_words_of(title text, brand text, category text, description text, attributes jsonb)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT tsvector_to_array(to_tsvector('simple', public.unaccent(concat_ws(' ', title, brand, lexical_path_words(category), description, lexical_attribute_text(attributes)))))
$$;

-- The default is for copies of the table's shape (imports' staging table, LIKE items): the trigger fills the real rows.
ALTER TABLE items ADD COLUMN lexical tsvector NOT NULL DEFAULT ''::tsvector;
UPDATE items SET lexical = lexical_document('simple', title, brand, category, description, attributes);
CREATE INDEX items_lexical ON items USING gin (lexical);

CREATE FUNCTION items_lexical() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.lexical := lexical_document((SELECT config FROM lexical_state)::regconfig,
        NEW.title, NEW.brand, NEW.category, NEW.description, NEW.attributes);
    RETURN NEW;
END
$$;
CREATE TRIGGER items_lexical BEFORE INSERT OR UPDATE OF title, brand, category, description, attributes ON items
    FOR EACH ROW EXECUTE FUNCTION items_lexical();

-- The vocabulary: every word of the catalog and how many items hold it (the more common of two equally near
-- corrections wins). Trigram-indexed for the typo search.
CREATE TABLE lexical_words (
    word  text PRIMARY KEY,
    items integer NOT NULL
);
CREATE INDEX lexical_words_trigrams ON lexical_words USING gin (word gin_trgm_ops);
INSERT INTO lexical_words (word, items)
SELECT word, count(*) FROM items, unnest(lexical_words_of(title, brand, category, description, attributes)) word GROUP BY word;

-- Statement-level, over the transition tables: one upsert per statement, in word order, so two writers touching the
-- same words lock them in the same order and never deadlock.
CREATE FUNCTION lexical_words_apply(words text[], deltas integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    gone text[];
BEGIN
    WITH up AS (
        INSERT INTO lexical_words AS v (word, items)
        SELECT word, sum(delta) FROM unnest(words, deltas) d(word, delta) GROUP BY word HAVING sum(delta) <> 0 ORDER BY word
        ON CONFLICT (word) DO UPDATE SET items = v.items + EXCLUDED.items
        RETURNING word, items)
    SELECT array_agg(word) FILTER (WHERE items <= 0) INTO gone FROM up;
    IF gone IS NOT NULL THEN
        DELETE FROM lexical_words WHERE word = ANY(gone);
    END IF;
END
$$;

CREATE FUNCTION lexical_words_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END
$$;

CREATE TRIGGER items_words_insert AFTER INSERT ON items REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION lexical_words_count();
CREATE TRIGGER items_words_update AFTER UPDATE ON items REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION lexical_words_count();
CREATE TRIGGER items_words_delete AFTER DELETE ON items REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION lexical_words_count();
