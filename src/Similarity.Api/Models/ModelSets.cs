using Nito.AsyncEx;

namespace Similarity.Models;

/// <summary>
/// The model switch: which loaded set is live and which is the standby set beside it, and the lock that keeps every
/// answer wholly from one set. Every request that reads or writes vectors holds <see cref="ReadLockAsync"/> while it
/// does; an activation or a retirement takes the writer side, so it waits for those in flight and holds new ones
/// while it switches. The in-memory state follows the database (<c>model_sets</c>): it changes once the statement or
/// commit that records it has succeeded (a retirement alone lets go of its set first, so no batch writes what it clears).
/// </summary>
public sealed class ModelSets : IAsyncDisposable
{
    readonly AsyncReaderWriterLock _switch = new();
    volatile ModelSet? _live;
    volatile StandbySet? _standby;
    volatile string? _standbyFault;

    public ModelSet Live => _live ?? throw new InvalidOperationException("The model sets are not loaded yet.");

    /// <summary>The set in the standby columns, with its status (candidate, embedding or ready); null when there is none.</summary>
    public StandbySet? Standby => _standby;

    /// <summary>Why the standby set recorded in the database could not be loaded at start; null when it was.</summary>
    public string? StandbyFault => _standbyFault;

    /// <summary>Held while a request reads or writes vectors: an activation waits for it, and new ones wait for the activation.</summary>
    public AwaitableDisposable<IDisposable> ReadLockAsync(CancellationToken ct) => _switch.ReaderLockAsync(ct);

    /// <summary>Held by an activation or a retirement, from before its first statement until the in-memory state follows.</summary>
    internal AwaitableDisposable<IDisposable> WriteLockAsync(CancellationToken ct) => _switch.WriterLockAsync(ct);

    internal bool IsLive(string name) => _live?.Name == name;

    /// <summary>The sets loaded at start.</summary>
    internal void Loaded(ModelSet live, StandbySet? standby, string? standbyFault) =>
        (_live, _standby, _standbyFault) = (live, standby, standbyFault);

    /// <summary>A new standby set (a deployed candidate), or none (a retirement).</summary>
    internal void ReplaceStandby(StandbySet? standby) => (_standby, _standbyFault) = (standby, null);

    /// <summary>The standby set's new status, if <paramref name="set"/> is still the standby set.</summary>
    internal void Advance(ModelSet set, string status)
    {
        if (_standby?.Set == set)
            _standby = new StandbySet(set, status);
    }

    /// <summary>The standby set live and the live one its ready standby: called under the writer side, after the commit.</summary>
    internal void Switch(ModelSet live, ModelSet previous) => (_live, _standby) = (live, new StandbySet(previous, ModelStatus.Ready));

    /// <summary>The loaded standby set named <paramref name="name"/>, or the refusal saying why there is none.</summary>
    internal ModelSet RequireStandby(string name, List<ModelSetRow> rows)
    {
        var row = rows.FirstOrDefault(r => r.Name == name) ?? throw new ModelSetRefusedException(ModelRefusal.NoSuchSet, $"No model set is named '{name}'.");
        if (row.Status == ModelStatus.Live)
            throw new ModelSetRefusedException(ModelRefusal.IsLive, $"Model set '{name}' is the live one.");
        if (row.Status == ModelStatus.Retired)
            throw new ModelSetRefusedException(ModelRefusal.Retired, $"Model set '{name}' is retired: its vectors and files are gone. Deploy it again under another name.");
        return _standby?.Set is { } set && set.Name == name ? set
            : throw new ModelSetRefusedException(ModelRefusal.NotLoaded, _standbyFault ?? $"Model set '{name}' is not loaded.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_standby is { } standby)
            await standby.Set.Pipeline.DisposeAsync();
        if (_live is { } live)
            await live.Pipeline.DisposeAsync();
    }
}

/// <summary>The set in the standby columns and its status (candidate, embedding or ready), read and replaced as one.</summary>
public sealed record StandbySet(ModelSet Set, string Status);
