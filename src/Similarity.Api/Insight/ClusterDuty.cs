using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;

namespace Similarity.Insight;

/// <summary>
/// The duty that keeps the clusters current: every <see cref="InsightOptions.ClusterCheckSeconds"/> it looks at how
/// much the catalog changed since the last clustering, and recomputes it whole when that is at least
/// <see cref="InsightOptions.ClusterChangeShare"/> of the clustered items (or there is none yet, or another model set
/// went live). It holds an advisory lock on the primary while it looks and computes, so one instance does it; the
/// others skip the turn. Each turn first sketches the pictures not yet sketched (<see cref="PictureSketches"/>), so the
/// duplicate groups seldom wait for it. A failed turn is logged and reported by its health check, and the next turn tries again.
/// </summary>
public sealed partial class ClusterDuty(NpgsqlDataSource dataSource, ClusterStore store, PictureSketches sketches, Leadership leadership, IOptions<InsightOptions> options,
    ILogger<ClusterDuty> logger)
    : BackgroundService
{
    /// <summary>The duty's name for its lease.</summary>
    public const string Duty = "clusters";

    const long LockKey = 0x494E534947485431;

    volatile string? _fault;
    DateTimeOffset? _lastTurn;

    /// <summary>Reads the duty's real state for /health/ready: degraded while its last turn failed.</summary>
    public sealed class HealthCheck(ClusterDuty duty) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(duty._fault is { } fault
                ? HealthCheckResult.Degraded($"The last clustering turn failed: {fault}")
                : HealthCheckResult.Healthy(duty._lastTurn is { } at ? $"Last turn at {at:O}." : "No turn yet."));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ClusterCheckSeconds));
        do
        {
            try
            {
                // One instance of several looks and clusters: the others wait for its lease to come free.
                if (await leadership.For(Duty).HoldAsync(stoppingToken))
                    await TurnAsync(stoppingToken);
                _fault = null;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _fault = ex.Message;
                LogTurnFailed(ex);
            }
            _lastTurn = DateTimeOffset.UtcNow;
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One look (and, when enough changed, one clustering) under the lock; true when it clustered.</summary>
    public async Task<bool> TurnAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
        {
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
                return false;
        }
        try
        {
            var o = options.Value;
            if (o.DuplicateMinPictureMatch > 0)
                await sketches.RefreshAsync(null, ct);
            var (never, changed, clustered) = await store.ChangesAsync(ct);
            if (!never && changed < Math.Max(1, o.ClusterChangeShare * clustered))
                return false;
            var (fingerprint, items, readAt) = await store.ReadCatalogAsync(ct);
            if (fingerprint is null || items.Count < o.MinClusterItems)
                return false;
            var outcome = Clustering.Run(items, o.ClusterCount);
            await store.WriteAsync(fingerprint, readAt, outcome.Clusters, outcome.Members, outcome.ChosenBy, outcome.Silhouette, outcome.TookMs, ct);
            LogClustered(items.Count, outcome.Clusters.Count, outcome.ChosenBy, outcome.TookMs);
            return true;
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Clustered {Items} items into {Clusters} clusters (k by {ChosenBy}) in {Milliseconds:F0} ms")]
    partial void LogClustered(int items, int clusters, string chosenBy, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "A clustering turn failed; the next turn tries again")]
    partial void LogTurnFailed(Exception exception);
}
