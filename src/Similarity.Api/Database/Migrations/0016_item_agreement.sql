-- Each item's agreement between its picture and its words: the cosine of its image and text vectors (both in the
-- fused space, trained to agree), kept by the database on every write. The mismatch listing and the import checks
-- compare every item with its category's median agreement; computed per request, that read both vectors of the whole
-- catalog out of TOAST (2 s at 100 000 items, for every import's checks).
ALTER TABLE items ADD COLUMN agreement double precision GENERATED ALWAYS AS (1 - (image_embedding <=> text_embedding)) STORED;
