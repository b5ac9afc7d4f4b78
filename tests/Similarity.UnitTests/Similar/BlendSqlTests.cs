using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>
/// The SQL of a blended page (blend above 0) against the text expected here, as <see cref="SimilarSqlTests"/> holds the
/// content-only statements: the candidates are the content ones ∪ the query item's co-engaged ones under the page's
/// filters, and the co-engagement part is read beside the rank and added to it.
/// </summary>
public sealed class BlendSqlTests
{
    static readonly IndexShape Index = new("(embedding::halfvec(4))", "vector_dims(embedding) = 4", 4);

    static SearchCriteria Criteria(int k, double blend) => new(k, null, new SearchFilter(null, null, null, null, null, []), null, null, Blend: blend);

    [Fact]
    public void A_blended_batch_adds_each_skus_co_engaged_items_inside_its_lateral_join()
    {
        var statement = SimilarSql.BatchSearch(["a-1", "b-2"], Criteria(5, 0.5), new SearchPlan("fp", Index, Candidates: 20, Rows: 5));

        Assert.Equal("""
        WITH q AS (
            SELECT DISTINCT ON (i.sku) u.ord, i.sku AS query_sku, i.embedding AS e, i.image_embedding AS i, i.text_embedding AS t
            FROM unnest(@skus::text[]) WITH ORDINALITY u(sku, ord) JOIN items i ON i.sku = u.sku AND i.fingerprint = @fingerprint
            ORDER BY i.sku, u.ord)
        SELECT q.query_sku, r.* FROM q CROSS JOIN LATERAL (
            SELECT sku, title, category, brand, price, currency, available, image_url, image_sha256 IS NOT NULL AS has_image,
        1 - (embedding <=> q.e) AS score, 1 - (image_embedding <=> q.i) AS image_score, 1 - (text_embedding <=> q.t) AS text_score,
        @blend * coalesce((SELECT ce.score FROM co_engagement ce WHERE ce.sku = q.query_sku AND ce.other_sku = candidates.sku), 0) AS co_engaged,
        (1 - (embedding <=> q.e)) + @blend * coalesce((SELECT ce.score FROM co_engagement ce WHERE ce.sku = q.query_sku AND ce.other_sku = candidates.sku), 0) AS rank
            FROM (SELECT * FROM items WHERE sku IN (
            SELECT sku FROM (SELECT * FROM items WHERE fingerprint = @fingerprint AND sku <> ALL(@exclude) AND vector_dims(embedding) = 4 AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = q.query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = q.query_sku OR (r.both_ways AND r.other_sku = q.query_sku))) blocked) AND sku <> q.query_sku ORDER BY (embedding::halfvec(4)) <=> q.e::halfvec(4) LIMIT @candidates) content
            UNION
            (SELECT other_sku FROM co_engagement WHERE sku = q.query_sku ORDER BY score DESC, other_sku LIMIT @co_candidates))
          AND fingerprint = @fingerprint AND sku <> ALL(@exclude) AND vector_dims(embedding) = 4 AND sku NOT IN (SELECT other FROM (SELECT CASE WHEN r.sku = q.query_sku THEN r.other_sku ELSE r.sku END AS other, r.position
        FROM similar_rules r WHERE r.kind = 'block' AND (r.sku = q.query_sku OR (r.both_ways AND r.other_sku = q.query_sku))) blocked)) candidates
            ORDER BY rank DESC, sku
            LIMIT @rows) r
        ORDER BY q.ord, r.rank DESC, r.sku
        """, statement.Text);
        Assert.Equal(["fingerprint", "exclude", "skus", "candidates", "blend", "co_candidates", "rows"], statement.Parameters.Select(p => p.ParameterName));
    }

    [Fact]
    public void Blend_0_asked_for_overrides_the_default_and_builds_the_content_only_statement()
    {
        static SimilarQuery Query(double? blend) => new(null, null, null, null, null, null, null, null, null, null, Blend: blend);
        var asked = Query(0).Validate(defaultBlend: 0.3).Value!;
        var byDefault = Query(null).Validate(defaultBlend: 0.3).Value!;

        Assert.Equal((0.0, 0.3), (asked.Blend, byDefault.Blend));
        Assert.DoesNotContain("co_engagement", SimilarSql.Search(SearchRequest.ForItem("a-1", asked), new SearchPlan("fp", Index, Candidates: 40, Rows: 10)).Text);
        Assert.True(Query(0.5).Validate(defaultBlend: null).Errors.ContainsKey("blend")); // a route that does not blend
    }
}
