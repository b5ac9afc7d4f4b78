using Npgsql;

namespace Similarity.Similar;

/// <summary>What a round did: the queued changes it applied, the lists it computed, and by which path.</summary>
public sealed record RoundResult(IReadOnlyList<NeighbourListStore.QueuedChange> Applied, int Computed, bool Bulk);

/// <summary>
/// One round of the list worker: one transaction that takes a few queued changes off the queue and makes every neighbour
/// list they touch true again — by the per-item rules of <see cref="NeighbourList"/>, or, when no other list need change,
/// by computing the claimed items' lists at once (the bulk path). docs/architecture.md tells why both are right.
/// </summary>
public sealed class ListRound
{
    // A bulk round of BulkItemsPerRound lists is a few seconds at 100 000 items (docs/architecture.md): while a
    // build runs, other changes wait up to a round longer. BulkConnections: one per core of the database it was measured on.
    const int ItemsPerRound = 16, BulkItemsPerRound = 256, BulkConnections = 2;

    // An upserted item's own list is searched this many times further than the list size: the items whose lists it may enter.
    const int ReachFactor = 4;

    readonly NeighbourListStore _store;
    readonly NpgsqlTransaction _tx;
    readonly string _fingerprint;
    readonly int _size;
    readonly CancellationToken _ct;
    readonly Dictionary<string, bool> _written = new(StringComparer.Ordinal); // lists this round computed (true) or dropped (false)

    ListRound(NeighbourListStore store, NpgsqlTransaction tx, string fingerprint, int size, CancellationToken ct) =>
        (_store, _tx, _fingerprint, _size, _ct) = (store, tx, fingerprint, size, ct);

    int Capacity => NeighbourList.CapacityOf(_size);

    /// <summary>
    /// Runs one round: up to <see cref="ItemsPerRound"/> queued changes (<see cref="BulkItemsPerRound"/> when more wait and
    /// the bulk path applies) in one transaction, which also bumps the lists' revision. Null when the queue was empty.
    /// </summary>
    public static async Task<RoundResult?> RunAsync(NpgsqlDataSource dataSource, NeighbourListStore store, ListProvenance provenance,
        string fingerprint, int size, int efSearch, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var round = await NeighbourListStore.NextRoundAsync(tx, ct);
        // Another instance's round in between: what this process knew of the lists may be out of date.
        if (!provenance.Follows(round))
            provenance.Forget(await NeighbourListStore.StoredListsAsync(tx, ct));
        var waiting = provenance.Read(await NeighbourListStore.QueueAsync(tx, ct), round);
        var claimed = await NeighbourListStore.ClaimAsync(tx, waiting > ItemsPerRound ? BulkItemsPerRound : ItemsPerRound, ct);
        if (claimed.Count == 0)
            return null;

        // The stored lists the per-item rules would have to change: few enough, and they are computed again instead.
        var upserted = claimed.Where(c => !c.Deleted).ToList();
        var latestSeen = upserted.Count == 0 ? ListProvenance.Unknown : upserted.Max(c => provenance.SeenIn(c.Sku, c.Version, round));
        var older = provenance.ComputedBefore(latestSeen, claimed.Select(c => c.Sku).ToHashSet(StringComparer.Ordinal));
        var bulk = upserted.Count > 0 && older.Count <= upserted.Count;
        if (!bulk && claimed.Count > ItemsPerRound)
            claimed.RemoveRange(ItemsPerRound, claimed.Count - ItemsPerRound); // the others stay queued, unlocked at commit
        await NeighbourListStore.DequeueAsync(tx, claimed.Select(c => c.Sku), ct);

        // Every list search of the round looks at least twice the list far (re-ranked exactly to its length). Rounds run
        // only once the index is valid, and it stays valid.
        var breadth = Math.Max(efSearch, 2 * NeighbourList.CapacityOf(size));
        await NeighbourListStore.SetSearchBreadthAsync(tx, breadth, ct);
        var run = new ListRound(store, tx, fingerprint, size, ct);
        foreach (var change in claimed.Where(c => c.Deleted))
            await run.DeletedAsync(change.Sku);
        int computed;
        if (bulk)
        {
            List<string> lists = [.. claimed.Where(c => !c.Deleted).Select(c => c.Sku), .. older.Where(sku => !run._written.ContainsKey(sku))];
            await run.ComputeManyAsync(lists, breadth);
            computed = lists.Count;
        }
        else
        {
            foreach (var change in claimed.Where(c => !c.Deleted))
                await run.UpsertedAsync(change.Sku);
            computed = claimed.Count(c => !c.Deleted);
        }
        await NeighbourListStore.CommitRoundAsync(tx, round, ct);
        await tx.CommitAsync(ct);
        provenance.Committed(round, run._written);
        return new RoundResult(claimed, computed, bulk);
    }

