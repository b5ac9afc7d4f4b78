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
    public void An_items_page_merges_its_list_with_the_queued_changes()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(10)), "fp", recentLimit: 2000);

        Assert.Equal("""
        WITH q AS (SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = @query_sku AND fingerprint = @fingerprint),
        list AS (
            SELECT s.neighbours, s.scores FROM similar_lists s
            WHERE s.sku = @query_sku AND s.fingerprint = @fingerprint
              -- the query item's own vectors changed: its list is stale, the index search answers
              AND NOT EXISTS (SELECT 1 FROM similar_list_queue WHERE sku = @query_sku)
              -- more changes than an answer should score: the index search answers until the worker folds them in
              AND (SELECT count(*) FROM (SELECT 1 FROM similar_list_queue WHERE NOT deleted LIMIT @recent_limit + 1) r) <= @recent_limit),
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
            WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) blocked)),
        sure AS (SELECT count(*) AS n FROM merged WHERE listed_score >= (SELECT scores[cardinality(scores)] FROM list))
        (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        1 - (embedding <=> q.e) AS rank, NULL::integer AS pin_position, (SELECT n FROM sure) AS sure
         FROM (SELECT * FROM merged ORDER BY listed_score DESC, sku LIMIT @rows) candidates, q
         ORDER BY rank DESC, sku
         LIMIT @rows)
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
    public void A_blended_page_ranks_the_merged_rows_and_the_co_engaged_ones_from_outside_them_before_other_cosines()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(5) with { Blend = 3 }), "fp", recentLimit: 10);

        Assert.Contains("top AS (SELECT * FROM merged ORDER BY listed_score DESC, sku LIMIT @rows)", statement.Text, StringComparison.Ordinal);
        Assert.Contains("FROM co_engagement WHERE sku = @query_sku ORDER BY score DESC, other_sku LIMIT @co_candidates", statement.Text, StringComparison.Ordinal);
        Assert.Contains("AND items.sku NOT IN (SELECT sku FROM top)", statement.Text, StringComparison.Ordinal);
        var ranking = statement.Text.IndexOf("ORDER BY c.listed_score + @blend * coalesce(ce.score, 0) DESC, c.sku", StringComparison.Ordinal);
        Assert.True(ranking > 0);
        Assert.StartsWith("LIMIT @rows", statement.Text[ranking..].Split('\n')[1].Trim(), StringComparison.Ordinal);
        // The image and text cosines over the rows kept: the co-engagement read once per row, in the ranking.
        Assert.Contains("candidates.co_weight AS co_engaged", statement.Text, StringComparison.Ordinal);
        Assert.Equal(3d, statement.Parameters.Single(p => p.ParameterName == "blend").Value);
    }

    [Fact]
    public void A_blended_page_ranked_by_weighted_cosines_scores_every_candidate_first()
    {
        var statement = FreshListSql.Search(SearchRequest.ForItem("a-1", Criteria(5) with { Blend = 3, ImageWeight = 1, TextWeight = 0 }), "fp", recentLimit: 10);

        Assert.Contains("SELECT sku FROM (SELECT * FROM merged ORDER BY listed_score DESC, sku LIMIT @rows) content", statement.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("top AS", statement.Text, StringComparison.Ordinal);
        Assert.Contains("FROM co_engagement WHERE sku = @query_sku", statement.Text, StringComparison.Ordinal);
    }
}
