using System.Diagnostics;
using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// <c>./similarity.sh bench ha --sizes [--items N] [--set clipart]</c>: the per-item figures docs/scaling.md plans
/// from — the items table's and the HNSW index's bytes per item (<c>pg_relation_size</c>) on a catalog seeded like
/// <c>bench similar</c>'s at the set's dimensions, and the index build rate: the service builds its index at start,
/// then the same index is rebuilt alone (<c>REINDEX INDEX</c>, the service's own definition) and timed.
/// </summary>
public static class HaSizes
{
    const string Database = "bench_ha_sizes";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var place = new BenchPlace();
        var items = args.GetInt("items", 20_000);
        var set = args.Get("set", "clipart");
        var connection = place.ConnectionString(Database);
        await place.RecreateAsync(Database);
        await ScalarAsync(connection, "CREATE EXTENSION IF NOT EXISTS vector");
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("items", items), ("manifest", place.Manifest(set)), ("connection", connection)));
        await using (await ServiceProcess.StartAsync(place, connection, place.Manifest(set), "http://127.0.0.1:18463", "bench-ha-sizes.log"))
        {
            // Healthy: the service's HNSW index on the live set's fused vectors is built and valid.
        }

        var index = (string)(await ScalarAsync(connection, """
            SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'items'::regclass AND indexrelid::regclass::text LIKE 'items_hnsw_%'
            """))!;
        var definition = (string)(await ScalarAsync(connection, $"SELECT pg_get_indexdef('{index}'::regclass)"))!;
        var clock = Stopwatch.StartNew();
        await ScalarAsync(connection, $"REINDEX INDEX {index}");
        var build = clock.Elapsed;

        var heap = (long)(await ScalarAsync(connection, "SELECT pg_relation_size('items')"))!;
        var total = (long)(await ScalarAsync(connection, "SELECT pg_total_relation_size('items')"))!;
        var hnsw = (long)(await ScalarAsync(connection, $"SELECT pg_relation_size('{index}'::regclass)"))!;
        var memory = (string)(await ScalarAsync(connection, "SHOW maintenance_work_mem"))!;
        var primaryOnly = await ScalarAsync(connection, "SELECT count(*) FROM pg_stat_replication") is long standbys && standbys > 0
            ? $"on the formation's primary, {standbys} standbys streaming" : "on a single node";

        Console.WriteLine($"## bench ha --sizes ({items} seeded items, set {set}, {primaryOnly})");
        Console.WriteLine();
        Console.WriteLine("| figure | total | per item |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| items table (heap, `pg_relation_size`) | {heap / 1048576.0:F1} MiB | {heap / (double)items:F0} bytes |");
        Console.WriteLine($"| items with its TOAST and every index (`pg_total_relation_size`) | {total / 1048576.0:F1} MiB | {total / (double)items:F0} bytes |");
        Console.WriteLine($"| HNSW index `{index}` | {hnsw / 1048576.0:F1} MiB | {hnsw / (double)items:F0} bytes |");
        Console.WriteLine($"| HNSW build alone (`REINDEX INDEX`, maintenance_work_mem {memory}) | {build.TotalSeconds:F1} s | {items / build.TotalSeconds:F0} items/s |");
        Console.WriteLine();
        Console.WriteLine($"- index: `{definition}`");
        await place.DropAsync(Database);
        return 0;
    }

    static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return await command.ExecuteScalarAsync();
    }
}
