using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Catalog;
using Similarity.Database;
using Similarity.Encoders;

namespace Similarity.Similar;

public sealed record SimilarResult(string Sku, string Title, string? Category, decimal? Price, double Score, double? ImageScore, double? TextScore, double? WeightedScore);

/// <summary>
/// The catalog revision, whether the query item exists, and whether its vectors are from the live model set
/// (<see cref="Current"/>): read in one round trip.
/// </summary>
public sealed record QueryItem(long Revision, bool Exists, bool Current);

/// <summary>
/// Top-k by cosine in pgvector. The HNSW index (halfvec) yields candidates under the filters, with pgvector's
/// iterative scan so a selective filter keeps scanning instead of coming back short; candidates are re-ranked
/// by exact float32 cosine (or by the caller's image/text weights). When the index finds fewer than k, or is
/// not valid yet (being built), the same query runs as an exact scan, so k results come back whenever k
/// matching items exist. Only vectors of the live model set are compared: candidates and the query item alike.
/// Every read runs once more on a broken pooled connection (a database restart).
/// </summary>
public sealed class SimilarSearch([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource, CatalogIndex index, EmbeddingPipeline pipeline, IOptions<SearchOptions> options)
{
    const string QueryItemSql = "SELECT revision, (SELECT fingerprint FROM items WHERE sku = $1) FROM catalog_state";

    public Task<QueryItem> GetQueryItemAsync(string sku, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand(QueryItemSql);
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return ReadQueryItem(reader);
    }, ct);

    QueryItem ReadQueryItem(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), !reader.IsDBNull(1), !reader.IsDBNull(1) && reader.GetString(1) == pipeline.Fingerprint);

    public async Task<IReadOnlyList<SimilarResult>> SearchAsync(SearchRequest request, CancellationToken ct) =>
        (await SearchAsync(request, withQueryItem: false, ct)).Results;

    /// <summary>
    /// The search, and with <paramref name="withQueryItem"/> the revision and the query item's state, in one
    /// round trip: the storefront's unconditional /similar costs the database one visit. No results when the
    /// query item is missing or from another model set.
    /// </summary>
    public async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results)> SearchAsync(SearchRequest request, bool withQueryItem, CancellationToken ct)
    {
        var o = options.Value;
        var candidates = request.K * (request.Weighted ? o.WeightedCandidatesPerResult : o.CandidatesPerResult);
        var exact = !index.IsValid;
        var (item, found) = await dataSource.ReadWithRetryAsync(ct => RunAsync(request, candidates, exact, withQueryItem, ct), ct);
        if (item is { Exists: false } or { Current: false })
            return (item, []);
        var results = found.Count < request.K && !exact
            ? (await dataSource.ReadWithRetryAsync(ct => RunAsync(request, candidates, exact: true, withQueryItem: false, ct), ct)).Results
            : found;
        // Rows come sorted by the ranking score, so cutting at minScore keeps the best ones.
        return (item, [.. results.Where(r => request.Criteria.MinScore is not { } min || (r.WeightedScore ?? r.Score) >= min)]);
    }

    async Task<(QueryItem? Item, List<SimilarResult> Results)> RunAsync(SearchRequest request, int candidates, bool exact, bool withQueryItem, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        if (withQueryItem)
        {
            var state = new NpgsqlBatchCommand(QueryItemSql);
            state.Parameters.Add(new() { Value = request.QuerySku });
            batch.BatchCommands.Add(state);
        }
        if (!exact)
        {
            // The search breadth is never below the candidates wanted (and so never below k). The settings are
            // local to the batch's implicit transaction, so the connection goes back to the pool as it came.
            var settings = new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)");
            settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, candidates).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            batch.BatchCommands.Add(settings);
        }
        var command = new NpgsqlBatchCommand();
        var p = command.Parameters;
        p.Add(new() { Value = pipeline.Fingerprint });                       // $1
        p.Add(new() { Value = request.Filter.Exclude, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }); // $2
        p.Add(new() { Value = candidates });                                 // $3
        p.Add(new() { Value = request.Criteria.ImageWeight ?? 0d });         // $4
        p.Add(new() { Value = request.Criteria.TextWeight ?? 0d });          // $5
        p.Add(new() { Value = request.K });                                  // $6
        string query;
        if (request.QuerySku is { } sku)
        {
            p.Add(new() { Value = sku });                                    // $7
            // Only a query item of the live model set: another set's vectors are of another space (or dimension).
            query = "SELECT embedding AS e, image_embedding AS i, text_embedding AS t FROM items WHERE sku = $7 AND fingerprint = $1";
        }
        else
        {
            p.Add(new() { Value = new Vector(request.Fused!) });             // $7
            p.Add(CatalogStore.VectorParameter(request.Image));              // $8
            p.Add(CatalogStore.VectorParameter(request.Text));               // $9
            query = "SELECT $7::vector AS e, $8::vector AS i, $9::vector AS t";
        }
        var where = new StringBuilder("fingerprint = $1 AND sku <> ALL($2)");
        if (!exact)
            where.Append(" AND ").Append(index.Predicate);
        void Filter(string condition, object value)
        {
            p.Add(new() { Value = value });
            where.Append(" AND ").Append(condition.Replace("?", "$" + p.Count, StringComparison.Ordinal));
        }
        // Case-insensitive, as a shop means them ("Mugs" is "mugs"); the indexes are on lower(…) to match.
        if (request.Filter.Category is { } category) Filter("lower(category) = lower(?)", category);
        if (request.Filter.Brand is { } brand) Filter("lower(brand) = lower(?)", brand);
        if (request.Filter.PriceMin is { } priceMin) Filter("price >= ?", priceMin);
        if (request.Filter.PriceMax is { } priceMax) Filter("price <= ?", priceMax);
        if (request.Filter.Available is { } available) Filter("available = ?", available);

        // The approximate path orders by the index's own expression against a value computed once (an InitPlan),
        // which the HNSW index can serve; the exact path by float32 distance, which no index serves.
        var order = exact ? "embedding <=> (SELECT e FROM q)" : $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})";
        var rank = request.Weighted ? "$4 * coalesce(image_score, 0) + $5 * coalesce(text_score, 0)" : "score";
        // pgvector's operators are strict: a missing modality on either side gives a NULL score.
        var sql = $"""
            WITH q AS ({query})
            SELECT sku, title, category, price, score, image_score, text_score, {rank} AS rank
            FROM (
                SELECT sku, title, category, price,
                       1 - (embedding <=> q.e) AS score,
                       1 - (image_embedding <=> q.i) AS image_score,
                       1 - (text_embedding <=> q.t) AS text_score
                FROM (SELECT * FROM items WHERE {where} ORDER BY {order} LIMIT $3) candidates, q
            ) scored
            ORDER BY rank DESC, sku
            LIMIT $6
            """;
        command.CommandText = sql;
        batch.BatchCommands.Add(command);

        await using var reader = await batch.ExecuteReaderAsync(ct);
        QueryItem? item = null;
        if (withQueryItem)
        {
            await reader.ReadAsync(ct);
            item = ReadQueryItem(reader);
            await reader.NextResultAsync(ct);
        }
        if (!exact)
            await reader.NextResultAsync(ct);
        var results = new List<SimilarResult>();
        while (await reader.ReadAsync(ct))
        {
            results.Add(new SimilarResult(
                reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetDecimal(3), reader.GetDouble(4),
                reader.IsDBNull(5) ? null : reader.GetDouble(5), reader.IsDBNull(6) ? null : reader.GetDouble(6),
                request.Weighted ? reader.GetDouble(7) : null));
        }
        return (item, results);
    }
}
