using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Similarity.Models;

/// <summary>
/// The vector index: one HNSW index per model set over its fused vectors (<c>embedding::halfvec(D)</c>, partial to rows of
/// that dimension), named after the set's fingerprint so that the standby set's index, built on the standby column,
/// follows the column when an activation renames it. The live set's index is built in the background after start;
/// until it is valid, /similar answers by exact scan and /health/ready says so (Degraded).
/// </summary>
public sealed partial class CatalogIndex(NpgsqlDataSource dataSource, ModelSets models, IOptions<VectorIndexOptions> options, ILogger<CatalogIndex> logger)
{
    // One instance builds at a time; the others wait, then find it valid. "HNSWIDX" in ASCII.
    const long BuildLockKey = 0x484E5357494458;

    /// <summary>The fingerprints whose index is known valid.</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _valid = new();
    volatile bool _lastBuildFailed;

    public int Dimension => models.Live.Dimension;

    public string Name => NameOf(models.Live.Fingerprint);

    /// <summary>The index of a model set's vectors, wherever they are (live or standby columns).</summary>
    public static string NameOf(string fingerprint) => $"items_hnsw_{fingerprint}";

    /// <summary>The expression both the index and every approximate query order by; they must match exactly.</summary>
    public string Expression => $"(embedding::halfvec({Dimension}))";

    /// <summary>The index's predicate; an approximate query repeats it so the planner may use the index.</summary>
    public string Predicate => $"vector_dims(embedding) = {Dimension}";

    /// <summary>True once the live set's index is built and valid; until then searches scan exactly.</summary>
    public bool IsValid => _valid.ContainsKey(models.Live.Fingerprint);

    enum State { Missing, Invalid, Valid }

    /// <summary>Makes the live set's index valid (see <see cref="EnsureAsync(ModelSet, string, CancellationToken)"/>).</summary>
    public Task EnsureAsync(CancellationToken ct) => EnsureAsync(models.Live, "embedding", ct);

    /// <summary>Makes the standby set's index valid, on the standby columns, before it is called ready.</summary>
    public Task EnsureStandbyAsync(ModelSet set, CancellationToken ct) => EnsureAsync(set, "standby_embedding", ct);

    /// <summary>
    /// Makes a set's index valid: under the build lock, drops one left invalid by an interrupted build (or one from
    /// before the index was partial), then builds it concurrently. A long DDL on a large table: no command timeout.
    /// An index from before indexes were named after their set (<c>items_embedding_hnsw_D</c>) is renamed.
    /// </summary>
    async Task EnsureAsync(ModelSet set, string column, CancellationToken ct)
    {
        var name = NameOf(set.Fingerprint);
        var dimension = set.Dimension;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({BuildLockKey})", ct);
        try
        {
            var state = await StateAsync(connection, name, ct);
            if (state == State.Missing && column == "embedding" && await StateAsync(connection, $"items_embedding_hnsw_{dimension}", ct) == State.Valid)
            {
                await ExecuteAsync(connection, $"ALTER INDEX items_embedding_hnsw_{dimension} RENAME TO {name}", ct);
                state = State.Valid;
            }
            if (state == State.Invalid)
            {
                LogDropping(name);
                await ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS {name}", ct);
            }
            if (state != State.Valid)
            {
                var o = options.Value;
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                await ExecuteAsync(connection, $"""
                    CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON items USING hnsw (({column}::halfvec({dimension})) halfvec_cosine_ops)
                    WITH (m = {o.M}, ef_construction = {o.EfConstruction}) WHERE vector_dims({column}) = {dimension}
                    """, ct);
                LogBuilt(name, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            if (await StateAsync(connection, name, ct) == State.Valid)
                _valid[set.Fingerprint] = true;
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

    static async Task<State> StateAsync(NpgsqlConnection connection, string name, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT indisvalid AND indpred IS NOT NULL FROM pg_index WHERE indexrelid = to_regclass($1)", connection);
        command.Parameters.Add(new() { Value = name });
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
