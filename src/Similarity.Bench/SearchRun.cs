using System.Text;

namespace Similarity.Bench;

/// <summary>
/// <c>bench search</c>: hybrid search's cost against the vector-only search it extends, through GET /search on the
/// seeded catalog of <c>bench similar</c> (no neighbour lists: a text search never reads them). Each round measures
/// both modes' closed-loop peak back to back, then each at half its peak for p99; the summary takes the median round.
/// Three kinds of query take turns (<see cref="Query"/>).
/// </summary>
public static class SearchRun
{
    const int Connections = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "search", "items", "seconds", "warmup", "rounds");
        var (items, seconds, warmup, rounds) = (o.GetInt("items", 100_000), o.GetInt("seconds", 10), o.GetInt("warmup", 30), o.GetInt("rounds", 5));
        var place = new BenchPlace();
        var db = $"similarity_bench_{items}";
        await place.EnsureAsync(db);
        var cs = place.ConnectionString(db, maxPoolSize: 64);
        var manifest = place.Manifest("full");
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("connection", cs), ("manifest", manifest), ("items", items)));
        // One client sends every request: the per-client limit of the encoder routes would refuse most of them.
        await using var service = await ServiceProcess.StartAsync(place, cs, manifest, "http://127.0.0.1:18096", "bench-search-api.log",
            new Dictionary<string, string>
            {
                ["Similarity:Search:ListSize"] = "0",
                ["Similarity:RateLimits:PerClientBurst"] = "1000000",
                ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
            });

        Func<Random, HttpRequestMessage> Mode(string mode) => LoadLoop.Get(random =>
            $"/search?k=10&mode={mode}&q={Uri.EscapeDataString(Query(random, items))}");
        var (vector, hybrid) = (Mode("vector"), Mode("hybrid"));
        Console.Error.WriteLine($"warm-up: {warmup} s per mode");
        await LoadLoop.RunAsync(service.Url, vector, Connections, TimeSpan.FromSeconds(warmup));
        await LoadLoop.RunAsync(service.Url, hybrid, Connections, TimeSpan.FromSeconds(warmup));

        var table = new Markdown("round", "vector-only peak", "hybrid peak", "hybrid / vector", "vector at half its peak", "hybrid at half its peak");
        List<double> ratios = [], vectorP99 = [], hybridP99 = [];
        var length = TimeSpan.FromSeconds(seconds);
        for (var round = 1; round <= rounds; round++)
        {
            Console.Error.WriteLine($"round {round}/{rounds}: vector, hybrid, then each at half its peak; {seconds} s each");
            var vectorPeak = await PeakAsync(service, vector, length);
            var hybridPeak = await PeakAsync(service, hybrid, length);
            var vectorHalf = await LoadLoop.RunAsync(service.Url, vector, 8, length, vectorPeak / 2 / 8);
            var hybridHalf = await LoadLoop.RunAsync(service.Url, hybrid, 8, length, hybridPeak / 2 / 8);
            ratios.Add(hybridPeak / vectorPeak);
            vectorP99.Add(vectorHalf.P(99));
            hybridP99.Add(hybridHalf.P(99));
            table.Add($"{round}", $"{Stats.F(vectorPeak)} req/s", $"{Stats.F(hybridPeak)} req/s", Stats.Ratio(hybridPeak, vectorPeak), Half(vectorHalf), Half(hybridHalf));
        }
        var summary = new Markdown("measure", "value", "target") { TextColumns = [0, 2] }
            .Add("hybrid / vector-only throughput, median round", $"{Stats.F(Stats.Median(ratios), "F2")} (rounds {Stats.Range(ratios)})", "≥ 0.7")
            .Add("p99 at half the peak, median round: vector, hybrid", $"{Stats.F(Stats.Median(vectorP99))} ms, {Stats.F(Stats.Median(hybridP99))} ms", "");
        var text = new StringBuilder()
            .AppendLine($"{items} items (bench similar's seeded catalog, titles \"synthetic item N\"); GET /search?k=10 with mode=vector and mode=hybrid, queries")
            .AppendLine($"a whole title, a brand and an item number in turn; {warmup} s warm-up per mode, {rounds} rounds of {seconds} s, {Connections} connections.")
            .AppendLine().Append(table).AppendLine().Append(summary);
        Console.Write(text);
        return 0;
    }

    /// <summary>
    /// One of three queries, each a third of the time: a whole title (its words "synthetic" and "item" held by every
    /// item: they choose no lexical candidates), a brand (its number held by 6 % of the items — brand-7 and category-7 —
    /// every one of them ranked: the costly kind) and one item number (a word a few items hold).
    /// </summary>
    static string Query(Random random, int items) => random.Next(3) switch
    {
        0 => $"synthetic item {random.Next(items)}",
        1 => $"brand-{random.Next(20)}",
        _ => $"{random.Next(items)}",
    };

    static async Task<double> PeakAsync(ServiceProcess service, Func<Random, HttpRequestMessage> page, TimeSpan length)
    {
        var result = await LoadLoop.RunAsync(service.Url, page, Connections, length);
        if (result.NotSuccessful > 0)
            throw new InvalidOperationException($"bench search: answers other than 2xx under load ({result.StatusList})");
        return result.RequestsPerSecond;
    }

    static string Half(LoadResult r) => $"{r.RequestsPerSecond:F0} req/s: p50 {Stats.F(r.P(50))} ms, p99 {Stats.F(r.P(99))} ms";
}
