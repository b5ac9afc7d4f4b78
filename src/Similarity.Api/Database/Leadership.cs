using System.Collections.Concurrent;
using Npgsql;

namespace Similarity.Database;

/// <summary>
/// One leader per duty among every instance on the database: a <see cref="Lease"/> per duty, won by a session advisory
/// lock on a connection of its own to the primary. The lock lives as long as that connection: an instance that dies,
/// or a primary that fails over, lets it go, and another instance wins it on its next try.
/// </summary>
public sealed class Leadership(NpgsqlDataSource primary, ILogger<Leadership> logger) : IAsyncDisposable
{
    /// <summary>The first key of the election's advisory locks (the second is the duty's); "SIML".</summary>
    internal const int ElectionKey = 0x53494D4C;

    /// <summary>The first key of the fence's advisory locks; "SIMF".</summary>
    internal const int FenceKey = 0x53494D46;

    /// <summary>How long a duty that is not the leader waits before it tries for the lease again (the re-election's pace).</summary>
    public static readonly TimeSpan FollowerPause = TimeSpan.FromSeconds(1);

    readonly ConcurrentDictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    /// <summary>This instance, as the leases and the log name it.</summary>
    public string Instance { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The lease of one duty (one object per duty name, shared by its callers).</summary>
    public Lease For(string duty) => _leases.GetOrAdd(duty, name => new Lease(name, primary, Instance, logger));

    /// <summary>The duties this instance leads now.</summary>
    public IReadOnlyList<string> Held => [.. _leases.Values.Where(l => l.IsHeld).Select(l => l.Duty).Order(StringComparer.Ordinal)];

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in _leases.Values)
            await lease.DisposeAsync();
    }

    /// <summary>A stable, non-negative 31-bit key for a duty's name (string.GetHashCode differs between processes).</summary>
    internal static int KeyOf(string duty)
    {
        var hash = 2166136261u;
        foreach (var c in duty)
            hash = (hash ^ c) * 16777619u;
        return (int)(hash & 0x7FFFFFFF);
    }
}
