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
    /// how many merged candidates under the filters score at least the list's last stored score — when that is k or
    /// more, no item outside the list and the queue can be in the top k (see docs/architecture.md). No rows when
    /// the list cannot answer: no list of the live set, the query item itself queued, or more than
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
        var top = $"SELECT * FROM merged ORDER BY listed_score DESC, sku LIMIT {rows}";
        // Ranked by the fused cosine, a blended page picks its rows before any other cosine is computed: the merged
        // rows' listed score is their cosine now, so only the co-engaged items from outside them are scored here.
        var preRanked = blended && request.Criteria.ImageWeight is null;
        var (source, coEngaged, topCte) = preRanked
            ? (BlendSql.Ranked(page, where, blend!, p.Add("co_candidates", request.K), rows), "candidates.co_weight", $",\n            top AS ({top})")
            : blended
                ? (BlendSql.Candidates(top, page, where, p.Add("co_candidates", request.K)), BlendSql.CoEngaged(page, "candidates", blend!), "")
                : (top, null, "");
        var scored = SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t", coEngaged);
        var pins = $"""
            (SELECT {(blended ? SimilarSql.Scored(request.Criteria, p, "q.e", "q.i", "q.t", BlendSql.CoEngaged(page, "items", blend!)) : scored)}, pins.position AS pin_position, NULL::bigint AS sure
             FROM ({SimilarSql.RulesOf(page, "pin")}) pins JOIN items ON items.sku = pins.other, q
             WHERE {where})
            """;
        return p.Statement($"""
            WITH q AS (SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = {page} AND fingerprint = {live}),
            list AS (
                SELECT s.neighbours, s.scores FROM similar_lists s
                WHERE s.sku = {page} AND s.fingerprint = {live}
                  -- the query item's own vectors changed: its list is stale, the index search answers
                  AND NOT EXISTS (SELECT 1 FROM similar_list_queue WHERE sku = {page})
                  -- more changes than an answer should score: the index search answers until the worker folds them in
                  AND (SELECT count(*) FROM (SELECT 1 FROM similar_list_queue WHERE NOT deleted LIMIT {limit} + 1) r) <= {limit}),
            merged AS (
                SELECT * FROM (
                    -- listed and unchanged since: the stored score is the score now
                    SELECT items.*, n.score AS listed_score
                    FROM list CROSS JOIN LATERAL unnest(list.neighbours, list.scores) AS n(listed, score) JOIN items ON items.sku = n.listed
                    WHERE n.listed NOT IN (SELECT sku FROM similar_list_queue)
                    UNION ALL
                    -- changed or new since the lists were folded: scored exactly now (deleted ones are gone from items)
                    SELECT items.*, 1 - (items.embedding <=> (SELECT e FROM q)) AS listed_score
                    FROM items
                    WHERE items.sku IN (SELECT sku FROM similar_list_queue WHERE NOT deleted) AND EXISTS (SELECT 1 FROM list)) m
                WHERE {where}),
            sure AS (SELECT count(*) AS n FROM merged WHERE listed_score >= (SELECT scores[cardinality(scores)] FROM list)){topCte}
            (SELECT {scored}, NULL::integer AS pin_position, (SELECT n FROM sure) AS sure
             FROM ({source}) candidates, q
             ORDER BY rank DESC, sku
             LIMIT {rows})
            UNION ALL
            {pins}
            """);
    }
}
