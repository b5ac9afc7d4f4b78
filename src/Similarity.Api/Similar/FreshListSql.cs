namespace Similarity.Similar;

/// <summary>
/// The precomputed answer's one statement: the query item's stored neighbour list merged with the recent changes (the
/// rows of <c>similar_list_queue</c>, which the worker has not folded into the lists yet), under the page's filters,
/// rules and blend. Invariant it relies on: in one snapshot, every change of an item's vectors is either folded into
/// every list or still queued (the trigger queues in the writer's transaction; a round dequeues in the one that writes
/// the lists). Pure, like <see cref="SimilarSql"/>: unit tests hold its text.
/// </summary>
public static class FreshListSql
{
    /// <summary>
    /// The merged page: rows as <see cref="SimilarSql.Search"/>'s (pins with <c>pin_position</c>), each with <c>sure</c>,
    /// how many of the page's rows rank at least the list's last stored score — when that is k or more, no item outside
    /// the list, the queue and the co-engaged candidates can be in the top k (see docs/architecture.md). The candidates
    /// are ranked by what is known without reading their rows (the stored scores, the queued items' cosines now, the
    /// co-engagement), and rows are read in that order until k pass the filters: a page reads about k rows, not the list.
    /// No rows when the list cannot answer: no list of the live set, the query item itself queued, or more than
    /// <paramref name="recentLimit"/> upserted items queued (merging them would cost more than an index search).
    /// </summary>
    public static SqlStatement Search(SearchRequest request, string fingerprint, int recentLimit)
    {
        var p = new SimilarSql.Parameters();
        var live = p.Add("fingerprint", fingerprint);
        var page = p.Add("query_sku", request.QuerySku!);
        var where = SimilarSql.Conditions(request, p, live, index: null, page);
        var blended = request.Criteria.Blend > 0;
        var blend = blended ? p.Add("blend", request.Criteria.Blend) : null;
        var rows = p.Add("rows", request.K);
        var limit = p.Add("recent_limit", recentLimit);
        // Blended: the query item's co-engaged pairs, read once; the most co-engaged from outside the list and the queue
        // are candidates too (by the pair's stored cosine while both rows are unchanged, else scored now), and every
        // candidate's rank adds blend × its pair's score.
        var (co, coEntries, ranked) = blended
            ? ($"\n    co AS (SELECT other_sku, score, content, sku_version, other_version FROM co_engagement WHERE sku = {page}),",
               $"""

                    UNION ALL
                    -- blended: the most co-engaged items from outside both, by the cosine the rebuild stored while neither
                    -- row has changed since (the same row versions), else computed now
                    SELECT items.sku, CASE WHEN c.sku_version = (SELECT version FROM q) AND c.other_version = items.xmin AND c.content IS NOT NULL
                                           THEN c.content ELSE 1 - (items.embedding <=> (SELECT e FROM q)) END
                    FROM (SELECT * FROM co ORDER BY score DESC, other_sku LIMIT {p.Add("co_candidates", request.K)}) c JOIN items ON items.sku = c.other_sku
                    WHERE EXISTS (SELECT 1 FROM list) AND items.fingerprint = {live}
                      AND c.other_sku NOT IN (SELECT unnest(neighbours) FROM list) AND c.other_sku NOT IN (SELECT sku FROM similar_list_queue)
                """,
               $"SELECT e.sku, {blend} * coalesce(co.score, 0) AS co_weight, e.content + {blend} * coalesce(co.score, 0) AS rank FROM entries e LEFT JOIN co ON co.other_sku = e.sku")
            : ("", "", "SELECT e.sku, e.content AS rank FROM entries e");
        var scored = SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t", blended ? "page.co_weight" : null);
        var pins = $"""
            (SELECT {(blended ? SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t", BlendSql.CoEngaged(page, "items", blend!)) : scored)}, pins.position AS pin_position, NULL::bigint AS sure
             FROM ({SimilarSql.RulesOf(page, "pin")}) pins JOIN items ON items.sku = pins.other, q
             WHERE {where})
            """;
        return p.Statement($"""
            WITH q AS (SELECT embedding AS e, image_embedding AS i, text_embedding AS t, xmin AS version FROM items WHERE sku = {page} AND fingerprint = {live}),
            list AS (
                SELECT s.neighbours, s.scores FROM similar_lists s
                WHERE s.sku = {page} AND s.fingerprint = {live}
                  -- the query item's own vectors changed: its list is stale, the index search answers
                  AND NOT EXISTS (SELECT 1 FROM similar_list_queue WHERE sku = {page})
                  -- more changes than an answer should score: the index search answers until the worker folds them in
                  AND (SELECT count(*) FROM (SELECT 1 FROM similar_list_queue WHERE NOT deleted LIMIT {limit} + 1) r) <= {limit}),{co}
            entries AS (
                -- listed and unchanged since: the stored score is the score now
                SELECT n.listed AS sku, n.score::float8 AS content
                FROM list CROSS JOIN LATERAL unnest(list.neighbours, list.scores) AS n(listed, score)
                WHERE n.listed NOT IN (SELECT sku FROM similar_list_queue)
                UNION ALL
                -- changed or new since the lists were folded: scored exactly now (deleted ones are gone from items)
                SELECT items.sku, 1 - (items.embedding <=> (SELECT e FROM q))
                FROM items
                WHERE items.sku IN (SELECT sku FROM similar_list_queue WHERE NOT deleted) AND EXISTS (SELECT 1 FROM list) AND items.fingerprint = {live}{coEntries}),
            ranked AS ({ranked}),
            page AS (
                -- in rank order, each candidate's row is read and filtered until k pass (a nested loop under the LIMIT)
                SELECT items.*{(blended ? ", r.co_weight" : "")}, r.rank AS listed_rank
                FROM (SELECT * FROM ranked ORDER BY rank DESC, sku) r
                CROSS JOIN LATERAL (SELECT * FROM items WHERE items.sku = r.sku AND {where}) items
                ORDER BY r.rank DESC, r.sku
                LIMIT {rows})
            (SELECT {scored}, NULL::integer AS pin_position,
                    (SELECT count(*) FROM page WHERE listed_rank >= (SELECT scores[cardinality(scores)] FROM list)) AS sure
             FROM page, q
             ORDER BY rank DESC, sku)
            UNION ALL
            {pins}
            """);
    }
}
