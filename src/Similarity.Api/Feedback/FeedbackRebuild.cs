using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>What one rebuild did: <see cref="Ran"/> false when another instance held the rebuild's lock (nothing written).</summary>
public sealed record RebuildResult(bool Ran, int Pairs, int Positions, DateTimeOffset RebuiltAt);

/// <summary>
/// The feedback rebuild: the duty that relearns the position propensities and then the co-engagement (which weighs
/// events by those propensities) from the raw events, every <see cref="FeedbackOptions.RebuildPeriod"/>, and on demand
/// (<c>POST /feedback/rebuild</c>). Each rebuild is one transaction under a PostgreSQL advisory lock: readers see the
/// old tables whole until it commits, and across instances one rebuilds while the others skip. A deletion or a bot
/// flag reaches the aggregates at the next rebuild by construction. A failed rebuild rolls back and the loop goes on.
/// </summary>
public sealed partial class FeedbackRebuild(NpgsqlDataSource dataSource, Leadership leadership, IOptions<FeedbackOptions> options, ILogger<FeedbackRebuild> logger)
    : BackgroundService
{
    /// <summary>The duty's name for its lease.</summary>
    public const string Duty = "feedbackRebuild";

    const long LockKey = 0x46454544424B; // "FEEDBK"
    static readonly TimeSpan StatementTimeout = TimeSpan.FromMinutes(10);

    readonly SemaphoreSlim _oneAtATime = new(1, 1);
    volatile Exception? _lastFailure;
    volatile bool _stopped;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.RebuildPeriod);
            do
            {
                try
                {
                    // The periodic rebuild runs on the duty's leader alone (POST /feedback/rebuild on any instance).
                    if (await leadership.For(Duty).HoldAsync(stoppingToken))
                        await RebuildAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Recorded by RebuildAsync for /health/ready; the next period tries again.
                    LogRebuildFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: a rebuild in flight rolled back; the tables keep the last one.
        }
        catch (Exception ex)
        {
            _stopped = true;
            LogStopped(ex);
        }
    }

    /// <summary>One rebuild now, after any in flight in this instance; not run (<see cref="RebuildResult.Ran"/> false) while another instance rebuilds.</summary>
    public async Task<RebuildResult> RebuildAsync(CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            var result = await RunAsync(options.Value, ct);
            _lastFailure = null;
            if (result.Ran)
                LogRebuilt(result.Pairs, result.Positions);
            return result;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _lastFailure = ex;
            throw;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    async Task<RebuildResult> RunAsync(FeedbackOptions o, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await ScalarAsync<bool>(connection, $"SELECT pg_try_advisory_xact_lock({LockKey})", [], ct) is false)
            return new RebuildResult(false, 0, 0, DateTimeOffset.UtcNow);

        var counts = new List<SwapCounts>();
        await using (var command = Command(connection, FeedbackRebuildSql.PropensityCounts, []))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            long Count(string column) => reader.GetInt64(reader.GetOrdinal(column));
            while (await reader.ReadAsync(ct))
                counts.Add(new SwapCounts(reader.GetInt32(reader.GetOrdinal("position")), Count("explored_lists"), Count("explored_clicks_at"),
                    Count("explored_clicks_next"), Count("plain_lists"), Count("plain_clicks_at"), Count("plain_clicks_next")));
        }
        var propensities = o.Propensities == PropensityModel.PowerLaw
            ? PropensityEstimator.FitPowerLaw(counts, 1 / o.MaxPositionWeight) : PropensityEstimator.Estimate(counts, 1 / o.MaxPositionWeight);
        await ExecuteAsync(connection, "DELETE FROM position_propensities", [], ct);
        await ExecuteAsync(connection, FeedbackRebuildSql.ReplacePropensities,
        [
            new("positions", propensities.Select(p => (short)p.Position).ToArray()),
            new("propensities", propensities.Select(p => (float)p.Propensity).ToArray()),
            new("clicks", propensities.Select(p => (int)Math.Min(p.Clicks, int.MaxValue)).ToArray()),
        ], ct);

        await ExecuteAsync(connection, "DELETE FROM co_engagement", [], ct);
        var pairs = await ExecuteAsync(connection, FeedbackRebuildSql.ReplaceCoEngagement(o.Score), FeedbackRebuildSql.CoEngagementParameters(o), ct);
        await ExecuteAsync(connection, FeedbackRebuildSql.Bookkeeping, [new("propensities", propensities.Count), new("co_engagement", pairs)], ct);
        // Fresh statistics with the new rows: planned on an empty table's (the first rebuild with events, until
        // autovacuum's analyze a minute later), a blended /similar took seconds.
        await ExecuteAsync(connection, "ANALYZE co_engagement", [], ct);
        var rebuiltAt = await ScalarAsync<DateTime>(connection, "SELECT now()", [], ct);
        await transaction.CommitAsync(ct);
        return new RebuildResult(true, pairs, propensities.Count, new DateTimeOffset(rebuiltAt, TimeSpan.Zero));
    }

    static NpgsqlCommand Command(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = (int)StatementTimeout.TotalSeconds };
        command.Parameters.AddRange(parameters);
        return command;
    }

    static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        await using var command = Command(connection, sql, parameters);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    public override void Dispose()
    {
        _oneAtATime.Dispose();
        base.Dispose();
    }

    /// <summary>/health/ready: Degraded while rebuilds fail (the last good co-engagement still serves), Unhealthy when the loop stopped.</summary>
    public sealed class HealthCheck(FeedbackRebuild rebuild) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(rebuild._stopped ? HealthCheckResult.Unhealthy("The feedback rebuild stopped; see the log.")
                : rebuild._lastFailure is { } failure ? HealthCheckResult.Degraded($"The last feedback rebuild failed ({failure.Message}); /similar blends the last good co-engagement.")
                : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feedback rebuilt: {Pairs} co-engaged pairs, {Positions} position propensities")]
    partial void LogRebuilt(int pairs, int positions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A feedback rebuild failed; the last one's tables stay")]
    partial void LogRebuildFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The feedback rebuild stopped")]
    partial void LogStopped(Exception exception);
}
