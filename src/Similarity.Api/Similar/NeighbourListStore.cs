using Npgsql;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// The neighbour lists' tables (<c>similar_lists</c>, <c>similar_list_queue</c>, <c>similar_lists_state</c>): every
/// statement of the list worker, each written once. All but the bulk search run in the round's transaction.
/// </summary>
public sealed class NeighbourListStore(NpgsqlDataSource dataSource, CatalogIndex index)
{
    /// <summary>One queued change: the item, whether it was deleted, when it was queued, and its version (the row's xmin).</summary>
    public sealed record QueuedChange(string Sku, bool Deleted, DateTime QueuedAt, string Version);

    /// <summary>Locks the lists' state row (rounds run one at a time) and returns the revision this round will commit.</summary>
    public static async Task<long> NextRoundAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var command = Command("SELECT revision + 1 FROM similar_lists_state FOR UPDATE", tx);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public static async Task CommitRoundAsync(NpgsqlTransaction tx, long round, CancellationToken ct)
    {
        await using var command = Command("UPDATE similar_lists_state SET revision = $1", tx, round);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The SKU of every stored list.</summary>
    public static async Task<List<string>> StoredListsAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var command = Command("SELECT sku FROM similar_lists", tx);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var skus = new List<string>();
        while (await reader.ReadAsync(ct))
            skus.Add(reader.GetString(0));
        return skus;
    }

