using System.Globalization;
using Npgsql;

namespace Similarity.Similar;

/// <summary>
/// How far an index search looks (<c>hnsw.ef_search</c>, and pgvector's iterative scan so a selective filter keeps
/// scanning instead of coming back short). Local to the transaction it runs in, so a pooled connection goes back as it came.
/// </summary>
public static class SearchBreadth
{
    /// <summary>pgvector's largest <c>hnsw.ef_search</c>: a search wanting more candidates gets the rest from the iterative scan.</summary>
    public const int Max = 1000;

    public const string Sql = "SELECT set_config('hnsw.ef_search', @ef_search, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)";

    /// <summary>The settings as the first command of a batch whose searches look at least <paramref name="breadth"/> far.</summary>
    public static NpgsqlBatchCommand Command(int breadth) =>
        new(Sql) { Parameters = { new("ef_search", Value(breadth)) } };

    /// <summary>The value of <c>hnsw.ef_search</c> for a search that looks <paramref name="breadth"/> far.</summary>
    public static string Value(int breadth) => Math.Min(breadth, Max).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The settings as columns of the row a search reads its query vector from (<paramref name="efSearch"/>: the
    /// parameter): the index scan needs that vector before it starts, so they are set first, in the same statement.
    /// </summary>
    public static string Columns(string efSearch) =>
        $", set_config('hnsw.ef_search', {efSearch}, true) AS ef_search, set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan";
}
