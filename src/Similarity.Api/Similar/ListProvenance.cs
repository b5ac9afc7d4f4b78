namespace Similarity.Similar;

/// <summary>
/// What this process knows of which round computed which stored list, and which round first saw each queued change:
/// enough to tell whether a round may take the bulk path (see docs/architecture.md). Lists it did not compute
/// count as older than every change. Only the list worker's loop touches it; rounds run one at a time.
/// </summary>
public sealed class ListProvenance
{
    /// <summary>The round of a list this process did not compute: before every change.</summary>
    public const long Unknown = long.MinValue;

    long _revision = -1;                                                           // the revision this process's last round committed
    readonly Dictionary<string, long> _listRounds = new(StringComparer.Ordinal);     // every stored list → the round here that last computed it
    Dictionary<string, (string Version, long Round)> _seen = new(StringComparer.Ordinal); // every queued change → the first round whose read saw it

    /// <summary>Whether <paramref name="round"/> follows this process's last one (no other instance's round came between).</summary>
    public bool Follows(long round) => round == _revision + 1;

    /// <summary>Forgets which round computed which list: every stored list counts as computed before every queued change.</summary>
    public void Forget(IEnumerable<string> storedLists)
    {
        _listRounds.Clear();
        _seen.Clear();
        foreach (var sku in storedLists)
            _listRounds[sku] = Unknown;
    }

    /// <summary>
    /// Notes the first round that saw each queued change (a queue row's version changes with every change of its item)
    /// and returns how many wait. Seen here, a change was committed before any list this round computes.
    /// </summary>
    public int Read(IEnumerable<(string Sku, string Version)> queue, long round)
    {
        var seen = new Dictionary<string, (string Version, long Round)>(StringComparer.Ordinal);
        foreach (var (sku, version) in queue)
            seen[sku] = _seen.TryGetValue(sku, out var before) && before.Version == version ? before : (version, round);
        _seen = seen;
        return seen.Count;
    }

    /// <summary>The round that first saw a claimed change; one committed after this round's read is seen by the claim itself.</summary>
    public long SeenIn(string sku, string version, long round) =>
        _seen.TryGetValue(sku, out var seen) && seen.Version == version ? seen.Round : round;

    /// <summary>
    /// The stored lists computed before round <paramref name="seen"/> and not queued themselves (those are computed when
    /// their turn comes), nor in <paramref name="taken"/>.
    /// </summary>
    public List<string> ComputedBefore(long seen, IReadOnlySet<string> taken) =>
        [.. _listRounds.Where(l => l.Value < seen && !_seen.ContainsKey(l.Key) && !taken.Contains(l.Key)).Select(l => l.Key)];

    /// <summary>Records a committed round: the lists it computed (true) or dropped (false).</summary>
    public void Committed(long round, IReadOnlyDictionary<string, bool> written)
    {
        _revision = round;
        foreach (var (sku, stored) in written)
        {
            if (stored)
                _listRounds[sku] = round;
            else
                _listRounds.Remove(sku);
        }
    }
}
