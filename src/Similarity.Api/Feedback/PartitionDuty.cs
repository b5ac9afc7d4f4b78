using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>What one pass of the partition duty did.</summary>
public sealed record PartitionPass(bool Ran, IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, int RowsMoved, int EventIdsPruned);

/// <summary>
/// The partition duty: every <see cref="Period"/> it creates the day partitions of <c>served_lists</c> and <c>events</c>
/// from today to <see cref="FeedbackOptions.PartitionDaysAhead"/> days ahead (and for any day whose rows landed in the
/// default partition, moving them in), drops whole partitions older than <see cref="FeedbackOptions.ServedRetentionDays"/>
/// and <see cref="FeedbackOptions.EventRetentionDays"/>, and prunes the dedupe ids no accepted event can repeat. One
/// transaction a pass, under an advisory lock, so one instance of several does it; a failed pass changes nothing.
/// </summary>
public sealed partial class PartitionDuty(NpgsqlDataSource dataSource, Leadership leadership, IOptionsMonitor<FeedbackOptions> options, TimeProvider clock,
    ILogger<PartitionDuty> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromHours(1), RetryPause = TimeSpan.FromMinutes(1);

    /// <summary>An event older than this is refused, so its id need not be kept for the dedupe (72 h, and a day's margin).</summary>
    static readonly TimeSpan EventIdsKept = EventReading.MaxAge + TimeSpan.FromDays(1);

    /// <summary>The duty's name for its lease.</summary>
    public const string Duty = "feedbackPartitions";

    const long LockKey = 0x5F_FEED_BAC0;

    volatile string? _lastFailure;
    TimeSpan _firstWait = Period;
    volatile bool _stopped;

    /// <summary>
    /// The first pass before the service takes requests: a write routed to the default partition while a pass attaches
    /// its day would have to be written again. A failure is logged and left to the loop.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunOnceAsync(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastFailure = ex.Message;
            _firstWait = RetryPause;
            LogPassFailed(ex);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // The first pass ran at start; the next one waits its turn (a second pass at once would only take the
            // locks again beside the other duties starting up).
            var wait = _firstWait;
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(wait, clock, stoppingToken);
                wait = Period;
                // The hourly pass runs on the duty's leader alone (every instance runs the one at start).
                if (!await leadership.For(Duty).HoldAsync(stoppingToken))
                    continue;
                try
                {
                    var pass = await RunOnceAsync(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), stoppingToken);
                    _lastFailure = null;
                    if (pass.Created.Count + pass.Dropped.Count > 0)
                        LogPass(string.Join(", ", pass.Created), string.Join(", ", pass.Dropped), pass.RowsMoved);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    _lastFailure = ex.Message;
                    LogPassFailed(ex);
                    wait = RetryPause;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: a pass in flight rolled back.
        }
        catch (Exception ex)
        {
            _stopped = true;
            LogStopped(ex);
        }
    }

    /// <summary>One pass as of <paramref name="today"/> (UTC); tests drive it with any date.</summary>
    public async Task<PartitionPass> RunOnceAsync(DateOnly today, CancellationToken ct)
    {
        var o = options.CurrentValue;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var locking = new NpgsqlCommand("SET LOCAL lock_timeout = '10s'; SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
        {
            locking.Parameters.AddWithValue("key", LockKey);
            if (await locking.ExecuteScalarAsync(ct) is not true)
                return new(false, [], [], 0, 0);
        }
        List<string> created = [], dropped = [];
        var moved = 0;
        foreach (var (table, retention) in new[] { (DayPartitions.Served, o.ServedRetentionDays), (DayPartitions.Events, o.EventRetentionDays) })
        {
            var existing = await table.ExistingAsync(connection, transaction, ct);
            // Events are accepted from EventReading.MaxAge ago: their days have partitions too, so a row lands in the
            // default partition only when the duty was down.
            var back = table == DayPartitions.Events ? (int)Math.Ceiling(EventReading.MaxAge.TotalDays) : 0;
            var wanted = Enumerable.Range(-back, back + o.PartitionDaysAhead + 1).Select(today.AddDays)
                .Concat(await table.StrandedAsync(connection, transaction, ct)).Distinct().Order();
            foreach (var day in wanted.Where(day => !existing.Contains(day)))
            {
                moved += await table.CreateAsync(connection, transaction, day, ct);
                created.Add(table.NameOf(day));
                existing.Add(day);
            }
            var oldest = today.AddDays(-retention);
            foreach (var day in existing.Where(day => day < oldest).Order())
            {
                await table.DropAsync(connection, transaction, day, ct);
                dropped.Add(table.NameOf(day));
            }
        }
        int pruned;
        await using (var prune = new NpgsqlCommand("DELETE FROM event_ids WHERE occurred_at < @before", connection, transaction))
        {
            prune.Parameters.AddWithValue("before", today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - EventIdsKept);
            pruned = await prune.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return new(true, created, dropped, moved, pruned);
    }

    /// <summary>/health/ready: Degraded while passes fail (partitions may run out; rows then land in the default one), Unhealthy once stopped.</summary>
    public sealed class HealthCheck(PartitionDuty duty) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(duty._stopped ? HealthCheckResult.Unhealthy("The feedback partition duty stopped; see the log.")
                : duty._lastFailure is { } failure
                    ? HealthCheckResult.Degraded($"The last pass of the feedback partition duty failed ({failure}); it is retried every minute.")
                    : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feedback partitions created: {Created}; dropped: {Dropped}; {Moved} rows moved out of the default partitions")]
    partial void LogPass(string created, string dropped, int moved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A pass of the feedback partition duty failed; it is retried in a minute")]
    partial void LogPassFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The feedback partition duty stopped")]
    partial void LogStopped(Exception exception);
}