    /// <summary>An item whose vectors changed: it moves in or leaves the lists that hold it, its own list is computed, and it enters its neighbours' lists.</summary>
    async Task UpsertedAsync(string sku)
    {
        var changed = new List<NeighbourList>();
        var recompute = new List<string>();
        foreach (var (list, score) in await NeighbourListStore.HoldersAsync(_tx, sku, _fingerprint, _ct))
            Sort(list, list.Rescore(sku, score, _size), changed, recompute);
        await ApplyAsync(changed, recompute);

        // An item enters the lists of items it is near, found from its own list; looking ReachFactor times further than
        // the list also finds most lists of outliers, whose nearest items are far.
        var own = await ComputeAsync(sku, reach: ReachFactor * _size);
        if (own is null)
            return; // no item of the live model set: nothing more to place
        var neighbours = await NeighbourListStore.ReadAsync(_tx, own.Neighbours, _ct);
        changed.Clear();
        recompute.Clear();
        for (var i = 0; i < own.Count; i++)
        {
            if (neighbours.TryGetValue(own.Neighbours[i], out var list))
                Sort(list, list.Offer(sku, own.Scores[i], _size), changed, recompute);
        }
        await ApplyAsync(changed, recompute);
    }

    /// <summary>A deleted item: its own list goes, and it leaves every list that held it (computed again when left too short).</summary>
    async Task DeletedAsync(string sku)
    {
        if (await NeighbourListStore.DropDeletedAsync(_tx, sku, _ct))
            _written[sku] = false;
        var changed = new List<NeighbourList>();
        var recompute = new List<string>();
        foreach (var list in await NeighbourListStore.HoldersOfDeletedAsync(_tx, sku, _ct))
            Sort(list, list.Leave(sku, _size), changed, recompute);
        foreach (var holder in recompute)
            await ComputeAsync(holder);
        await NeighbourListStore.UpdateAsync(_tx, changed, _ct);
    }

    static void Sort(NeighbourList list, ListChange change, List<NeighbourList> changed, List<string> recompute)
    {
        if (change == ListChange.Changed)
            changed.Add(list);
        else if (change == ListChange.Recompute)
            recompute.Add(list.Sku);
    }

    async Task ApplyAsync(List<NeighbourList> changed, List<string> recompute)
    {
        await NeighbourListStore.UpdateAsync(_tx, changed, _ct);
        foreach (var sku in recompute)
            await ComputeAsync(sku);
    }

    /// <summary>
    /// An item's list from the index, stored; null when there is no such item of the live model set. With
    /// <paramref name="reach"/> above the list's capacity, the nearest <paramref name="reach"/> items come back (the stored
    /// list is their first ones): the items whose lists the item may enter.
    /// </summary>
    async Task<NeighbourList?> ComputeAsync(string sku, int? reach = null)
    {
        var near = await _store.SearchAsync(_tx, sku, _fingerprint, reach ?? Capacity, _ct);
        if (near is null)
            return null;
        await NeighbourListStore.StoreAsync(_tx, [near], _fingerprint, Capacity, _ct);
        _written[sku] = true;
        return near;
    }

    /// <summary>
    /// The lists of <paramref name="skus"/>, searched on <see cref="BulkConnections"/> connections of their own at once (a
    /// search keeps one core of the database busy), each reading the catalog as committed by then, which holds every change
    /// this round's read saw; stored in the round's transaction.
    /// </summary>
    async Task ComputeManyAsync(List<string> skus, int breadth)
    {
        var parts = await Task.WhenAll(skus.Chunk((skus.Count + BulkConnections - 1) / BulkConnections)
            .Select(part => _store.SearchManyAsync(part, _fingerprint, Capacity, breadth, _ct)));
        var lists = parts.SelectMany(part => part).ToList();
        await NeighbourListStore.StoreAsync(_tx, lists, _fingerprint, Capacity, _ct);
        foreach (var list in lists)
            _written[list.Sku] = true;
    }
}
