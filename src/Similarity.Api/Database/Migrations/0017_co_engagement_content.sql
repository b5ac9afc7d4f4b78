-- Each co-engaged pair's content cosine, computed by the rebuild, with the row versions (xmin) of both items it was
-- computed from. A blended page ranks its co-engaged candidates by it without reading their vectors out of TOAST (0.2 ms
-- of a 1.2 ms statement, by EXPLAIN ANALYZE); it is used only while both rows are still those versions, else the
-- cosine is computed again.
ALTER TABLE co_engagement
    ADD COLUMN content real,          -- 1 - cosine distance of the two items' fused vectors; NULL: of different model sets
    ADD COLUMN sku_version xid,       -- items.xmin of sku when content was computed
    ADD COLUMN other_version xid;     -- items.xmin of other_sku
