using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Catalog;
using Similarity.Encoders;

namespace Similarity.Similar;

public sealed record SimilarResult(string Sku, string Title, string? Category, decimal? Price, double Score, double? ImageScore, double? TextScore, double? WeightedScore);

/// <summary>The stored vectors of one item, and the catalog revision read in the same round trip.</summary>
public sealed record QueryItem(long Revision, float[]? Fused, float[]? Image, float[]? Text);

/// <summary>
/// Top-k by cosine in pgvector. The HNSW index (halfvec) yields candidates under the filters, with pgvector's
/// iterative scan so a selective filter keeps scanning instead of coming back short; candidates are re-ranked
/// by exact float32 cosine (or by the caller's image/text weights). When the index finds fewer than k, the same
/// query runs as an exact scan, so k results come back whenever k matching items exist.
/// </summary>
public sealed class SimilarSearch(NpgsqlDataSource dataSource, CatalogIndex index, EmbeddingPipeline pipeline, IOptions<SearchOptions> options)
{
    public async Task<QueryItem> GetQueryItemAsync(string sku, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new("SELECT revision FROM catalog_state"));
        var item = new NpgsqlBatchCommand("SELECT embedding, image_embedding, text_embedding FROM items WHERE sku = $1");
        item.Parameters.Add(new() { Value = sku });
        batch.BatchCommands.Add(item);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var revision = reader.GetInt64(0);
        await reader.NextResultAsync(ct);
        if (!await reader.ReadAsync(ct))
            return new QueryItem(revision, null, null, null);
        return new QueryItem(revision, reader.GetFieldValue<Vector>(0).ToArray(),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<Vector>(1).ToArray(),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<Vector>(2).ToArray());
    }

    public async Task<IReadOnlyList<SimilarResult>> SearchAsync(SearchRequest request, CancellationToken ct)
    {
        var o = options.Value;
        var candidates = request.K * (request.Weighted ? o.WeightedCandidatesPerResult : o.CandidatesPerResult);
        var approximate = await RunAsync(request, candidates, exact: false, ct);
        var results = approximate.Count < request.K ? await RunAsync(request, candidates, exact: true, ct) : approximate;
        return [.. results.Where(r => request.MinScore is not { } min || (r.WeightedScore ?? r.Score) >= min).Take(request.K)];
    }

    async Task<List<SimilarResult>> RunAsync(SearchRequest request, int candidates, bool exact, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        if (!exact)
        {
            // The search breadth is never below the candidates wanted (and so never below k).
            var settings = new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', $1, false), set_config('hnsw.iterative_scan', 'relaxed_order', false)");
            settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, candidates).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            batch.BatchCommands.Add(settings);
        }
        var command = new NpgsqlBatchCommand();
        var sql = new StringBuilder();
        var p = command.Parameters;
        p.Add(new() { Value = new Vector(request.Fused) });                    // $1
        p.Add(CatalogStore.VectorParameter(request.Image));                  // $2
        p.Add(CatalogStore.VectorParameter(request.Text));                   // $3
        p.Add(new() { Value = pipeline.Fingerprint });                       // $4
        p.Add(new() { Value = request.Filter.Exclude, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }); // $5
        p.Add(new() { Value = candidates });                                 // $6
        p.Add(new() { Value = request.ImageWeight ?? 0d });                  // $7
        p.Add(new() { Value = request.TextWeight ?? 0d });                   // $8
        var where = new StringBuilder("fingerprint = $4 AND sku <> ALL($5)");
        void Filter(string condition, object value)
        {
            p.Add(new() { Value = value });
            where.Append(" AND ").Append(condition.Replace("?", "$" + p.Count, StringComparison.Ordinal));
        }
        if (request.Filter.Category is { } category) Filter("category = ?", category);
        if (request.Filter.Brand is { } brand) Filter("brand = ?", brand);
        if (request.Filter.PriceMin is { } priceMin) Filter("price >= ?", priceMin);
        if (request.Filter.PriceMax is { } priceMax) Filter("price <= ?", priceMax);
        if (request.Filter.Available is { } available) Filter("available = ?", available);

        // The approximate path orders by the index's own expression; the exact one by float32 distance, which no index serves.
        var order = exact ? "embedding <=> $1" : $"{index.Expression} <=> $1::halfvec({index.Dimension})";
        var rank = request.Weighted ? "$7 * coalesce(image_score, 0) + $8 * coalesce(text_score, 0)" : "score";
        sql.Append($"""
            SELECT sku, title, category, price, score, image_score, text_score, {rank} AS rank
            FROM (
                SELECT sku, title, category, price,
                       1 - (embedding <=> $1) AS score,
                       CASE WHEN $2::vector IS NULL OR image_embedding IS NULL THEN NULL ELSE 1 - (image_embedding <=> $2::vector) END AS image_score,
                       CASE WHEN $3::vector IS NULL OR text_embedding IS NULL THEN NULL ELSE 1 - (text_embedding <=> $3::vector) END AS text_score
                FROM (SELECT * FROM items WHERE {where} ORDER BY {order} LIMIT $6) candidates
            ) scored
            ORDER BY rank DESC, sku
            """);
        command.CommandText = sql.ToString();
        batch.BatchCommands.Add(command);

        await using var reader = await batch.ExecuteReaderAsync(ct);
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
        return results;
    }
}
