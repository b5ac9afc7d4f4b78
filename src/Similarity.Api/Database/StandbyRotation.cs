using NpgsqlTypes;

namespace Similarity.Database;

/// <summary>
/// Which hosts the reads may use: the primary always, a standby while its lag is within the bound and it has replayed
/// every position a read was told to wait for. Fed by <see cref="StandbyWatch"/> (periodic observations) and by
/// <see cref="StandbyWatch.WaitForReplayAsync"/> (a standby left behind by a read's token); read on every new physical
/// connection of the reads data source, without SQL. A host never observed is allowed (the start, before the first check).
/// </summary>
public sealed class StandbyRotation
{
    readonly Lock _lock = new();
    readonly Dictionary<string, HostState> _hosts = new(StringComparer.OrdinalIgnoreCase);

    public sealed record HostState(bool IsStandby, NpgsqlLogSequenceNumber Position, TimeSpan Lag, NpgsqlLogSequenceNumber? WaitFor)
    {
        /// <summary>A standby whose lag is within <paramref name="maxLag"/> and that has replayed what it was told to wait for.</summary>
        public bool Allowed(TimeSpan maxLag) => !IsStandby || (Lag <= maxLag && (WaitFor is not { } lsn || Position >= lsn));
    }

    public static string Key(string host, int port) => $"{host}:{port}";

    /// <summary>Records an observation; true when the host left the rotation with it (its pooled connections must go).</summary>
    public bool Observe(string host, int port, bool isStandby, NpgsqlLogSequenceNumber position, TimeSpan lag, TimeSpan maxLag)
    {
        lock (_lock)
        {
            var key = Key(host, port);
            var before = _hosts.GetValueOrDefault(key);
            var waitFor = before?.WaitFor is { } lsn && position < lsn && isStandby ? lsn : (NpgsqlLogSequenceNumber?)null;
            var after = new HostState(isStandby, position, lag, waitFor);
            _hosts[key] = after;
            return (before?.Allowed(maxLag) ?? true) && !after.Allowed(maxLag);
        }
    }

    /// <summary>Leaves a standby out until it has replayed <paramref name="lsn"/>; true when it was in the rotation until now.</summary>
    public bool HoldUntil(string host, int port, NpgsqlLogSequenceNumber lsn, TimeSpan maxLag)
    {
        lock (_lock)
        {
            var key = Key(host, port);
            if (_hosts.GetValueOrDefault(key) is not { IsStandby: true } state || state.Position >= lsn)
                return false;
            var wasAllowed = state.Allowed(maxLag);
            _hosts[key] = state with { WaitFor = state.WaitFor is { } held && held > lsn ? held : lsn };
            return wasAllowed;
        }
    }

    public bool Allows(string host, int port, TimeSpan maxLag)
    {
        lock (_lock)
            return _hosts.GetValueOrDefault(Key(host, port))?.Allowed(maxLag) ?? true;
    }

    /// <summary>"standby" or "primary" for a host observed; null for one never observed.</summary>
    public string? RoleOf(string host, int port)
    {
        lock (_lock)
            return _hosts.GetValueOrDefault(Key(host, port)) is { } state ? (state.IsStandby ? ServedBy.Standby : ServedBy.Primary) : null;
    }

    public IReadOnlyDictionary<string, HostState> Snapshot()
    {
        lock (_lock)
            return new Dictionary<string, HostState>(_hosts);
    }
}
