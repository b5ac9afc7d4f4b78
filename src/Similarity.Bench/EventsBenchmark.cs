using System.Globalization;
using System.Text;

namespace Similarity.Bench;

/// <summary>
/// <c>bench events</c>: <c>POST /events</c> under load, 1 000-event batches from several connections for a while (the
/// target: a batch stored with p95 under 100 ms, at least 5 000 events/s through HTTP). Every batch is new events of
/// many visitors, as a shop's backend sends them; after the run the rows stored are counted against the answers.
/// </summary>
public static class EventsBenchmark
{
    const int BatchSize = 1000, Visitors = 100_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "events", "seconds", "warmup", "connections");
        var (seconds, warmup, connections) = (o.GetInt("seconds", 10), o.GetInt("warmup", 5), o.GetInt("connections", 4));
        var place = new BenchPlace();
        const string db = "similarity_bench_events";
        await place.RecreateAsync(db);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("tiny"), "http://127.0.0.1:18096",
            "bench-events-api.log", new Dictionary<string, string> { ["Similarity:Feedback:EventsConcurrency"] = $"{connections}" });

        Console.Error.WriteLine($"warm-up: {warmup} s; then {seconds} s of {BatchSize}-event batches on {connections} connections");
        await LoadLoop.RunAsync(service.Url, Batch, connections, TimeSpan.FromSeconds(warmup), seed: 1);
        var before = await place.ScalarAsync<long>(db, "SELECT count(*) FROM events");
        var run = await LoadLoop.RunAsync(service.Url, Batch, connections, TimeSpan.FromSeconds(seconds), seed: 1000);
        var stored = await place.ScalarAsync<long>(db, "SELECT count(*) FROM events") - before;
        if (run.NotSuccessful > 0)
            throw new InvalidOperationException($"bench events: answers other than 2xx under load ({run.StatusList})");
        if (stored != (long)run.Requests * BatchSize)
            throw new InvalidOperationException($"bench events: {run.Requests} batches answered, {stored} events stored (expected {run.Requests * BatchSize})");

        var table = new Markdown("measure", "value", "target") { TextColumns = [0, 2] }
            .Add("batches stored", $"{run.Requests} in {Stats.F(run.Seconds)} s", "")
            .Add("events stored per second (through HTTP)", Stats.F(stored / run.Seconds, "F0"), "≥ 5000")
            .Add("a 1 000-event batch: p50, p95, p99", $"{Stats.F(run.P(50))} ms, {Stats.F(run.P(95))} ms, {Stats.F(run.P(99))} ms", "p95 < 100 ms");
        Console.Write(new StringBuilder()
            .AppendLine($"POST /events, {BatchSize} new events a batch (clicks and views of {Visitors} visitors over the last hour), {connections} connections,")
            .AppendLine($"EventsConcurrency {connections}; {warmup} s warm-up, {seconds} s measured; tiny models (events never touch them).")
            .AppendLine().Append(table));
        return 0;
    }

    /// <summary>A batch of new events: ids from the worker's seeded random numbers, so no two batches share one.</summary>
    static HttpRequestMessage Batch(Random random)
    {
        var now = DateTimeOffset.UtcNow;
        var json = new StringBuilder("{\"events\":[", BatchSize * 200);
        for (var i = 0; i < BatchSize; i++)
        {
            var type = random.Next(4) == 0 ? "click" : "view";
            json.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"{{\"eventId\":\"b-{random.NextInt64():x16}\",\"type\":\"{type}\",\"visitorId\":\"v-{random.Next(Visitors)}\",\"sku\":\"oc-{random.Next(20_000):D6}\",")
                .Append(CultureInfo.InvariantCulture, $"\"timestamp\":\"{now.AddSeconds(-random.Next(3600)):O}\"}}");
        }
        json.Append("]}");
        return new HttpRequestMessage(HttpMethod.Post, new Uri("/events", UriKind.Relative))
        {
            Content = new StringContent(json.ToString(), Encoding.UTF8, "application/json"),
            Headers = { { "X-Api-Key", BenchPlace.AdminKey } },
        };
    }
}
