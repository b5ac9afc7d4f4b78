using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// <c>./similarity.sh bench ha</c>: two service processes over the pg_auto_failover formation, /similar load on both
/// and one PUT writer, through three phases — steady state, a planned switchover (<c>db ha failover</c>), and the
/// primary's node killed with SIGKILL. Per phase: /similar success, the answers a standby served (the
/// <c>X-Served-By</c> header, where the service sets it), write unavailability (the longest time between two
/// acknowledged PUTs) and, at the end, every acknowledged PUT looked up: lost or duplicated ones are counted.
/// </summary>
public static class HaRun
{
    const string Database = "bench_ha";

    public static async Task<int> RunAsync(string[] rawArgs)
    {
        var args = BenchArgs.Parse(rawArgs);
        if (args.Has("sizes"))
            return await HaSizes.RunAsync(args);
        var place = new BenchPlace();
        var formation = new HaFormationView(place);
        var items = args.GetInt("items", 2000);
        var seconds = args.GetInt("seconds", 20);
        var readers = args.GetInt("readers", 4);

        await place.RecreateAsync(Database);
        var connection = place.ConnectionString(Database);
        await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS vector");
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("items", items), ("manifest", place.Manifest("tiny")), ("connection", connection)));
        var spool = place.Work("bench-ha-spool");
        var settings = new Dictionary<string, string> { ["Similarity:Imports:SpoolPath"] = spool };
        await using var first = await ServiceProcess.StartAsync(place, connection, place.Manifest("tiny"), "http://127.0.0.1:18461", "bench-ha-1.log", settings);
        await using var second = await ServiceProcess.StartAsync(place, connection, place.Manifest("tiny"), "http://127.0.0.1:18462", "bench-ha-2.log", settings);

        var load = new HaLoad([first.Url, second.Url], items, readers);
        var running = load.RunAsync();
        var phases = new List<HaPhase>();

        phases.Add(load.Begin("steady state"));
        await Task.Delay(TimeSpan.FromSeconds(seconds));

        phases.Add(load.Begin("planned switchover (db ha failover)"));
        var switchover = await formation.ScriptAsync("failover");
        Console.Error.WriteLine(switchover.Trim());
        await load.WaitForWritesAsync(3, TimeSpan.FromSeconds(60));

        phases.Add(load.Begin("primary's node killed (SIGKILL)"));
        var old = await formation.PrimaryAsync() ?? throw new InvalidOperationException("no primary to kill");
        var killedAt = Stopwatch.GetTimestamp();
        await formation.KillNodeAsync(old);
        var promoted = await formation.WaitForPrimaryOtherThanAsync(old, TimeSpan.FromMinutes(3));
        var promotedAfter = Stopwatch.GetElapsedTime(killedAt);
        await load.WaitForWritesAsync(10, TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(5));
        load.Begin("after");
        await load.StopAsync(running);
        var waits = await ConsistencyWaits.ReadAsync([first.Url, second.Url]);

        Console.WriteLine($"## bench ha ({items} items, tiny models, {readers} /similar readers per instance, 2 instances, {seconds} s steady state)");
        Console.WriteLine();
        Console.WriteLine("| phase | seconds | /similar answers | success | served by a standby | write unavailability (longest gap between acknowledged PUTs) | PUTs acknowledged | own writes read back (admin, with the token; a failed read is neither) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var phase in phases)
            Console.WriteLine(phase.Row());
        Console.WriteLine();

        await formation.ScriptAsync("start"); // the killed node rejoins as a standby
        NpgsqlConnection.ClearAllPools(); // pooled sessions of the nodes that changed roles were ended (57P01)
        var rejoined = await formation.PrimaryAsync();
        var acknowledged = load.Acknowledged;
        var found = (long)(await ScalarAsync(connection, "SELECT count(*) FROM items WHERE sku = ANY($1)", new object[] { acknowledged.ToArray() }))!;
        var rows = (long)(await ScalarAsync(connection, "SELECT count(*) FROM items WHERE sku LIKE 'ha-put-%'"))!;
        Console.WriteLine($"- {old} killed; the monitor promoted {promoted} after {promotedAfter.TotalSeconds:F1} s; after `db ha start` the primary is {rejoined} and {old} a standby again.");
        // The sku is the items table's key, so no PUT can be stored twice; a PUT whose answer was lost may be stored.
        Console.WriteLine($"- acknowledged PUTs: {acknowledged.Count}; found after: {found} (lost: {acknowledged.Count - found}); rows the PUT loop left: {rows} ({rows - found} stored without an acknowledgement reaching the client).");
        Console.WriteLine($"- {switchover.Trim()} (`db ha failover`).");
        Console.WriteLine($"- read-your-writes waits (both instances' `similarity.database.consistency_wait` histogram): {waits}");
        return 0;
    }

    static async Task ExecuteAsync(string connectionString, string sql) => await ScalarAsync(connectionString, sql);

    static async Task<object?> ScalarAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new() { Value = parameter });
        return await command.ExecuteScalarAsync();
    }

    internal static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
}
