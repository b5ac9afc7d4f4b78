namespace Similarity.Similar;

/// <summary>
/// The blend's SQL: an item's page ranked by content cosine plus blend × co-engagement. The candidates are the content
/// search's ∪ the query item's most co-engaged items, all under the page's filters, so an item with no events ranks by
/// content alone and a co-engaged item far in content space can still enter. Pure text, like <see cref="SimilarSql"/>.
/// </summary>
static class BlendSql
{
    /// <summary>
    /// The items of the content search <paramref name="source"/> and of the query item <paramref name="page"/>'s most
    /// co-engaged ones (at most <paramref name="coCandidates"/>), under <paramref name="where"/>.
    /// </summary>
    public static string Candidates(string source, string page, string where, string coCandidates) => $"""
        SELECT * FROM items WHERE sku IN (
            SELECT sku FROM ({source}) content
            UNION
            (SELECT other_sku FROM co_engagement WHERE sku = {page} ORDER BY score DESC, other_sku LIMIT {coCandidates}))
          AND {where}
        """;

    /// <summary>
    /// What changes when the co-engagement does, for the answers' ETag: the last rebuild that kept pairs (in ms), 0 while
    /// none has, so a catalog without events keeps its ETags across rebuilds.
    /// </summary>
    public const string Generation =
        "(SELECT coalesce(max((extract(epoch FROM rebuilt_at) * 1000)::bigint), 0) FROM feedback_rebuilds WHERE name = 'coEngagement' AND rows_written > 0)";

    /// <summary>The co-engagement part of the score of the row <paramref name="row"/> on <paramref name="page"/>'s page (0 without events).</summary>
    public static string CoEngaged(string page, string row, string blend) =>
        $"{blend} * coalesce((SELECT ce.score FROM co_engagement ce WHERE ce.sku = {page} AND ce.other_sku = {row}.sku), 0)";
}
