using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Catalog;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// Keeps each item's precomputed neighbour list true as the catalog changes: a stored list is the item's exact top n by
/// fused cosine (as far as the index finds them) for some n from <see cref="SearchOptions.ListSize"/> to its
/// <see cref="Capacity"/>, or every other item when the catalog is smaller. The items table's trigger queues every item
/// whose vectors changed and every deleted one; a round takes a few queued items and, in one transaction:
/// <list type="bullet">
/// <item>an upserted item X: the lists that hold X get X's new score (re-sorted where X still beats the last; where it
/// does not, X leaves, and only a list left shorter than the list size is computed again), X's own list is computed by
/// the index, and X goes into the list of each of its neighbours whose last score it beats (the rule: found from
/// X's own list);</item>
/// <item>a deleted item: its own list goes, and it leaves every list that held it (refilled when left too short).</item>
/// </list>
/// The headroom above the list size is what makes a change cheap: an item that moves away leaves ~90 lists, and each of
/// them stays the exact top n-1 without a search; without it each would be searched again (0.5 s per upsert at 100 000).
/// Each round bumps the lists' revision, which /similar's ETags include, so they follow the lists. Written by hand: no library keeps
/// k-nearest-neighbour lists of a pgvector table.
/// <para>
/// The bulk path (a first build, an import into an empty catalog, a model switch): a list computed after an item's change was
/// committed already holds that item as it is now. When every list that was computed before some claimed item's change is
/// itself queued, or few enough to compute again, the round computes the claimed items' lists (and those few) in one statement
/// and nothing else: no item need enter or move in any other list. Which lists were computed after which changes is known
/// from this process's own rounds (<see cref="_listRounds"/>, <see cref="_seen"/>); lists it did not compute count as older
/// than every change, so after a restart, or a round by another instance, the per-item path runs until they are recomputed.
/// </para>
/// </summary>
public sealed partial class SimilarLists(NpgsqlDataSource dataSource, CatalogIndex index, ModelSets models, IOptions<SearchOptions> options,
    SimilarityMetrics metrics, ILogger<SimilarLists> logger) : BackgroundService
{
    // A bulk round of BulkItemsPerRound lists takes about 3.7 s at 100 000 items on 2 cores (docs/benchmarks.md): while a build
    // runs, other changes wait up to a round longer. BulkConnections: one per core of the database bench similar ran on.
    const int ItemsPerRound = 16, BulkItemsPerRound = 256, BulkConnections = 2, ReachFactor = 4;
    const long Unknown = long.MinValue;
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200), RetryInterval = TimeSpan.FromSeconds(2);

    volatile bool _lastRoundFailed;
    volatile bool _stopped;

    // Only the loop touches these. A round's number is the revision it commits; rounds run one at a time (the state row's lock).
    long _revision = -1;                                                           // the revision this process's last round committed
    readonly Dictionary<string, long> _listRounds = new(StringComparer.Ordinal);     // every stored list → the round here that last computed it
    Dictionary<string, (string Version, long Round)> _seen = new(StringComparer.Ordinal); // every queued change → the first round whose read saw it

    int Size => options.Value.ListSize;

    /// <summary>The most a list holds: its size and a fifth more, computed when a list is (re)computed, spent as items leave it.</summary>
    int Capacity => CapacityOf(Size);

    public static int CapacityOf(int size) => size + size / 5;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Size == 0)
            return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var worked = 0;
                // Lists come from the index: until it is valid (built after start) a list would cost a scan of the catalog.
                if (!index.IsValid)
                {
                    await Task.Delay(PollInterval, stoppingToken);
                    continue;
                }
                try
                {
                    // Under the read side of the model switch: a round compares one set's vectors, start to end.
                    using (await models.ReadLockAsync(stoppingToken))
                        worked = await RunRoundAsync(stoppingToken);
                    _lastRoundFailed = false;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The round's transaction rolled back: its items stay queued for the next one.
                    _lastRoundFailed = true;
                    LogRoundFailed(ex);
                }
                // After a failure, a longer pause: a database that is down would otherwise fill the log five times a second.
                if (_lastRoundFailed)
                    await Task.Delay(RetryInterval, stoppingToken);
                else if (worked == 0)
                    await Task.Delay(PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _stopped = true;
            LogStopped(ex);
        }
    }

    /// <summary>One round: up to <see cref="ItemsPerRound"/> queued items (<see cref="BulkItemsPerRound"/> when more wait) applied in one transaction. Returns how many.</summary>
    async Task<int> RunRoundAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        long round;
        await using (var state = new NpgsqlCommand("SELECT revision + 1 FROM similar_lists_state FOR UPDATE", connection, transaction))
            round = (long)(await state.ExecuteScalarAsync(ct))!;
        // Another instance's round in between: what this process knew of the lists may be out of date.
        if (round != _revision + 1)
            await RelearnAsync(connection, transaction, ct);
        var waiting = await ReadQueueAsync(connection, transaction, round, ct);

        var claimed = new List<(string Sku, bool Deleted, DateTime QueuedAt, long SeenIn)>();
        await using (var claim = new NpgsqlCommand("""
            SELECT sku, deleted, queued_at, xmin::text FROM similar_list_queue ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            claim.Parameters.Add(new() { Value = waiting > ItemsPerRound ? BulkItemsPerRound : ItemsPerRound });
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var sku = reader.GetString(0);
                // A change committed after this round's read is seen by the claim itself.
                var seenIn = _seen.TryGetValue(sku, out var seen) && seen.Version == reader.GetString(3) ? seen.Round : round;
                claimed.Add((sku, reader.GetBoolean(1), reader.GetDateTime(2), seenIn));
            }
        }
        if (claimed.Count == 0)
            return 0;

        // The stored lists computed before some claimed upsert's change was seen, and not queued themselves (those are computed
        // when their turn comes): the lists the per-item rules would have to change. Few enough, and they are computed again instead.
        var upserted = claimed.Where(c => !c.Deleted).ToList();
        var latestSeen = upserted.Count == 0 ? Unknown : upserted.Max(u => u.SeenIn);
        var taken = claimed.Select(c => c.Sku).ToHashSet(StringComparer.Ordinal);
        var older = _listRounds.Where(l => l.Value < latestSeen && !_seen.ContainsKey(l.Key) && !taken.Contains(l.Key)).Select(l => l.Key).ToList();
        var bulk = upserted.Count > 0 && older.Count <= upserted.Count;
        if (!bulk && claimed.Count > ItemsPerRound)
            claimed.RemoveRange(ItemsPerRound, claimed.Count - ItemsPerRound); // the others stay queued, unlocked at commit
        await using (var take = new NpgsqlCommand("DELETE FROM similar_list_queue WHERE sku = ANY($1)", connection, transaction))
        {
            take.Parameters.Add(new() { Value = claimed.Select(c => c.Sku).ToArray() });
            await take.ExecuteNonQueryAsync(ct);
        }

        // The breadth of every list search in this transaction: at least twice the list (re-ranked exactly to its length).
        // Rounds run only once the index is valid (ExecuteAsync), and it stays valid.
        await using (var settings = new NpgsqlCommand(
            "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)", connection, transaction))
        {
            settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, 2 * Capacity).ToString(CultureInfo.InvariantCulture) });
            await settings.ExecuteNonQueryAsync(ct);
        }
        var written = new Dictionary<string, bool>(StringComparer.Ordinal); // lists this round computed (true) or dropped (false)
        int computed;
        foreach (var (sku, _, _, _) in claimed.Where(c => c.Deleted))
            await RefillHoldersAsync(connection, transaction, sku, written, ct);
        if (bulk)
        {
            List<string> lists = [.. claimed.Where(c => !c.Deleted).Select(c => c.Sku), .. older.Where(sku => !written.ContainsKey(sku))];
            await ComputeManyAsync(connection, transaction, lists, written, ct);
            computed = lists.Count;
        }
        else
        {
            foreach (var (sku, _, _, _) in claimed.Where(c => !c.Deleted))
                await UpsertAsync(connection, transaction, sku, written, ct);
            computed = claimed.Count(c => !c.Deleted);
        }
        await using (var bump = new NpgsqlCommand("UPDATE similar_lists_state SET revision = $1", connection, transaction))
        {
            bump.Parameters.Add(new() { Value = round });
            await bump.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        var committed = DateTime.UtcNow;
        _revision = round;
        foreach (var (sku, stored) in written)
        {
            if (stored)
                _listRounds[sku] = round;
            else
                _listRounds.Remove(sku);
        }
        if (computed > 0)
            metrics.ListsComputed.Add(computed, new KeyValuePair<string, object?>("path", bulk ? "bulk" : "item"));
        foreach (var (_, _, queuedAt, _) in claimed)
            metrics.ListFreshness.Record(Math.Max(0, (committed - queuedAt.ToUniversalTime()).TotalSeconds));
        return claimed.Count;
    }

    /// <summary>Forgets which round computed which list: every stored list counts as computed before every queued change.</summary>
    async Task RelearnAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        _listRounds.Clear();
        _seen.Clear();
        await using var command = new NpgsqlCommand("SELECT sku FROM similar_lists", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            _listRounds[reader.GetString(0)] = Unknown;
    }

    /// <summary>
    /// Notes the first round that saw each queued change (a queue row's xmin is its version: a later change of the same item
    /// writes a new one) and returns how many wait. Seen here, a change was committed before any list this round computes.
    /// </summary>
    async Task<int> ReadQueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long round, CancellationToken ct)
    {
        var seen = new Dictionary<string, (string Version, long Round)>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand("SELECT sku, xmin::text FROM similar_list_queue", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var (sku, version) = (reader.GetString(0), reader.GetString(1));
            seen[sku] = _seen.TryGetValue(sku, out var before) && before.Version == version ? before : (version, round);
        }
        _seen = seen;
        return seen.Count;
    }

    /// <summary>
    /// The lists of <paramref name="skus"/> from the index, re-ranked by exact cosine, written in the round's transaction (items
    /// gone or of another model set get none). They are searched on <see cref="BulkConnections"/> connections of their own at
    /// once — a search keeps one core of the database busy — each reading the catalog as committed by then, which holds every
    /// change this round's read saw.
    /// </summary>
    async Task ComputeManyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> skus, Dictionary<string, bool> written, CancellationToken ct)
    {
        var parts = await Task.WhenAll(skus.Chunk((skus.Count + BulkConnections - 1) / BulkConnections).Select(part => SearchManyAsync(part, ct)));
        var lists = parts.SelectMany(part => part).ToList();
        if (lists.Count == 0)
            return;
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var list in lists)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO similar_lists (sku, fingerprint, neighbours, scores) VALUES ($1, $2, $3, $4)
                ON CONFLICT (sku) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, neighbours = EXCLUDED.neighbours, scores = EXCLUDED.scores, computed_at = now()
                """)
            {
                Parameters =
                {
                    new() { Value = list.Sku }, new() { Value = models.Live.Fingerprint },
                    new() { Value = list.Neighbours.ToArray() }, new() { Value = list.Scores.ToArray() },
                },
            });
        }
        await batch.ExecuteNonQueryAsync(ct);
        foreach (var list in lists)
            written[list.Sku] = true;
    }

    /// <summary>The lists of <paramref name="skus"/> as <see cref="ComputeAsync"/> finds them, in one statement (a LATERAL join over the index).</summary>
    async Task<List<NeighbourList>> SearchManyAsync(string[] skus, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        // Local to the batch's implicit transaction: the connection goes back to the pool as it came.
        var settings = new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)");
        settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, 2 * Capacity).ToString(CultureInfo.InvariantCulture) });
        batch.BatchCommands.Add(settings);
        var search = new NpgsqlBatchCommand($"""
            SELECT x.sku, top.neighbours, top.scores
            FROM items x CROSS JOIN LATERAL (
                SELECT coalesce(array_agg(sku ORDER BY score DESC, sku), ARRAY[]::text[]) AS neighbours,
                       coalesce(array_agg(score ORDER BY score DESC, sku), ARRAY[]::float8[]) AS scores
                FROM (
                    SELECT sku, 1 - (embedding <=> x.embedding) AS score
                    FROM (SELECT sku, embedding FROM items WHERE fingerprint = $2 AND sku <> x.sku AND {index.Predicate}
                          ORDER BY {index.Expression} <=> x.embedding::halfvec({index.Dimension}) LIMIT $3) candidates
                    ORDER BY score DESC, sku LIMIT $4) ranked) top
            WHERE x.sku = ANY($1) AND x.fingerprint = $2 AND vector_dims(x.embedding) = {index.Dimension}
            """);
        search.Parameters.Add(new() { Value = skus });
        search.Parameters.Add(new() { Value = models.Live.Fingerprint });
        search.Parameters.Add(new() { Value = 2 * Capacity }); // candidates re-ranked exactly: twice those kept
        search.Parameters.Add(new() { Value = Capacity });
        batch.BatchCommands.Add(search);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        var lists = new List<NeighbourList>();
        while (await reader.ReadAsync(ct))
            lists.Add(ReadList(reader));
        return lists;
    }

    sealed record NeighbourList(string Sku, List<string> Neighbours, List<double> Scores);

    async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, Dictionary<string, bool> written, CancellationToken ct)
    {
        // The lists that hold the item, with its score in each as its vectors are now (null: gone or of another model set).
        var holders = new List<(NeighbourList List, double? Score)>();
        await using (var command = new NpgsqlCommand("""
            SELECT l.sku, l.neighbours, l.scores, 1 - (y.embedding <=> x.embedding) AS score
            FROM similar_lists l JOIN items y ON y.sku = l.sku LEFT JOIN items x ON x.sku = $1 AND x.fingerprint = $2
            WHERE l.neighbours @> ARRAY[$1]::text[] AND l.sku <> $1
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = sku });
            command.Parameters.Add(new() { Value = models.Live.Fingerprint });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                holders.Add((ReadList(reader), reader.IsDBNull(3) ? null : reader.GetDouble(3)));
        }
        var changed = new List<NeighbourList>();
        var recompute = new List<string>();
        foreach (var (list, score) in holders)
        {
            var at = list.Neighbours.IndexOf(sku);
            list.Neighbours.RemoveAt(at);
            list.Scores.RemoveAt(at);
            if (score is { } s && (list.Neighbours.Count == 0 || Precedes(s, sku, list.Scores[^1], list.Neighbours[^1])))
                Insert(list, sku, s);
            else if (!LongEnough(list))
            {
                recompute.Add(list.Sku);
                continue;
            }
            changed.Add(list);
        }
        await WriteAsync(connection, transaction, changed, ct);
        foreach (var holder in recompute)
            await ComputeAsync(connection, transaction, holder, written, ct);

        // The rule finds the lists an item enters from its own neighbours; looking ReachFactor times further than
        // the list also finds most lists of outliers, whose nearest items are far (recall 0.989 with the list alone, measured).
        var own = await ComputeAsync(connection, transaction, sku, written, ct, reach: ReachFactor * Size);
        if (own is null)
            return; // no item of the live model set: nothing more to place
        var neighbours = await ReadListsAsync(connection, transaction, own.Neighbours, ct);
        changed.Clear();
        recompute.Clear();
        for (var i = 0; i < own.Neighbours.Count; i++)
        {
            if (!neighbours.TryGetValue(own.Neighbours[i], out var list) || list.Neighbours.Contains(sku))
                continue;
            // A tie with the last goes by SKU, as the lists are computed (an item stored twice has the same vectors twice).
            if (list.Neighbours.Count == 0 || Precedes(own.Scores[i], sku, list.Scores[^1], list.Neighbours[^1]))
            {
                Insert(list, sku, own.Scores[i]);
                changed.Add(list);
            }
            // Shorter than the list size: a catalog smaller than it, whose lists hold every item, X too (or a list that
            // lost items in this round). Where X goes past the last is not known from the list: it is computed again.
            else if (list.Neighbours.Count < Size)
                recompute.Add(list.Sku);
        }
        await WriteAsync(connection, transaction, changed, ct);
        foreach (var list in recompute)
            await ComputeAsync(connection, transaction, list, written, ct);
    }

    /// <summary>
    /// Whether a list that an item has just left, past its last, may stay as it is: still the exact top of what it holds, and
    /// no shorter than the list size. Otherwise it is computed again.
    /// </summary>
    bool LongEnough(NeighbourList list) => list.Neighbours.Count >= Size;

    async Task RefillHoldersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, Dictionary<string, bool> written, CancellationToken ct)
    {
        await using (var drop = new NpgsqlCommand("DELETE FROM similar_lists WHERE sku = $1 AND NOT EXISTS (SELECT 1 FROM items WHERE sku = $1)", connection, transaction))
        {
            drop.Parameters.Add(new() { Value = sku });
            if (await drop.ExecuteNonQueryAsync(ct) > 0)
                written[sku] = false;
        }
        var holders = new List<NeighbourList>();
        await using (var command = new NpgsqlCommand("SELECT sku, neighbours, scores FROM similar_lists WHERE neighbours @> ARRAY[$1]::text[] FOR UPDATE", connection, transaction))
        {
            command.Parameters.Add(new() { Value = sku });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                holders.Add(ReadList(reader));
        }
        var kept = new List<NeighbourList>();
        foreach (var list in holders)
        {
            var at = list.Neighbours.IndexOf(sku);
            list.Neighbours.RemoveAt(at);
            list.Scores.RemoveAt(at);
            if (LongEnough(list))
                kept.Add(list);
            else
                await ComputeAsync(connection, transaction, list.Sku, written, ct);
        }
        await WriteAsync(connection, transaction, kept, ct);
    }

    /// <summary>
    /// An item's list from the index, re-ranked by exact cosine, written; null when
    /// there is no such item of the live model set. With <paramref name="reach"/> above the list's size, the nearest
    /// <paramref name="reach"/> items come back (the list is their first N): the items whose lists the item may enter.
    /// </summary>
    async Task<NeighbourList?> ComputeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, Dictionary<string, bool> written, CancellationToken ct, int? reach = null)
    {
        var order = $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})";
        var wanted = reach ?? Capacity;
        NeighbourList? near = null;
        await using (var command = new NpgsqlCommand($"""
            WITH q AS (SELECT embedding AS e FROM items WHERE sku = $1 AND fingerprint = $2)
            SELECT EXISTS (SELECT 1 FROM q), coalesce(array_agg(sku ORDER BY score DESC, sku), ARRAY[]::text[]), coalesce(array_agg(score ORDER BY score DESC, sku), ARRAY[]::float8[])
            FROM (
                SELECT sku, 1 - (embedding <=> (SELECT e FROM q)) AS score
                FROM (SELECT sku, embedding FROM items WHERE fingerprint = $2 AND sku <> $1 AND {index.Predicate} ORDER BY {order} LIMIT $3) candidates
                WHERE EXISTS (SELECT 1 FROM q)
                ORDER BY score DESC, sku LIMIT $4) top
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = sku });
            command.Parameters.Add(new() { Value = models.Live.Fingerprint });
            command.Parameters.Add(new() { Value = 2 * wanted }); // candidates re-ranked exactly: twice those kept
            command.Parameters.Add(new() { Value = wanted });
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            if (reader.GetBoolean(0))
                near = new NeighbourList(sku, [.. reader.GetFieldValue<string[]>(1)], [.. reader.GetFieldValue<double[]>(2)]);
        }
        if (near is null)
            return null;
        await using var write = new NpgsqlCommand("""
            INSERT INTO similar_lists (sku, fingerprint, neighbours, scores) VALUES ($1, $2, $3, $4)
            ON CONFLICT (sku) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, neighbours = EXCLUDED.neighbours, scores = EXCLUDED.scores, computed_at = now()
            """, connection, transaction);
        write.Parameters.Add(new() { Value = sku });
        write.Parameters.Add(new() { Value = models.Live.Fingerprint });
        write.Parameters.Add(new() { Value = near.Neighbours.Take(Capacity).ToArray() });
        write.Parameters.Add(new() { Value = near.Scores.Take(Capacity).ToArray() });
        await write.ExecuteNonQueryAsync(ct);
        written[sku] = true;
        return near;
    }

    static async Task<Dictionary<string, NeighbourList>> ReadListsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> skus, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT sku, neighbours, scores FROM similar_lists WHERE sku = ANY($1) FOR UPDATE", connection, transaction);
        command.Parameters.Add(new() { Value = skus.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var lists = new Dictionary<string, NeighbourList>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var list = ReadList(reader);
            lists[list.Sku] = list;
        }
        return lists;
    }

    static NeighbourList ReadList(NpgsqlDataReader reader) =>
        new(reader.GetString(0), [.. reader.GetFieldValue<string[]>(1)], [.. reader.GetFieldValue<double[]>(2)]);

    /// <summary>Whether an item comes before another in a list: by score, ties by SKU.</summary>
    static bool Precedes(double score, string sku, double otherScore, string otherSku) =>
        score > otherScore || (score == otherScore && string.CompareOrdinal(sku, otherSku) < 0);

    /// <summary>Puts <paramref name="sku"/> in its place by score (ties by SKU, as the lists are computed), keeping at most <see cref="Capacity"/>.</summary>
    void Insert(NeighbourList list, string sku, double score)
    {
        var at = 0;
        while (at < list.Scores.Count && Precedes(list.Scores[at], list.Neighbours[at], score, sku))
            at++;
        list.Neighbours.Insert(at, sku);
        list.Scores.Insert(at, score);
        if (list.Neighbours.Count > Capacity)
        {
            list.Neighbours.RemoveAt(Capacity);
            list.Scores.RemoveAt(Capacity);
        }
    }

    static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<NeighbourList> lists, CancellationToken ct)
    {
        if (lists.Count == 0)
            return;
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var list in lists)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE similar_lists SET neighbours = $2, scores = $3, computed_at = now() WHERE sku = $1")
            {
                Parameters = { new() { Value = list.Sku }, new() { Value = list.Neighbours.ToArray() }, new() { Value = list.Scores.ToArray() } },
            });
        }
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>/health/ready: Degraded while rounds fail (the lists lag; /similar answers live), Unhealthy when the loop stopped.</summary>
    public sealed class HealthCheck(SimilarLists lists) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lists._stopped ? HealthCheckResult.Unhealthy("The neighbour-list worker stopped; see the log.")
                : lists._lastRoundFailed ? HealthCheckResult.Degraded("The last neighbour-list round failed; /similar answers by search until one succeeds.")
                : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A neighbour-list round failed; its items stay queued")]
    partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The neighbour-list worker stopped")]
    partial void LogStopped(Exception exception);
}
