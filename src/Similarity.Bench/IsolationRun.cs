using System.Net.Http.Headers;
using System.Text;

namespace Similarity.Bench;

/// <summary>
/// <c>bench isolation</c>: /similar's p99 alone and while the encoder routes are flooded (32 clients sending a ~260 KB JPEG
/// with a text to /embed, 8 sending a 16-bit PNG bomb), tiny models, the live path. Each configuration gets a fresh
/// service; rounds alternate alone / flooded at the same request rate (half the round's peak), because the machine's
/// speed drifts. "flood elsewhere" is the control: the same flood sent to another process that refuses it at once.
/// "flood pinned" sends the defaults' flood from a child process that <c>taskset</c> pins to <c>--taskset CPUS</c>
/// (the last core by default; <see cref="IsolationFlood"/>), so the flood's clients leave the other cores to the service.
/// </summary>
public static class IsolationRun
{
    const string Multipart = "multipart/form-data; boundary=similarity-bench-boundary";
    const int ControlPort = 18098;

    static readonly Dictionary<string, Dictionary<string, string>> Configurations = new()
    {
        // the service as it was before it had limits
        ["all limits lifted"] = new()
        {
            ["Similarity:RateLimits:PerClientBurst"] = "1000000", ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
            ["Similarity:RateLimits:EncoderConcurrency"] = "10000", ["Similarity:RateLimits:EncoderQueue"] = "100000",
            ["Similarity:Inference:MaxQueuedItems"] = "100000", ["Similarity:Limits:MaxDecodedBytes"] = "17179869184",
            ["Similarity:Limits:MaxConcurrentDecodes"] = "256",
        },
        // the flood as if it came from many addresses: only the shared capacity and the decode limits hold it
        ["one client lifted"] = new() { ["Similarity:RateLimits:PerClientBurst"] = "1000000", ["Similarity:RateLimits:PerClientPerSecond"] = "1000000" },
        ["defaults"] = [],
        ["flood pinned"] = [],
        ["flood elsewhere"] = [],
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "isolation", "items", "seconds", "rounds", "warmup", "only", "taskset");
        var (items, seconds, rounds, warmup) = (o.GetInt("items", 100_000), o.GetInt("seconds", 10), o.GetInt("rounds", 3), o.GetInt("warmup", 20));
        var configurations = o.Has("only") ? [o.Get("only")] : Configurations.Keys.ToArray();
        if (configurations.FirstOrDefault(c => !Configurations.ContainsKey(c)) is { } unknown)
            throw new ArgumentException($"bench isolation: --only takes one of {string.Join(", ", Configurations.Keys)}, not '{unknown}'");
        var place = new BenchPlace();
        var db = $"similarity_bench_tiny_{items}";
        await place.EnsureAsync(db);
        var cs = place.ConnectionString(db, maxPoolSize: 64);
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("connection", cs), ("manifest", place.Manifest("tiny")), ("items", items)));
        var work = place.Work("bench-isolation");
        IsolationInputs.Write(BenchArgs.Of(("images", BenchPlace.Clipart), ("out", work)));
        var empty = Path.Combine(work, "empty.zip");
        File.Delete(empty); // made afresh: a zip opened to create must not exist
        System.IO.Compression.ZipFile.Open(empty, System.IO.Compression.ZipArchiveMode.Create).Dispose();
        var pinned = o.Get("taskset", $"{Environment.ProcessorCount - 1}");
        var (jpegBody, bombBody) = (Path.Combine(work, "embed-jpeg.body"), Path.Combine(work, "embed-png.body"));
        var (jpeg, bomb) = (Post(await File.ReadAllBytesAsync(jpegBody)), Post(await File.ReadAllBytesAsync(bombBody)));
        var page = LoadLoop.Get(random => $"/similar/{SimilarBenchmark.Sku(random.Next(items))}?k=10");
        var oneSku = LoadLoop.Get(_ => $"/similar/{SimilarBenchmark.Sku(items / 2)}?k=10");
        var length = TimeSpan.FromSeconds(seconds);

        var rows = new Markdown("configuration", "round", "/similar rate", "p99 alone", "p99 flooded", "flooded / alone");
        var summary = new Markdown("configuration", "p99 alone (median)", "p99 flooded (median)", "flooded / alone (median)", "service peak RSS", "/similar 5xx",
            "flood answers (JPEG; bomb)", "load average before") { TextColumns = [0, 6] };
        foreach (var configuration in configurations)
        {
            var settings = new Dictionary<string, string>(Configurations[configuration]) { ["Similarity:Search:ListSize"] = "0" };
            await using var service = await ServiceProcess.StartAsync(place, cs, place.Manifest("tiny"), "http://127.0.0.1:18095", "bench-isolation-api.log", settings);
            await using var control = configuration == "flood elsewhere" ? await PictureServer.StartAsync(empty, ControlPort) : null;
            var target = control is null ? service.Url : new Uri($"http://127.0.0.1:{ControlPort}");
            Console.Error.WriteLine($"{configuration}: warm-up {warmup} s (/similar and the flood), load average {Load()}");
            var warmFlood = LoadLoop.RunAsync(target, jpeg, 8, TimeSpan.FromSeconds(warmup));
            await LoadLoop.RunAsync(service.Url, page, 16, TimeSpan.FromSeconds(warmup));
            await warmFlood;
            var load = Load();
            List<double> alone = [], flooded = [], ratios = [];
            List<LoadResult> jpegs = [], bombs = [], similar = [];
            for (var round = 1; round <= rounds; round++)
            {
                Console.Error.WriteLine($"{configuration}: round {round}/{rounds} — peak, alone at half the peak, then flooded at the same rate; {seconds} s each");
                var half = (await LoadLoop.RunAsync(service.Url, page, 16, length)).RequestsPerSecond / 2;
                var quiet = await LoadLoop.RunAsync(service.Url, oneSku, 8, length, half / 8);
                var (jpegFlood, bombFlood) = configuration == "flood pinned"
                    // a second more: the child process takes about that to start
                    ? (IsolationFlood.PinnedAsync(pinned, target, jpegBody, 32, length + TimeSpan.FromSeconds(5)),
                        IsolationFlood.PinnedAsync(pinned, target, bombBody, 8, length + TimeSpan.FromSeconds(5)))
                    : (LoadLoop.RunAsync(target, jpeg, 32, length + TimeSpan.FromSeconds(4)), LoadLoop.RunAsync(target, bomb, 8, length + TimeSpan.FromSeconds(4)));
                await Task.Delay(TimeSpan.FromSeconds(2)); // the flood is under way before /similar is measured
                var loud = await LoadLoop.RunAsync(service.Url, oneSku, 8, length, half / 8);
                jpegs.Add(await jpegFlood);
                bombs.Add(await bombFlood);
                similar.AddRange([quiet, loud]);
                alone.Add(quiet.P(99));
                flooded.Add(loud.P(99));
                ratios.Add(loud.P(99) / quiet.P(99));
                rows.Add(configuration, $"{round}", $"{half:F0} req/s", $"{Stats.F(quiet.P(99))} ms", $"{Stats.F(loud.P(99))} ms", Stats.F(ratios[^1], "F2"));
            }
            var serverErrors = similar.SelectMany(r => r.Statuses).Where(s => s.Key is >= 500 or 0).Sum(s => s.Value);
            summary.Add(configuration, $"{Stats.F(Stats.Median(alone))} ms", $"{Stats.F(Stats.Median(flooded))} ms", Stats.F(Stats.Median(ratios), "F2"),
                $"{service.MemoryKib("VmHWM") / 1024} MiB", $"{serverErrors}", $"{Statuses(jpegs)}; bomb {Statuses(bombs)}", load);
        }
        var dim = await place.ScalarAsync<int>(db, "SELECT vector_dims(embedding) FROM items LIMIT 1");
        Console.Write(new StringBuilder()
            .AppendLine($"{items} items (tiny models, {dim}-d); per configuration a fresh service, {warmup} s warm-up, {rounds} rounds of {seconds} s.")
            .AppendLine().Append(rows).AppendLine().Append(summary));
        return 0;
    }

    internal static Func<Random, HttpRequestMessage> Post(byte[] body) => _ =>
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(Multipart);
        return new HttpRequestMessage(HttpMethod.Post, new Uri("/embed", UriKind.Relative)) { Content = content };
    };

    static string Statuses(IEnumerable<LoadResult> results) =>
        string.Join(", ", results.SelectMany(r => r.Statuses).GroupBy(s => s.Key).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Sum(s => s.Value)}"));

    static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
