using System.Text;
using Similarity.Feedback;

namespace Similarity.Bench;

/// <summary>
/// <c>bench similar</c>: /similar under load against a seeded catalog, in one run: the precomputed path (each item's
/// neighbour list; the service's worker builds the lists first, timed), the live path (a service with ListSize=0),
/// the plain pgvector query (the baseline) and the service's own search in-process; recall@10 of both paths against an
/// exact scan, the lists' recall@100, their disk and memory, and their freshness under a stream of upserts. Many short
/// rounds measure every path back to back and the summary takes the median round (the machine's speed drifts). The
/// blend's cost is measured the same way: each round also asks both services for content alone (<c>blend=0</c>) while
/// every item has co-engaged items (<see cref="CoEngagedPerItem"/>, written for the rounds only).
/// </summary>
public static class SimilarRun
{
    const int Connections = 16;

    /// <summary>Co-engaged items given to every item during the rounds: a blended page then reads and ranks that many more candidates.</summary>
    const int CoEngagedPerItem = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "similar", "items", "seconds", "warmup", "rounds", "stream", "served-log", "put");
        var (items, seconds, warmup, rounds, stream) = (o.GetInt("items", 100_000), o.GetInt("seconds", 10), o.GetInt("warmup", 60), o.GetInt("rounds", 7), o.GetInt("stream", 20));
        // --served-log off: the services record no served list (ServedShare 0), to measure what the record costs.
        // The loop's rebuild replaces the co-engagement from the events (none here): once a day, not during the rounds.
        var servedLog = new Dictionary<string, string> { ["Similarity:Feedback:RebuildPeriod"] = "1.00:00:00" };
        servedLog["Similarity:Feedback:ServedShare"] = o.Get("served-log", "on") switch
        {
            "on" => "1",
            "off" => "0",
            var other => throw new ArgumentException($"bench similar: --served-log takes on or off, not '{other}'"),
        };
        var place = new BenchPlace();
        var db = $"similarity_bench_{items}";
        await place.EnsureAsync(db);
        var cs = place.ConnectionString(db, maxPoolSize: 64);
        var manifest = place.Manifest("full");
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("connection", cs), ("manifest", manifest), ("items", items)));

        // The precomputed path's service (ListSize 100, the default) first, alone: its worker builds whatever lists are missing.
        await using var listed = await ServiceProcess.StartAsync(place, cs, manifest, "http://127.0.0.1:18092", "bench-similar-listed-api.log", servedLog);
        var queued = await place.ScalarAsync<long>(db, "SELECT count(*) FROM similar_list_queue");
        var listsBefore = await place.ScalarAsync<long>(db, "SELECT count(*) FROM similar_lists");
        Console.Error.WriteLine($"the worker applies {queued} queued items ({listsBefore} lists stored)");
        var build = await place.ListsAppliedAsync(db, listed);
        // The live path's service: no lists are read, and its worker does nothing.
        await using var live = await ServiceProcess.StartAsync(place, cs, manifest, "http://127.0.0.1:18091", "bench-similar-live-api.log",
            new Dictionary<string, string>(servedLog) { ["Similarity:Search:ListSize"] = "0" });
        var dim = await place.ScalarAsync<int>(db, "SELECT vector_dims(embedding) FROM items LIMIT 1");
        // Recall is against content alone: no co-engagement until the rounds.
        await place.ExecuteAsync(db, "DELETE FROM co_engagement");

        Console.Error.WriteLine("recall@10 over 200 queries, each path; every answer's source checked");
        var recallListed = await SimilarBenchmark.MeasureRecallAsync(cs, listed.Url, items, 200, "precomputed", 100);
        var recallLive = await SimilarBenchmark.MeasureRecallAsync(cs, live.Url, items, 200, "live", 0);
        if ((recallListed.WrongSource ?? recallLive.WrongSource) is { } wrong)
            throw new InvalidOperationException($"bench similar: {wrong}");
        var sizes = await ListSizes.ReadAsync(place.ConnectionString(db));

        // Tiered JIT keeps compiling for the first minute under this load: a storefront runs for days, so the figures
        // are for the warmed-up services.
        Console.Error.WriteLine($"warm-up: {warmup} s on each service");
        var page = LoadLoop.Get(random => $"/similar/{SimilarBenchmark.Sku(random.Next(items))}?k=10");
        var contentOnly = LoadLoop.Get(random => $"/similar/{SimilarBenchmark.Sku(random.Next(items))}?k=10&blend=0");
        await LoadLoop.RunAsync(live.Url, page, Connections, TimeSpan.FromSeconds(warmup));
        await LoadLoop.RunAsync(listed.Url, page, Connections, TimeSpan.FromSeconds(warmup));
        var (rssListed, rssLive) = (listed.MemoryKib(), live.MemoryKib());

        await using var paths = await SimilarPaths.StartAsync(place, cs, manifest, items, dim);
        var oneSku = LoadLoop.Get(_ => $"/similar/{SimilarBenchmark.Sku(items / 2)}?k=10");
        var table = new Markdown("round", "live path", "precomputed path", "plain pgvector", "service's search in-process", "live / plain", "precomputed / plain", "service's search / plain");
        var blendTable = new Markdown("round", "live, blend 0", "precomputed, blend 0", "live: blended / blend 0", "precomputed: blended / blend 0");
        var latency = new Markdown("round", "live at half its peak", "precomputed at half its peak", "sample of 20 pages: precomputed answers, precomputed / live service") { TextColumns = [0, 3] };
        List<double> liveRatios = [], listedRatios = [], searchRatios = [], liveP99 = [], listedP99 = [], liveCpu = [], listedCpu = [];
        List<double> liveBlendRatios = [], listedBlendRatios = [];
        var length = TimeSpan.FromSeconds(seconds);
        var coEngaged = await place.ExecuteAsync(db, CoEngagementSql(CoEngagedPerItem));
        // As the loop's rebuild does after writing the pairs: the blended statements are planned on their statistics.
        await place.ExecuteAsync(db, "ANALYZE co_engagement");
        Console.Error.WriteLine($"{coEngaged} co-engaged pairs written for the rounds ({CoEngagedPerItem} per item)");
        for (var round = 1; round <= rounds; round++)
        {
            Console.Error.WriteLine($"round {round}/{rounds}: live, precomputed, plain pgvector, the service's search; both services at half their peak; {seconds} s each");
            var (liveRate, liveText, liveMicros) = await PeakAsync(live, page, length);
            var (listedRate, listedText, listedMicros) = await PeakAsync(listed, page, length);
            var (liveContentRate, liveContentText, _) = await PeakAsync(live, contentOnly, length);
            var (listedContentRate, listedContentText, _) = await PeakAsync(listed, contentOnly, length);
            liveCpu.Add(liveMicros); listedCpu.Add(listedMicros);
            liveBlendRatios.Add(liveRate / liveContentRate); listedBlendRatios.Add(listedRate / listedContentRate);
            blendTable.Add($"{round}", liveContentText, listedContentText, Stats.Ratio(liveRate, liveContentRate), Stats.Ratio(listedRate, listedContentRate));
            var plain = await paths.PlainQueriesPerSecondAsync(Connections, length);
            var search = await paths.ServiceSearchesPerSecondAsync(Connections, length);
            var liveHalf = await LoadLoop.RunAsync(live.Url, oneSku, 8, length, liveRate / 2 / 8);
            var listedHalf = await LoadLoop.RunAsync(listed.Url, oneSku, 8, length, listedRate / 2 / 8);
            var (onList, offList) = (await PrecomputedOfAsync(listed.Url, items), await PrecomputedOfAsync(live.Url, items));
            if (onList != 20 || offList != 0)
                throw new InvalidOperationException($"bench similar: round {round}: {onList}/20 precomputed answers from the lists' service, {offList}/20 from the live one");
            liveRatios.Add(liveRate / plain); listedRatios.Add(listedRate / plain); searchRatios.Add(search / plain);
            liveP99.Add(liveHalf.P(99)); listedP99.Add(listedHalf.P(99));
            table.Add($"{round}", liveText, listedText, $"{Stats.F(plain)} q/s", $"{Stats.F(search)} searches/s",
                Stats.Ratio(liveRate, plain), Stats.Ratio(listedRate, plain), Stats.Ratio(search, plain));
            latency.Add($"{round}", Half(liveHalf), Half(listedHalf), "20/20, 0/20");
        }
        await place.ExecuteAsync(db, "DELETE FROM co_engagement");
        // Last, so that what the worker has not applied by the end competes with nothing measured.
        Console.Error.WriteLine($"freshness: {stream} s of 20 upserts/s by SQL, each from its commit to its lists applied (up to 180 s after the stream)");
        var fresh = await SimilarBenchmark.MeasureFreshnessAsync(cs, items, 20, stream, 180, 0.3);
        // At the API: from each write's commit to the first /similar answer that shows it (the precomputed service).
        Console.Error.WriteLine($"freshness at the API: {stream} s of writes by SQL at 20/s, then at 200/s, then PUT/DELETE /items");
        var api20 = await SimilarFreshness.BySqlAsync(cs, listed.Url, items, 20, stream);
        var api200 = await SimilarFreshness.BySqlAsync(cs, listed.Url, items, 200, stream);
        var apiPut = await SimilarFreshness.ByApiAsync(cs, listed.Url, BenchPlace.AdminKey, o.GetInt("put", 100));

        var summary = new Markdown("measure", "value", "target") { TextColumns = [0, 2] }
            .Add("live / plain pgvector, median round", $"{Stats.F(Stats.Median(liveRatios), "F2")} (rounds {Stats.Range(liveRatios)})", "≥ 0.8")
            .Add("precomputed / plain pgvector, median round", $"{Stats.F(Stats.Median(listedRatios), "F2")} (rounds {Stats.Range(listedRatios)})", "≥ 5")
            .Add("service's search / plain pgvector, median round", $"{Stats.F(Stats.Median(searchRatios), "F2")} (rounds {Stats.Range(searchRatios)})", "")
            .Add("blended (the default blend) / blend 0, same service and round, median round: precomputed, live",
                $"{Stats.F(Stats.Median(listedBlendRatios), "F2")} (rounds {Stats.Range(listedBlendRatios)}), {Stats.F(Stats.Median(liveBlendRatios), "F2")} (rounds {Stats.Range(liveBlendRatios)})", "≥ 0.9")
            .Add("p99 at half the peak, median round: live, precomputed", $"{Stats.F(Stats.Median(liveP99))} ms, {Stats.F(Stats.Median(listedP99))} ms", "")
            .Add("recall@10 vs exact scan (200 queries): precomputed, live", $"{Stats.F(recallListed.At10, "F4")}, {Stats.F(recallLive.At10, "F4")}", "≥ 0.99 (lists)")
            .Add("lists' recall@100 vs exact top 100 (the same 200 items)", Stats.F(recallListed.Lists ?? 0, "F4"), "")
            .Add("lists built this run", $"{sizes.Count - listsBefore} new, {queued} queued items applied in {Stats.F(build)} s", "")
            .Add($"similar_lists on disk ({sizes.Count} lists)", sizes.Describe(), "")
            .Add("service memory after warm-up (RSS): with lists, without", $"{rssListed / 1024} MiB, {rssLive / 1024} MiB", "")
            .Add("service CPU per answer at peak, median round: precomputed, live", $"{Stats.F(Stats.Median(listedCpu))} µs, {Stats.F(Stats.Median(liveCpu))} µs", "≤ 150 µs (precomputed)")
            .Add($"the worker: {stream} s of upserts by SQL at 20/s (commit to every affected list folded in)", fresh, "")
            .Add("freshness at the API, 20 writes/s by SQL (commit to the first answer that shows it)", api20, "p99 ≤ 1 s")
            .Add("freshness at the API, 200 writes/s by SQL", api200, "p99 ≤ 2 s")
            .Add("freshness at the API, PUT then DELETE /items", apiPut, "");
        var text = new StringBuilder()
            .AppendLine($"served log {o.Get("served-log", "on")}. {items} items (fused {dim}-d; HNSW on halfvec({dim}), m=16, ef_construction=64, ef_search=100 with iterative scan relaxed_order for")
            .AppendLine($"every path, the plain query included); neighbour lists of 100. {warmup} s warm-up per service, then {rounds} rounds of {seconds} s per measure,")
            .AppendLine($"{Connections} connections (in-process HTTP load) or clients (Npgsql, prepared). Plain: `SELECT sku FROM items WHERE sku <> $1 AND vector_dims(embedding) = {dim}")
            .AppendLine($"ORDER BY embedding::halfvec({dim}) <=> (SELECT embedding::halfvec({dim}) FROM items WHERE sku = $1) LIMIT 10` (the predicate: the index's own).")
            .AppendLine().Append(table).AppendLine()
            .AppendLine($"The blend's cost: during the rounds every item has {CoEngagedPerItem} co-engaged items; the same pages asked with blend=0 (content alone):")
            .Append(blendTable).AppendLine().Append(latency).AppendLine().Append(summary);
        Console.Write(text);
        return 0;
    }

    /// <summary>The closed loop against one service: its rate, a cell with the rate, p99 and the service's CPU per request, and that CPU (µs).</summary>
    static async Task<(double Rate, string Cell, double CpuMicros)> PeakAsync(ServiceProcess service, Func<Random, HttpRequestMessage> page, TimeSpan length)
    {
        var cpu = service.CpuTime();
        var result = await LoadLoop.RunAsync(service.Url, page, Connections, length);
        var perRequest = (service.CpuTime() - cpu).TotalMicroseconds / result.Requests;
        if (result.NotSuccessful > 0)
            throw new InvalidOperationException($"bench similar: answers other than 2xx under load ({result.StatusList})");
        return (result.RequestsPerSecond, $"{Stats.F(result.RequestsPerSecond)} req/s, p99 {Stats.F(result.P(99), "F2")} ms, {perRequest:F0} µs CPU", perRequest);
    }

    /// <summary>
    /// Gives every item <paramref name="perItem"/> co-engaged items spread over the catalog (scores 1, 1/2, 1/3…, as the
    /// rebuild normalises them by the best pair), as a catalog with events everywhere.
    /// </summary>
    // As the rebuild writes pairs (FeedbackRebuildSql.ReplaceCoEngagement): with their content cosine and the row
    // versions it was computed from, each item's pairs together.
    static string CoEngagementSql(int perItem) => $"""
        WITH numbered AS (SELECT sku, row_number() OVER (ORDER BY sku) - 1 AS i FROM items),
             size AS (SELECT count(*) AS n FROM items)
        INSERT INTO co_engagement (sku, other_sku, weight, visitors, score, content, sku_version, other_version)
        SELECT a.sku, b.sku, 1, 3, 1.0 / j, {FeedbackRebuildSql.PairContent("ia", "ib")}
        FROM numbered a CROSS JOIN generate_series(1, {perItem}) j CROSS JOIN size
        JOIN numbered b ON b.i = (a.i * 31 + j * 7919) % size.n
        JOIN items ia ON ia.sku = a.sku JOIN items ib ON ib.sku = b.sku
        WHERE b.sku <> a.sku
        ORDER BY a.sku, b.sku
        ON CONFLICT DO NOTHING
        """;

    static string Half(LoadResult r) => $"{r.RequestsPerSecond:F0} req/s: p50 {Stats.F(r.P(50))} ms, p99 {Stats.F(r.P(99))} ms";

    /// <summary>How many of 20 random item pages answered from their neighbour list.</summary>
    static async Task<int> PrecomputedOfAsync(Uri url, int items)
    {
        using var http = new HttpClient { BaseAddress = url };
        var random = new Random();
        var n = 0;
        for (var i = 0; i < 20; i++)
        {
            if ((await http.GetStringAsync($"/similar/{SimilarBenchmark.Sku(random.Next(items))}?k=10")).Contains("\"source\":\"precomputed\"", StringComparison.Ordinal))
                n++;
        }
        return n;
    }
}
