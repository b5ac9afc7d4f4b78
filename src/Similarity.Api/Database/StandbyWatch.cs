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
        var observed = await Task.WhenAll(_each.Value.Select(async h => new HostObservation(h.Host, h.Port, await TryReadAsync(h.Source, ct))));
        var leftOut = Apply(rotation, _lag!, observed, Stopwatch.GetElapsedTime(0), _options.MaxStandbyLag);
        foreach (var (host, port, lag) in leftOut)
            LogLeftOut(host, port, lag.TotalSeconds);
        if (leftOut.Count > 0)
            hosts.Reads.Clear();
    }

    internal sealed record HostObservation(string Host, int Port, (bool IsStandby, NpgsqlLogSequenceNumber Position)? State);

    /// <summary>One round's observations into the lag and the rotation; returns the standbys that left the rotation with it.</summary>
    internal static List<(string Host, int Port, TimeSpan Lag)> Apply(StandbyRotation rotation, ReplayLag replayLag,
        IReadOnlyList<HostObservation> observed, TimeSpan now, TimeSpan maxLag)
    {
        foreach (var h in observed)
            if (h.State is { IsStandby: false } primary)
                replayLag.RecordPrimary(now, primary.Position);
        var leftOut = new List<(string, int, TimeSpan)>();
        // No primary (it died; no standby promoted yet): the standbys keep the rotation they had. Measured against the
        // dead primary's last position, which it may never have sent, their lag would only grow, and the reads would
        // lose their standbys in the very moment the primary cannot take them either.
        if (!observed.Any(h => h.State is { IsStandby: false }))
            return leftOut;
        foreach (var h in observed)
        {
            if (h.State is not { } s)
                continue;
            var lag = s.IsStandby ? replayLag.LagOf(s.Position, now) : TimeSpan.Zero;
            if (rotation.Observe(h.Host, h.Port, s.IsStandby, s.Position, lag, maxLag))
                leftOut.Add((h.Host, h.Port, lag));
        }
        return leftOut;
    }

    async Task<(bool IsStandby, NpgsqlLogSequenceNumber Position)?> TryReadAsync(NpgsqlDataSource source, CancellationToken ct)
    {
        try
        {
            await using var command = source.CreateCommand("""
                SELECT pg_is_in_recovery(),
                       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END
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

    /// <summary>
    /// The primary's WAL position now, flushed: at or past the commit of every write that has answered (a synchronous
    /// commit answers after its flush). Not the insert position, which runs ahead by what other transactions have
    /// written and not flushed yet (an asynchronous commit's WAL waits up to wal_writer_delay, 200 ms) — a position no
    /// standby can have replayed, so a read would wait out its bound for nothing.
    /// </summary>
    public async Task<NpgsqlLogSequenceNumber> PrimaryPositionAsync(CancellationToken ct)
    {
        await using var command = hosts.Primary.CreateCommand("SELECT pg_current_wal_flush_lsn()");
        return (NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Waits, up to <see cref="DatabaseOptions.ConsistencyWait"/> (a poll out at the bound is not waited for), until a
    /// standby in the rotation has replayed <paramref name="position"/>. The standbys that have not are then left out
    /// until they have (the reads' pooled connections dropped), so the read that follows goes to one that has it, or to
    /// the primary when none has. Returns whether a standby had it (or there was none to wait for).
    /// </summary>
    public async Task<bool> WaitForReplayAsync(NpgsqlLogSequenceNumber position, CancellationToken ct)
    {
        if (!hosts.HasStandbys)
            return true;
        var standbys = _each.Value.Where(h => rotation.RoleOf(h.Host, h.Port) != ServedBy.Primary && rotation.Allows(h.Host, h.Port, _options.MaxStandbyLag)).ToList();
        var behind = standbys;
        var bound = Task.Delay(_options.ConsistencyWait, ct);
        // One standby that has the position is enough: waiting for the slowest would only delay this read.
        while (behind.Count == standbys.Count && standbys.Count > 0)
        {
            // A poll still out at the bound is left to finish on its own (a cancelled statement can take longer than
            // the bound to come back): the read does not wait for it.
            var poll = Task.WhenAll(behind.Select(h => TryReadAsync(h.Source, ct)));
            if (await Task.WhenAny(poll, bound) != poll)
                break;
            var positions = await poll;
            behind = behind.Where((_, i) => positions[i] is not { } p || (p.IsStandby && p.Position < position)).ToList();
            if (behind.Count == standbys.Count && await Task.WhenAny(Task.Delay(2, ct), bound) == bound)
                break;
        }
        ct.ThrowIfCancellationRequested();
        var left = false;
        foreach (var (host, port, _) in behind)
            left |= rotation.HoldUntil(host, port, position, _options.MaxStandbyLag);
        if (left)
            hosts.Reads.Clear();
        return behind.Count < standbys.Count || standbys.Count == 0;
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
