using NpgsqlTypes;
using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>
/// The SQL that <see cref="SimilarSql"/> builds for a few criteria, against the text expected here (a snapshot: a change
/// to a query shows in this file's diff). The index is a 4-dimension one; the fingerprint "fp".
/// </summary>
public sealed class SimilarSqlTests
{
    static readonly IndexShape Index = new("(embedding::halfvec(4))", "vector_dims(embedding) = 4", 4);

    static SearchCriteria Criteria(int k) => new(k, null, new SearchFilter(null, null, null, null, null, []), null, null);

    [Fact]
    public void An_items_page_searches_the_index_outside_its_blocked_items_and_reads_its_pins_in_one_statement_with_its_breadth_and_revision()
    {
        var statement = SimilarSql.Search(SearchRequest.ForItem("a-1", Criteria(10)), new SearchPlan("fp", Index, Candidates: 10, Rows: 10, Breadth: 100), withQueryItem: true);

        Assert.Equal("""
        SELECT state.revision, state.fingerprint, page.* FROM (SELECT revision + (SELECT revision FROM similar_lists_state) + (SELECT coalesce(max((extract(epoch FROM rebuilt_at) * 1000)::bigint), 0) FROM feedback_rebuilds WHERE name = 'coEngagement' AND rows_written > 0) AS revision,
               (SELECT fingerprint FROM items WHERE sku = @query_sku) AS fingerprint
        FROM catalog_state) state LEFT JOIN LATERAL (
        WITH q AS (SELECT embedding AS e, image_embedding AS i, text_embedding AS t, set_config('hnsw.ef_search', @ef_search, true) AS ef_search, set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan FROM items WHERE sku = @query_sku AND fingerprint = @fingerprint)
        (SELECT sku, title, category, brand, price, currency, available, image_url, has_image, score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score, rank, NULL::integer AS pin_position
         FROM (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image, image_embedding, text_embedding, score, score AS rank
               -- OFFSET 0 keeps the subquery whole, so score is one computed column that rank reads, not an expression copied into both
               FROM (SELECT *, 1 - (embedding <=> (SELECT e FROM q)) AS score FROM (SELECT * FROM items WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND vector_dims(embedding) = 4 AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) blocked) ORDER BY (embedding::halfvec(4)) <=> (SELECT e FROM q)::halfvec(4) LIMIT @candidates) source OFFSET 0) candidates, q
               ORDER BY rank DESC, sku
               LIMIT @rows) found, q)
        UNION ALL
        (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        1 - (embedding <=> q.e) AS rank, pins.position AS pin_position
         FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'pin' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) pins JOIN items ON items.sku = pins.other, q
         WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = @query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = @query_sku OR (r.both_ways AND r.other_sku = @query_sku))) blocked))) page ON true
        """, statement.Text);
        Assert.Equal(["fingerprint", "ef_search", "query_sku", "exclude", "rows", "candidates"], statement.Parameters.Select(p => p.ParameterName));
        Assert.Equal("100", statement.Parameters.Single(p => p.ParameterName == "ef_search").Value);
        Assert.Equal(["a-1"], (string[])statement.Parameters.Single(p => p.ParameterName == "exclude").Value!);
        Assert.Equal(NpgsqlDbType.Array | NpgsqlDbType.Text, statement.Parameters.Single(p => p.ParameterName == "exclude").NpgsqlDbType);
    }

    [Fact]
    public void A_re_weighted_search_for_vectors_scans_exactly_when_there_is_no_index()
    {
        var criteria = Criteria(5) with { ImageWeight = 1, TextWeight = 2, Filter = new SearchFilter(null, "acme", null, null, true, ["x-1"]) };

        var statement = SimilarSql.Search(new SearchRequest(null, [1, 0, 0, 0], null, [0, 1, 0, 0], criteria), new SearchPlan("fp", Index: null, Candidates: 50, Rows: 5));

        Assert.Equal("""
        WITH q AS (SELECT @fused::vector AS e, @image::vector AS i, @text::vector AS t)
        (SELECT sku, title, category, brand, price, currency, available, image_url, has_image, score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score, rank, NULL::integer AS pin_position
         FROM (SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image, image_embedding, text_embedding, score, @image_weight * coalesce(1 - (image_embedding <=> q.i), 0) + @text_weight * coalesce(1 - (text_embedding <=> q.t), 0) AS rank
               -- OFFSET 0 keeps the subquery whole, so score is one computed column that rank reads, not an expression copied into both
               FROM (SELECT *, 1 - (embedding <=> (SELECT e FROM q)) AS score FROM (SELECT * FROM items WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND lower(brand) = lower(@brand) AND available = @available ORDER BY embedding <=> (SELECT e FROM q) LIMIT @candidates) source OFFSET 0) candidates, q
               ORDER BY rank DESC, sku
               LIMIT @rows) found, q)
        """, statement.Text);
        Assert.Equal(["fingerprint", "fused", "image", "text", "exclude", "brand", "available", "rows", "candidates", "image_weight", "text_weight"],
            statement.Parameters.Select(p => p.ParameterName));
        Assert.Equal(DBNull.Value, statement.Parameters.Single(p => p.ParameterName == "image").Value); // the missing modality: a typed NULL
    }

    [Fact]
    public void A_batch_searches_each_sku_in_a_lateral_join_and_reads_the_vectors_diversity_compares()
    {
        var criteria = Criteria(2) with { RankingChoice = new RankingOptions(Diversity: 0.5) };

        var statement = SimilarSql.BatchSearch(["a-1", "b-2"], criteria, new SearchPlan("fp", Index, Candidates: 20, Rows: 2));

        Assert.Equal("""
        WITH q AS (
            SELECT DISTINCT ON (i.sku) u.ord, i.sku AS query_sku, i.embedding AS e, i.image_embedding AS i, i.text_embedding AS t
            FROM unnest(@skus::text[]) WITH ORDINALITY u(sku, ord) JOIN items i ON i.sku = u.sku AND i.fingerprint = @fingerprint
            ORDER BY i.sku, u.ord)
        SELECT q.query_sku, r.* FROM q CROSS JOIN LATERAL (
            SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image, embedding AS vector,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        1 - (embedding <=> q.e) AS rank
            FROM (SELECT * FROM items WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND vector_dims(embedding) = 4 AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = q.query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = q.query_sku OR (r.both_ways AND r.other_sku = q.query_sku))) blocked) AND sku <> q.query_sku ORDER BY (embedding::halfvec(4)) <=> q.e::halfvec(4) LIMIT @candidates) candidates
            ORDER BY rank DESC, sku
            LIMIT @rows) r
        ORDER BY q.ord, r.rank DESC, r.sku
        """, statement.Text);
        Assert.Equal(["fingerprint", "exclude", "skus", "candidates", "rows"], statement.Parameters.Select(p => p.ParameterName));
    }
}
