using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// The list worker: the duty that keeps each item's neighbour list true as the catalog changes. The items table's
/// trigger queues every item whose vectors changed and every deleted one; the worker applies them a round at a time
/// (<see cref="ListRound"/>). A failed round rolls back and its items stay queued; /similar searches the index meanwhile.
/// </summary>
public sealed partial class ListWorker(NpgsqlDataSource dataSource, NeighbourListStore store, CatalogIndex index, ModelSets models, Leadership leadership,
    IOptions<SearchOptions> options, SimilarityMetrics metrics, BulkWriteSignal bulkWrites, ILogger<ListWorker> logger) : BackgroundService
{
    /// <summary>The duty's name for its lease.</summary>
    public const string Duty = "lists";

    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200), RetryInterval = TimeSpan.FromSeconds(2);

    readonly ListProvenance _provenance = new();
    volatile bool _lastRoundFailed;
    volatile bool _stopped;
    long _lastRound;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ListSize == 0)
            return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var worked = 0;
                // One instance of several runs the rounds: the others wait for its lease to come free.
                if (!await leadership.For(Duty).HoldAsync(stoppingToken))
                {
                    await Task.Delay(Leadership.FollowerPause, stoppingToken);
                    continue;
                }
                // Lists come from the index: until it is valid (built after start) a list would cost a scan of the catalog.
                if (!index.IsValid)
                {
                    await Task.Delay(PollInterval, stoppingToken);
                    continue;
                }
                // An import runs: rounds wait for it (at most MaxDeferral at a time) and catch up in bulk after.
                if (bulkWrites.Held && Stopwatch.GetElapsedTime(_lastRound) < BulkWriteSignal.MaxDeferral)
                {
                    await Task.Delay(PollInterval, stoppingToken);
                    continue;
                }
                _lastRound = Stopwatch.GetTimestamp();
                try
                {
                    worked = await RunRoundAsync(stoppingToken);
                    _lastRoundFailed = false;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The round's transaction rolled back: its items stay queued for the next one.
                    _lastRoundFailed = true;
                    LogRoundFailed(ex);
                }
                // After a failure, a longer pause: a database that is down would otherwise fill the log five times a second.
                if (_lastRoundFailed)
                    await Task.Delay(RetryInterval, stoppingToken);
                else if (worked == 0)
                    await Task.Delay(PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the round in flight rolled back, its items stay queued.
        }
        catch (Exception ex)
        {
            _stopped = true;
            LogStopped(ex);
        }
    }

    /// <summary>One round, under the read side of the model switch (a round compares one set's vectors, start to end). Returns how many changes it applied.</summary>
    async Task<int> RunRoundAsync(CancellationToken ct)
    {
        using (await models.ReadLockAsync(ct))
        {
            var o = options.Value;
            if (await ListRound.RunAsync(dataSource, store, _provenance, models.Live.Fingerprint, o.ListSize, o.EfSearch, ct) is not { } result)
                return 0;
            var committed = DateTime.UtcNow;
            if (result.Computed > 0)
                metrics.ListsComputed.Add(result.Computed, new KeyValuePair<string, object?>("path", result.Bulk ? "bulk" : "item"));
            foreach (var change in result.Applied)
                metrics.ListFreshness.Record(Math.Max(0, (committed - change.QueuedAt.ToUniversalTime()).TotalSeconds));
            return result.Applied.Count;
        }
    }

    /// <summary>/health/ready: Degraded while rounds fail (the lists lag; /similar searches the index), Unhealthy when the loop stopped.</summary>
    public sealed class HealthCheck(ListWorker worker) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(worker._stopped ? HealthCheckResult.Unhealthy("The neighbour-list worker stopped; see the log.")
                : worker._lastRoundFailed ? HealthCheckResult.Degraded("The last neighbour-list round failed; /similar answers by search until one succeeds.")
                : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A neighbour-list round failed; its items stay queued")]
    partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The neighbour-list worker stopped")]
    partial void LogStopped(Exception exception);
}