    /// <summary>Every queued item and its change's version.</summary>
    public static async Task<List<(string Sku, string Version)>> QueueAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var command = Command("SELECT sku, xmin::text AS version FROM similar_list_queue", tx);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var queue = new List<(string, string)>();
        while (await reader.ReadAsync(ct))
            queue.Add((reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("version"))));
        return queue;
    }

    /// <summary>The oldest <paramref name="count"/> queued changes that no other round holds, locked until this one ends.</summary>
    public static async Task<List<QueuedChange>> ClaimAsync(NpgsqlTransaction tx, int count, CancellationToken ct)
    {
        await using var command = Command("""
            SELECT sku, deleted, queued_at, xmin::text AS version FROM similar_list_queue ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, tx, count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var claimed = new List<QueuedChange>();
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(new QueuedChange(reader.GetString(reader.GetOrdinal("sku")), reader.GetBoolean(reader.GetOrdinal("deleted")),
                reader.GetDateTime(reader.GetOrdinal("queued_at")), reader.GetString(reader.GetOrdinal("version"))));
        }
        return claimed;
    }

    public static async Task DequeueAsync(NpgsqlTransaction tx, IEnumerable<string> skus, CancellationToken ct)
    {
        await using var command = Command("DELETE FROM similar_list_queue WHERE sku = ANY($1)", tx, (object)skus.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Sets the breadth of every index search in the round's transaction.</summary>
    public static async Task SetSearchBreadthAsync(NpgsqlTransaction tx, int breadth, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx) { BatchCommands = { SearchBreadth.Command(breadth) } };
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// An item's nearest <paramref name="wanted"/> items of the live set from the index, re-ranked by exact cosine (twice
    /// as many candidates as kept); null when there is no such item of the live model set.
    /// </summary>
    public async Task<NeighbourList?> SearchAsync(NpgsqlTransaction tx, string sku, string fingerprint, int wanted, CancellationToken ct)
    {
        var order = $"{index.Expression} <=> (SELECT e FROM q)::halfvec({index.Dimension})";
        await using var command = Command($"""
            WITH q AS (SELECT embedding AS e FROM items WHERE sku = $1 AND fingerprint = $2)
            SELECT EXISTS (SELECT 1 FROM q) AS found, $1 AS sku,
                   coalesce(array_agg(sku ORDER BY score DESC, sku), ARRAY[]::text[]) AS neighbours,
                   coalesce(array_agg(score ORDER BY score DESC, sku), ARRAY[]::float8[]) AS scores
            FROM (
                SELECT sku, 1 - (embedding <=> (SELECT e FROM q)) AS score
                FROM (SELECT sku, embedding FROM items WHERE fingerprint = $2 AND sku <> $1 AND {index.Predicate} ORDER BY {order} LIMIT $3) candidates
                WHERE EXISTS (SELECT 1 FROM q)
                ORDER BY score DESC, sku LIMIT $4) top
            """, tx, sku, fingerprint, 2 * wanted, wanted);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetBoolean(reader.GetOrdinal("found")) ? ReadList(reader) : null;
    }

    /// <summary>
    /// The lists of <paramref name="skus"/> as <see cref="SearchAsync"/> finds them, in one statement (a LATERAL join over
    /// the index), on a connection of its own: it reads the catalog as committed by then. Items gone or of another set get none.
    /// </summary>
    public async Task<List<NeighbourList>> SearchManyAsync(string[] skus, string fingerprint, int wanted, int breadth, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(SearchBreadth.Command(breadth));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
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
            """) { Parameters = { new() { Value = skus }, new() { Value = fingerprint }, new() { Value = 2 * wanted }, new() { Value = wanted } } });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        var lists = new List<NeighbourList>();
        while (await reader.ReadAsync(ct))
            lists.Add(ReadList(reader));
        return lists;
    }

    /// <summary>Stores freshly computed lists (at most <paramref name="capacity"/> neighbours each) as of the live set.</summary>
    public static async Task StoreAsync(NpgsqlTransaction tx, IReadOnlyList<NeighbourList> lists, string fingerprint, int capacity, CancellationToken ct)
    {
        if (lists.Count == 0)
            return;
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        foreach (var list in lists)
        {
            batch.BatchCommands.Add(BatchCommand("""
                INSERT INTO similar_lists (sku, fingerprint, neighbours, scores) VALUES ($1, $2, $3, $4)
                ON CONFLICT (sku) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, neighbours = EXCLUDED.neighbours, scores = EXCLUDED.scores, computed_at = now()
                """, list.Sku, fingerprint, list.Neighbours.Take(capacity).ToArray(), list.Scores.Take(capacity).ToArray()));
        }
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Writes back lists this round changed in place.</summary>
    public static async Task UpdateAsync(NpgsqlTransaction tx, IReadOnlyList<NeighbourList> lists, CancellationToken ct)
    {
        if (lists.Count == 0)
            return;
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        foreach (var list in lists)
        {
            batch.BatchCommands.Add(BatchCommand("UPDATE similar_lists SET neighbours = $2, scores = $3, computed_at = now() WHERE sku = $1",
                list.Sku, list.Neighbours.ToArray(), list.Scores.ToArray()));
        }
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The stored lists of <paramref name="skus"/>, locked until the round ends.</summary>
    public static async Task<Dictionary<string, NeighbourList>> ReadAsync(NpgsqlTransaction tx, IEnumerable<string> skus, CancellationToken ct)
    {
        await using var command = Command("SELECT sku, neighbours, scores FROM similar_lists WHERE sku = ANY($1) FOR UPDATE", tx, (object)skus.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        var lists = new Dictionary<string, NeighbourList>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var list = ReadList(reader);
            lists[list.Sku] = list;
        }
        return lists;
    }

    /// <summary>The other lists that hold <paramref name="sku"/>, each with the item's score as its vectors are now (null: gone or of another set).</summary>
    public static async Task<List<(NeighbourList List, double? Score)>> HoldersAsync(NpgsqlTransaction tx, string sku, string fingerprint, CancellationToken ct)
    {
        await using var command = Command("""
            SELECT l.sku, l.neighbours, l.scores, 1 - (y.embedding <=> x.embedding) AS score
            FROM similar_lists l JOIN items y ON y.sku = l.sku LEFT JOIN items x ON x.sku = $1 AND x.fingerprint = $2
            WHERE l.neighbours @> ARRAY[$1]::text[] AND l.sku <> $1
            """, tx, sku, fingerprint);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var holders = new List<(NeighbourList, double?)>();
        var score = reader.GetOrdinal("score");
        while (await reader.ReadAsync(ct))
            holders.Add((ReadList(reader), reader.IsDBNull(score) ? null : reader.GetDouble(score)));
        return holders;
    }

    /// <summary>The lists that hold a deleted item, locked until the round ends.</summary>
    public static async Task<List<NeighbourList>> HoldersOfDeletedAsync(NpgsqlTransaction tx, string sku, CancellationToken ct)
    {
        await using var command = Command("SELECT sku, neighbours, scores FROM similar_lists WHERE neighbours @> ARRAY[$1]::text[] FOR UPDATE", tx, sku);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var holders = new List<NeighbourList>();
        while (await reader.ReadAsync(ct))
            holders.Add(ReadList(reader));
        return holders;
    }

    /// <summary>Drops a deleted item's own list; false when the item exists again (its list stays, to be computed).</summary>
    public static async Task<bool> DropDeletedAsync(NpgsqlTransaction tx, string sku, CancellationToken ct)
    {
        await using var command = Command("DELETE FROM similar_lists WHERE sku = $1 AND NOT EXISTS (SELECT 1 FROM items WHERE sku = $1)", tx, sku);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Every list goes and every item is queued: the lists are made again under a model set that goes live.</summary>
    public static async Task InvalidateAllAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx)
        {
            BatchCommands =
            {
                new("DELETE FROM similar_lists"),
                new("INSERT INTO similar_list_queue (sku, deleted) SELECT sku, false FROM items ON CONFLICT (sku) DO NOTHING"),
            },
        };
        await batch.ExecuteNonQueryAsync(ct);
    }

    static NeighbourList ReadList(NpgsqlDataReader reader) =>
        new(reader.GetString(reader.GetOrdinal("sku")), reader.GetFieldValue<string[]>(reader.GetOrdinal("neighbours")),
            reader.GetFieldValue<double[]>(reader.GetOrdinal("scores")));

    /// <summary>A statement of the round's transaction with positional values; an array value is passed as <c>(object)</c>, one parameter.</summary>
    static NpgsqlCommand Command(string sql, NpgsqlTransaction tx, params object[] values)
    {
        var command = new NpgsqlCommand(sql, tx.Connection, tx);
        foreach (var value in values)
            command.Parameters.Add(new() { Value = value });
        return command;
    }

    static NpgsqlBatchCommand BatchCommand(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(new() { Value = value });
        return command;
    }
}
