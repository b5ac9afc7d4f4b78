using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>
/// The SQL of the precomputed answer (<see cref="FreshListSql"/>) for a plain item page, against the text expected here
/// (a snapshot: a change to the query shows in this file's diff), and the parts of it that each rule of the merge needs.
/// </summary>
public sealed class FreshListSqlTests
{
    static SearchCriteria Criteria(int k) => new(k, null, new SearchFilter(null, null, null, null, null, []), null, null);

    [Fact]
    public void An_items_page_merges_its_list_with_the_queued_changes_and_reads_rows_in_rank_order()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(10)), "fp", recentLimit: 2000);

        Assert.Equal("""
        WITH q AS (SELECT embedding AS e, image_embedding AS i, text_embedding AS t, xmin AS version FROM items WHERE sku = @query_sku AND fingerprint = @fingerprint),
        list AS (
            SELECT s.neighbours, s.scores FROM similar_lists s
            WHERE s.sku = @query_sku AND s.fingerprint = @fingerprint
              -- the query item's own vectors changed: its list is stale, the index search answers
              AND NOT EXISTS (SELECT 1 FROM similar_list_queue WHERE sku = @query_sku)
              -- more changes than an answer should score: the index search answers until the worker folds them in
              AND (SELECT count(*) FROM (SELECT 1 FROM similar_list_queue WHERE NOT deleted LIMIT @recent_limit + 1) r) <= @recent_limit),
        entries AS (
            -- listed and unchanged since: the stored score is the score now
            SELECT n.listed AS sku, n.score::float8 AS content
            FROM list CROSS JOIN LATERAL unnest(list.neighbours, list.scores) AS n(listed, score)
            WHERE n.listed NOT IN (SELECT sku FROM similar_list_queue)
            UNION ALL
            -- changed or new since the lists were folded: scored exactly now (deleted ones are gone from items)
            SELECT items.sku, 1 - (items.embedding <=> (SELECT e FROM q))
            FROM items
            WHERE items.sku IN (SELECT sku FROM similar_list_queue WHERE NOT deleted) AND EXISTS (SELECT 1 FROM list) AND items.fingerprint = @fingerprint),
        ranked AS (SELECT e.sku, e.content AS rank FROM entries e),
        page AS (
            -- in rank order, each candidate's row is read and filtered until k pass (a nested loop under the LIMIT)
            SELECT items.*, r.rank AS listed_rank
            FROM (SELECT * FROM ranked ORDER BY rank DESC, sku) r
            CROSS JOIN LATERAL (SELECT * FROM items WHERE items.sku = r.sku AND fingerprint = @fingerprint AND sku <> ALL(@exclude) AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) blocked)) items
            ORDER BY r.rank DESC, r.sku
            LIMIT @rows)
        (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        1 - (embedding <=> q.e) AS rank, NULL::integer AS pin_position,
                (SELECT count(*) FROM page WHERE listed_rank >= (SELECT scores[cardinality(scores)] FROM list)) AS sure
         FROM page, q
         ORDER BY rank DESC, sku)
        UNION ALL
        (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        1 - (embedding <=> q.e) AS rank, pins.position AS pin_position, NULL::bigint AS sure
         FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'pin' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) pins JOIN items ON items.sku = pins.other, q
         WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) blocked))
        """, statement.Text);
        Assert.Equal(["fingerprint", "query_sku", "exclude", "rows", "recent_limit"], statement.Parameters.Select(p => p.ParameterName));
        Assert.Equal(2000, statement.Parameters.Single(p => p.ParameterName == "recent_limit").Value);
    }

    [Fact]
    public void A_blended_page_adds_the_co_engaged_items_and_ranks_by_what_it_knows_before_reading_rows()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(5) with { Blend = 3 }), "fp", recentLimit: 10);

        // The query item's pairs are read once: the weights of every candidate, and the most co-engaged from outside the
        // list and the queue as candidates of their own.
        Assert.Contains("co AS (SELECT other_sku, score, content, sku_version, other_version FROM co_engagement WHERE sku = @query_sku)", statement.Text, StringComparison.Ordinal);
        Assert.Contains("FROM (SELECT * FROM co ORDER BY score DESC, other_sku LIMIT @co_candidates) c JOIN items ON items.sku = c.other_sku", statement.Text, StringComparison.Ordinal);
        Assert.Contains("c.other_sku NOT IN (SELECT unnest(neighbours) FROM list) AND c.other_sku NOT IN (SELECT sku FROM similar_list_queue)", statement.Text, StringComparison.Ordinal);
        // The rebuild's cosine while both rows are the versions it was computed from; of the live set only, else none.
        Assert.Contains("CASE WHEN c.sku_version = (SELECT version FROM q) AND c.other_version = items.xmin AND c.content IS NOT NULL", statement.Text, StringComparison.Ordinal);
        Assert.Contains("WHERE EXISTS (SELECT 1 FROM list) AND items.fingerprint = @fingerprint", statement.Text, StringComparison.Ordinal);
        Assert.Contains("e.content + @blend * coalesce(co.score, 0) AS rank FROM entries e LEFT JOIN co ON co.other_sku = e.sku", statement.Text, StringComparison.Ordinal);
        // Rows are read in that order until k pass; the image and text cosines only for them.
        Assert.Contains("page.co_weight AS co_engaged", statement.Text, StringComparison.Ordinal);
        Assert.Equal(3d, statement.Parameters.Single(p => p.ParameterName == "blend").Value);
        Assert.Equal(5, statement.Parameters.Single(p => p.ParameterName == "co_candidates").Value);
    }

    [Fact]
    public void A_content_page_reads_no_co_engagement()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(5)), "fp", recentLimit: 10);

        Assert.DoesNotContain("co_engagement", statement.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(statement.Parameters, p => p.ParameterName is "blend" or "co_candidates");
    }
}
