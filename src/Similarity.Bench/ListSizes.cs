using Npgsql;

namespace Similarity.Bench;

/// <summary>What the neighbour lists cost on disk (bytes), beside the items table, and how many there are.</summary>
public sealed record ListSizes(long Total, long Heap, long Indexes, long Toast, long Queue, long Items, long Count)
{
    public static async Task<ListSizes> ReadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT pg_total_relation_size('similar_lists') AS total, pg_relation_size('similar_lists') AS heap,
                   pg_indexes_size('similar_lists') AS indexes, pg_total_relation_size(reltoastrelid) AS toast,
                   pg_total_relation_size('similar_list_queue') AS queue, pg_total_relation_size('items') AS items,
                   (SELECT count(*) FROM similar_lists) AS count
            FROM pg_class WHERE oid = 'similar_lists'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        long Read(string name) => reader.GetInt64(reader.GetOrdinal(name));
        return new ListSizes(Read("total"), Read("heap"), Read("indexes"), Read("toast"), Read("queue"), Read("items"), Read("count"));
    }

    public string Describe() =>
        $"{Stats.Mib(Total)}: heap {Stats.Mib(Heap)}, GIN and primary key {Stats.Mib(Indexes)}, TOAST {Stats.Mib(Toast)}; queue {Stats.Mib(Queue)}; items for comparison {Stats.Mib(Items)}";
}
