using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Similarity.Database;

/// <summary>
/// Reads every host's role and WAL position once per <see cref="DatabaseOptions.StandbyCheckPeriod"/> (never per request),
/// keeps <see cref="StandbyRotation"/> current, and drops the reads' pooled connections when a standby leaves it. Also the
/// consistency token's two halves: the primary's position after a write, and the bounded wait for the standbys to replay
/// one. Does nothing with a single host.
/// </summary>
public sealed partial class StandbyWatch(DatabaseHosts hosts, StandbyRotation rotation, IConfiguration configuration,
    IOptions<DatabaseOptions> options, ILogger<StandbyWatch> logger) : BackgroundService
{
    readonly DatabaseOptions _options = options.Value;
    readonly Lazy<(string Host, int Port, NpgsqlDataSource Source)[]> _each = new(() => hosts.Hosts
        .Select(h => (h.Host, h.Port, NpgsqlDataSource.Create(DatabaseHosts.ForHost(DatabaseHosts.ConnectionString(configuration), h.Host, h.Port))))
        .ToArray());
    ReplayLag? _lag;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!hosts.HasStandbys)
            return;
        _lag = new ReplayLag(_options.MaxStandbyLag * 2);
        using var timer = new PeriodicTimer(_options.StandbyCheckPeriod);
        do
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One round: the primary's position first, then each standby's replay position measured against it.</summary>
    internal async Task CheckAsync(CancellationToken ct)
    {
        var observed = await Task.WhenAll(_each.Value.Select(async h => (h.Host, h.Port, State: await TryReadAsync(h.Source, ct))));
        var now = Stopwatch.GetElapsedTime(0);
        foreach (var (_, _, state) in observed)
            if (state is { IsStandby: false } primary)
                _lag!.RecordPrimary(now, primary.Position);
        var left = false;
        foreach (var (host, port, state) in observed)
        {
            if (state is not { } s)
                continue;
            var lag = s.IsStandby ? _lag!.LagOf(s.Position, now) : TimeSpan.Zero;
            if (rotation.Observe(host, port, s.IsStandby, s.Position, lag, _options.MaxStandbyLag))
            {
                left = true;
                LogLeftOut(host, port, lag.TotalSeconds);
            }
        }
        if (left)
            hosts.Reads.Clear();
    }

    async Task<(bool IsStandby, NpgsqlLogSequenceNumber Position)?> TryReadAsync(NpgsqlDataSource source, CancellationToken ct)
    {
        try
        {
            await using var command = source.CreateCommand("""
                SELECT pg_is_in_recovery(),
                       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END
                """);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return (reader.GetBoolean(0), reader.IsDBNull(1) ? default : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
        {
            // A host that is down: Npgsql's own offline marking keeps the reads off it; its last observation stays.
            return null;
        }
    }

    /// <summary>The primary's WAL position now: at or past the commit of every write that has answered.</summary>
    public async Task<NpgsqlLogSequenceNumber> PrimaryPositionAsync(CancellationToken ct)
    {
        await using var command = hosts.Primary.CreateCommand("SELECT pg_current_wal_insert_lsn()");
        return (NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Waits, up to <see cref="DatabaseOptions.ConsistencyWait"/>, until every standby in the rotation has replayed
    /// <paramref name="position"/>. Those still behind then are left out until they have (their pooled connections
    /// dropped), so the read that follows goes to a standby that has it or to the primary. Returns whether all caught up.
    /// </summary>
    public async Task<bool> WaitForReplayAsync(NpgsqlLogSequenceNumber position, CancellationToken ct)
    {
        if (!hosts.HasStandbys)
            return true;
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.ConsistencyWait.TotalSeconds * Stopwatch.Frequency);
        var behind = _each.Value.Where(h => rotation.RoleOf(h.Host, h.Port) != ServedBy.Primary && rotation.Allows(h.Host, h.Port, _options.MaxStandbyLag)).ToList();
        while (true)
        {
            var positions = await Task.WhenAll(behind.Select(h => TryReadAsync(h.Source, ct)));
            behind = behind.Where((_, i) => positions[i] is not { } p || (p.IsStandby && p.Position < position)).ToList();
            if (behind.Count == 0)
                return true;
            if (Stopwatch.GetTimestamp() >= deadline)
                break;
            await Task.Delay(2, ct);
        }
        var left = false;
        foreach (var (host, port, _) in behind)
            left |= rotation.HoldUntil(host, port, position, _options.MaxStandbyLag);
        if (left)
            hosts.Reads.Clear();
        return false;
    }

    /// <summary>
    /// The standbys replay everything the primary has now (see <see cref="WaitForReplayAsync"/>); at once with one host.
    /// A fault is logged and swallowed: the caller goes on, and a standby behind is then only as safe as its lag bound.
    /// </summary>
    public async Task CatchUpWithPrimaryAsync(CancellationToken ct)
    {
        if (!hosts.HasStandbys)
            return;
        try
        {
            await WaitForReplayAsync(await PrimaryPositionAsync(ct), ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
        {
            LogCheckFailed(ex);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_each.IsValueCreated)
            foreach (var (_, _, source) in _each.Value)
                await source.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The standbys' check failed; the reads keep the rotation they had")]
    partial void LogCheckFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standby {Host}:{Port} left out of the reads: {LagSeconds:F1} s behind the primary")]
    partial void LogLeftOut(string host, int port, double lagSeconds);
}
