using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Encoders;

namespace Similarity.Catalog;

/// <summary>
/// The HNSW index over the fused vectors of the current model set's dimension: an expression index on
/// <c>embedding::halfvec(D)</c> (half the size of a float32 index; results are re-ranked by exact float32
/// cosine, see docs/benchmarks.md for the recall this gives), partial to rows of that dimension so that rows
/// a model set of another dimension wrote never reach the cast. Built after start by <see cref="Builder"/>
/// with CREATE INDEX CONCURRENTLY: neither the start, nor writes, nor readiness wait for it. Until it is
/// valid, /similar answers by exact scan and /health/ready says so (Degraded).
/// </summary>
public sealed partial class CatalogIndex(NpgsqlDataSource dataSource, EmbeddingPipeline pipeline, IOptions<SearchOptions> options, ILogger<CatalogIndex> logger)
{
    // One instance builds at a time; the others wait, then find it valid. "HNSWIDX" in ASCII.
    const long BuildLockKey = 0x484E5357494458;

    volatile bool _valid;
    volatile bool _lastBuildFailed;

    public int Dimension => pipeline.Fusion.Dimension;

    public string Name => $"items_embedding_hnsw_{Dimension}";

    /// <summary>The expression both the index and every approximate query order by; they must match exactly.</summary>
    public string Expression => $"(embedding::halfvec({Dimension}))";

    /// <summary>The index's predicate; an approximate query repeats it so the planner may use the index.</summary>
    public string Predicate => $"vector_dims(embedding) = {Dimension}";

    /// <summary>True once the index is built and valid; until then searches scan exactly.</summary>
    public bool IsValid => _valid;

    enum State { Missing, Invalid, Valid }

    /// <summary>
    /// Makes the index valid: under the build lock, drops one left invalid by an interrupted build (or one from
    /// before the index was partial), then builds it concurrently. A long DDL on a large table: no command timeout.
    /// </summary>
    public async Task EnsureAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({BuildLockKey})", ct);
        try
        {
            var state = await StateAsync(connection, ct);
            if (state == State.Invalid)
            {
                LogDropping(Name);
                await ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS {Name}", ct);
            }
            if (state != State.Valid)
            {
                var o = options.Value;
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                await ExecuteAsync(connection, $"""
                    CREATE INDEX CONCURRENTLY IF NOT EXISTS {Name} ON items USING hnsw ({Expression} halfvec_cosine_ops)
                    WITH (m = {o.M}, ef_construction = {o.EfConstruction}) WHERE {Predicate}
                    """, ct);
                LogBuilt(Name, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            _valid = await StateAsync(connection, ct) == State.Valid;
            _lastBuildFailed = false;
        }
        finally
        {
            try
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({BuildLockKey})", CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // A broken connection took the lock with it.
            }
        }
    }

    async Task<State> StateAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT indisvalid AND indpred IS NOT NULL FROM pg_index WHERE indexrelid = to_regclass($1)", connection);
        command.Parameters.Add(new() { Value = Name });
        return await command.ExecuteScalarAsync(ct) switch
        {
            null => State.Missing,
            true => State.Valid,
            _ => State.Invalid,
        };
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Vector index {Name} valid (built in {Milliseconds:F0} ms)")]
    partial void LogBuilt(string name, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vector index {Name} was left invalid (an interrupted build): dropping it to build it again")]
    partial void LogDropping(string name);

    /// <summary>Builds the index after start, and again after a failure, with a growing pause; never ends the host.</summary>
    internal sealed partial class Builder(CatalogIndex index, ILogger<Builder> logger) : BackgroundService
    {
        static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(5), LongestPause = TimeSpan.FromMinutes(5);

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            for (var pause = FirstPause; ; pause = pause * 2 < LongestPause ? pause * 2 : LongestPause)
            {
                try
                {
                    await index.EnsureAsync(stoppingToken);
                    return;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    index._lastBuildFailed = true;
                    LogBuildFailed(index.Name, pause.TotalSeconds, ex);
                }
                try
                {
                    await Task.Delay(pause, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        [LoggerMessage(Level = LogLevel.Error, Message = "Building vector index {Name} failed; trying again in {Seconds} s")]
        partial void LogBuildFailed(string name, double seconds, Exception exception);
    }

    /// <summary>Degraded (still 200) while the index is not valid: the service answers, by exact scan.</summary>
    internal sealed class HealthCheck(CatalogIndex index) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(index.IsValid
                ? HealthCheckResult.Healthy($"The vector index {index.Name} is valid.")
                : HealthCheckResult.Degraded(index._lastBuildFailed
                    ? $"Building the vector index {index.Name} failed (logged) and is retried; /similar answers by exact scan meanwhile."
                    : $"The vector index {index.Name} is being built; /similar answers by exact scan until it is valid."));
    }
}
