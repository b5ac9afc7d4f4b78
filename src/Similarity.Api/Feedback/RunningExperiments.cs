using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Similarity.Feedback;

/// <summary>
/// Which experiment, if any, a /similar answer takes part in. The running experiments are remembered for
/// <see cref="FeedbackOptions.ExperimentRefresh"/> (a /similar answer costs no extra round trip); this instance's own
/// PUT or DELETE forgets them at once, other instances follow within that time. The choice is a hash of the
/// experiment's name and the unit (the visitor when known, else the request id): reproducible, and independent
/// between experiments. The oldest running experiment that takes the unit has it. When the memory expires, one
/// request reads again while the others wait for it, so a busy instance costs the database one read per period.
/// </summary>
public sealed class RunningExperiments(ExperimentStore store, IOptions<FeedbackOptions> options, TimeProvider clock)
{
    volatile Snapshot? _snapshot;
    readonly SemaphoreSlim _reading = new(1, 1);

    // Bumped by every Forget: a read that began before a change does not keep what it read.
    long _changes;

    sealed record Snapshot(IReadOnlyList<ExperimentDefinition> Running, DateTimeOffset Until);

    /// <summary>Forgets what was read, so the next answer reads the experiments again.</summary>
    public void Forget()
    {
        Interlocked.Increment(ref _changes);
        _snapshot = null;
    }

    /// <summary>The experiment this unit's answer is interleaved for, or null.</summary>
    public async ValueTask<ExperimentDefinition?> ChooseAsync(string unit, CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Until <= clock.GetUtcNow())
            snapshot = await ReadAsync(ct);
        foreach (var experiment in snapshot.Running)
            if (Takes(experiment.Name, unit, experiment.Share))
                return experiment;
        return null;
    }

    /// <summary>Reads the running experiments; one request reads at a time, and those that waited take what it read.</summary>
    async Task<Snapshot> ReadAsync(CancellationToken ct)
    {
        await _reading.WaitAsync(ct);
        try
        {
            var now = clock.GetUtcNow();
            if (_snapshot is { } fresh && fresh.Until > now)
                return fresh;
            var changes = Interlocked.Read(ref _changes);
            var running = await store.ListAsync(runningOnly: true, ct);
            var snapshot = new Snapshot([.. running.OrderBy(e => e.CreatedAt).ThenBy(e => e.Name, StringComparer.Ordinal)],
                now + options.Value.ExperimentRefresh);
            if (Interlocked.Read(ref _changes) == changes)
                _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>Whether the unit falls in the experiment's share: the first 8 bytes of SHA-256(name '\n' unit) as a fraction of 2^64.</summary>
    public static bool Takes(string experiment, string unit, double share)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{experiment}\n{unit}"));
        return BinaryPrimitives.ReadUInt64BigEndian(hash) / 18446744073709551616.0 < share;
    }

    /// <summary>The interleaving's seed for one answer: the same request id gives the same list.</summary>
    public static int SeedOf(Guid requestId) => BinaryPrimitives.ReadInt32LittleEndian(SHA256.HashData(requestId.ToByteArray()));
}
