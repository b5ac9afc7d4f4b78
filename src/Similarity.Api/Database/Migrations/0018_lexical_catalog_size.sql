-- The number of items the vocabulary counts its words in, kept by statement triggers beside the words' own counts:
-- a word's share of the catalog is lexical_words.items / lexical_state.items, read in one index lookup (count(*) over
-- the catalog took milliseconds per search at 100 000 items). A search lets only words held by at most half the
-- catalog choose its lexical candidates (docs/architecture.md, "Hybrid lexical + vector retrieval").
-- Every write already updates catalog_state's one row in its transaction, so this row serialises no writer that was
-- not. Triggers of one event fire in name order: items_count_* before items_words_*, the same order for every writer.
ALTER TABLE lexical_state ADD COLUMN items bigint NOT NULL DEFAULT 0;
UPDATE lexical_state SET items = (SELECT count(*) FROM items);

CREATE FUNCTION lexical_items_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE lexical_state SET items = items + (SELECT count(*) FROM added);
    ELSE
        UPDATE lexical_state SET items = items - (SELECT count(*) FROM removed);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER items_count_insert AFTER INSERT ON items REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION lexical_items_count();
CREATE TRIGGER items_count_delete AFTER DELETE ON items REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION lexical_items_count();

-- TRUNCATE fires no row or statement trigger of those (the benches empty the catalog so): it empties the vocabulary
-- and the count with it.
CREATE FUNCTION lexical_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lexical_words;
    UPDATE lexical_state SET items = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER items_words_truncate AFTER TRUNCATE ON items FOR EACH STATEMENT EXECUTE FUNCTION lexical_words_truncate();

-- Whether a query word begins some catalog word, as a range of this index (LexicalSql.Begins). The trigram index
-- cannot serve a LIKE whose pattern is computed per word.
CREATE INDEX lexical_words_prefix ON lexical_words (word text_pattern_ops);
