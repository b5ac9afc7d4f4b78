using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Encoders;

namespace Similarity.Catalog;

/// <summary>
/// The HNSW index over the fused vectors, for the current model set's dimension: an expression index on
/// <c>embedding::halfvec(D)</c> (half the size of a float32 index; results are re-ranked by exact float32
/// cosine, see docs/benchmarks.md for the recall this gives). Built at start when missing; on a large table
/// that is a long DDL, so it runs without a command timeout.
/// </summary>
public sealed partial class CatalogIndex(NpgsqlDataSource dataSource, EmbeddingPipeline pipeline, IOptions<SearchOptions> options, ILogger<CatalogIndex> logger)
{
    public int Dimension => pipeline.Fusion.Dimension;

    public string Name => $"items_embedding_hnsw_{Dimension}";

    /// <summary>The expression both the index and every approximate query order by; they must match exactly.</summary>
    public string Expression => $"(embedding::halfvec({Dimension}))";

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        await using var command = dataSource.CreateCommand($"""
            CREATE INDEX IF NOT EXISTS {Name} ON items USING hnsw ({Expression} halfvec_cosine_ops)
            WITH (m = {o.M}, ef_construction = {o.EfConstruction})
            """);
        command.CommandTimeout = 0;
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogEnsured(Name, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Vector index {Name} in place ({Milliseconds:F0} ms)")]
    partial void LogEnsured(string name, double milliseconds);

    internal sealed class AtStartup(CatalogIndex index) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => index.EnsureAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
