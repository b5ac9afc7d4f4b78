using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Catalog;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// Keeps each item's precomputed neighbour list (its top <see cref="SearchOptions.ListSize"/> by fused cosine) true as
/// the catalog changes. The items table's trigger queues every item whose vectors changed and every deleted one;
/// a round takes a few queued items and, in one transaction:
/// <list type="bullet">
/// <item>an upserted item X: the lists that hold X get X's new score (a list whose others all still beat X is
/// re-sorted; one where X may have fallen out is computed again), X's own list is computed by the index, and X goes
/// into the list of each of its neighbours whose last score it beats (the rule: found from X's own list);</item>
/// <item>a deleted item: its own list goes, and every list that held it is computed again (refilled).</item>
/// </list>
/// Each round bumps the lists' revision, which /similar's ETags include, so they follow the lists. Written by hand: no library keeps
/// k-nearest-neighbour lists of a pgvector table.
/// </summary>
public sealed partial class SimilarLists(NpgsqlDataSource dataSource, CatalogIndex index, ModelSets models, IOptions<SearchOptions> options,
    SimilarityMetrics metrics, ILogger<SimilarLists> logger) : BackgroundService
{
    const int ItemsPerRound = 16, ReachFactor = 4;
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200), RetryInterval = TimeSpan.FromSeconds(2);

    volatile bool _lastRoundFailed;
    volatile bool _stopped;

    int Size => options.Value.ListSize;

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

    /// <summary>One round: up to <see cref="ItemsPerRound"/> queued items applied in one transaction. Returns how many.</summary>
    async Task<int> RunRoundAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var claimed = new List<(string Sku, bool Deleted, DateTime QueuedAt)>();
        await using (var claim = new NpgsqlCommand("""
            DELETE FROM similar_list_queue WHERE sku IN (
                SELECT sku FROM similar_list_queue ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING sku, deleted, queued_at
            """, connection, transaction))
        {
            claim.Parameters.Add(new() { Value = ItemsPerRound });
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                claimed.Add((reader.GetString(0), reader.GetBoolean(1), reader.GetDateTime(2)));
        }
        if (claimed.Count == 0)
            return 0;

        // The breadth of every list search in this transaction: at least twice the list (re-ranked exactly to its length).
        // Rounds run only once the index is valid (ExecuteAsync), and it stays valid.
        await using (var settings = new NpgsqlCommand(
            "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)", connection, transaction))
        {
            settings.Parameters.Add(new() { Value = Math.Max(options.Value.EfSearch, 2 * Size).ToString(CultureInfo.InvariantCulture) });
            await settings.ExecuteNonQueryAsync(ct);
        }
        foreach (var (sku, deleted, _) in claimed)
        {
            if (deleted)
                await RefillHoldersAsync(connection, transaction, sku, ct);
            else
                await UpsertAsync(connection, transaction, sku, ct);
        }
        await using (var bump = new NpgsqlCommand("UPDATE similar_lists_state SET revision = revision + 1", connection, transaction))
            await bump.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        var committed = DateTime.UtcNow;
        foreach (var (_, _, queuedAt) in claimed)
            metrics.ListFreshness.Record(Math.Max(0, (committed - queuedAt.ToUniversalTime()).TotalSeconds));
        return claimed.Count;
    }

    sealed record NeighbourList(string Sku, List<string> Neighbours, List<double> Scores);

    async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, CancellationToken ct)
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
            // The others of a full list all beat X's new score: X may have left the true top N, and another item taken its place.
            if (score is not { } s || (list.Neighbours.Count == Size - 1 && s < list.Scores[^1]))
                recompute.Add(list.Sku);
            else
            {
                Insert(list, sku, s);
                changed.Add(list);
            }
        }
        await WriteAsync(connection, transaction, changed, ct);
        foreach (var holder in recompute)
            await ComputeAsync(connection, transaction, holder, ct);

        // The rule finds the lists an item enters from its own neighbours; looking ReachFactor times further than
        // the list also finds most lists of outliers, whose nearest items are far (recall 0.989 with the list alone, measured).
        var own = await ComputeAsync(connection, transaction, sku, ct, reach: ReachFactor * Size);
        if (own is null)
            return; // no item of the live model set: nothing more to place
        var neighbours = await ReadListsAsync(connection, transaction, own.Neighbours, ct);
        changed.Clear();
        for (var i = 0; i < own.Neighbours.Count; i++)
        {
            if (!neighbours.TryGetValue(own.Neighbours[i], out var list) || list.Neighbours.Contains(sku))
                continue;
            if (list.Neighbours.Count < Size || own.Scores[i] > list.Scores[^1])
            {
                Insert(list, sku, own.Scores[i]);
                changed.Add(list);
            }
        }
        await WriteAsync(connection, transaction, changed, ct);
    }

    async Task RefillHoldersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, CancellationToken ct)
    {
        await using (var drop = new NpgsqlCommand("DELETE FROM similar_lists WHERE sku = $1 AND NOT EXISTS (SELECT 1 FROM items WHERE sku = $1)", connection, transaction))
        {
            drop.Parameters.Add(new() { Value = sku });
            await drop.ExecuteNonQueryAsync(ct);
        }
        var holders = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT sku FROM similar_lists WHERE neighbours @> ARRAY[$1]::text[]", connection, transaction))
        {
            command.Parameters.Add(new() { Value = sku });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                holders.Add(reader.GetString(0));
        }
        foreach (var holder in holders)
            await ComputeAsync(connection, transaction, holder, ct);
    }

    /// <summary>
    /// An item's list from the index, re-ranked by exact cosine, written; null when
    /// there is no such item of the live model set. With <paramref name="reach"/> above the list's size, the nearest
    /// <paramref name="reach"/> items come back (the list is their first N): the items whose lists the item may enter.
    /// </summary>
    async Task<NeighbourList?> ComputeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sku, CancellationToken ct, int? reach = null)
    {
        var order = $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})";
        var wanted = reach ?? Size;
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
        write.Parameters.Add(new() { Value = near.Neighbours.Take(Size).ToArray() });
        write.Parameters.Add(new() { Value = near.Scores.Take(Size).ToArray() });
        await write.ExecuteNonQueryAsync(ct);
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

    /// <summary>Puts <paramref name="sku"/> in its place by score (ties by SKU, as the lists are computed), keeping at most the list's size.</summary>
    void Insert(NeighbourList list, string sku, double score)
    {
        var at = 0;
        while (at < list.Scores.Count && (list.Scores[at] > score || (list.Scores[at] == score && string.CompareOrdinal(list.Neighbours[at], sku) < 0)))
            at++;
        list.Neighbours.Insert(at, sku);
        list.Scores.Insert(at, score);
        if (list.Neighbours.Count > Size)
        {
            list.Neighbours.RemoveAt(Size);
            list.Scores.RemoveAt(Size);
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
