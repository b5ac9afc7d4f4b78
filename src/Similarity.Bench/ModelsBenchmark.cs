using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Pgvector;

namespace Similarity.Bench;

/// <summary>
/// A model-set switch measured on a running service with a catalog: readers hammer <c>GET /similar/{sku}</c> while a candidate
/// set is deployed, embeds the catalog in the background, is activated and rolled back. Every answer is checked:
/// its status, and whether its scores are wholly one set's (each result's score equals the exact cosine under the
/// live group or under the standby group, read from the table afterwards) — a mixed answer would match neither.
/// Latency per phase against the readers alone in the same run; the service's resident memory with one and two sets.
/// </summary>
public static class ModelsBenchmark
{
    const string AdminKey = "bench-only-admin-key-not-secret";
    const double ScoreTolerance = 1e-4;

    sealed record Answer(string Phase, string Sku, int Status, double Milliseconds, string[] Results, double[] Scores);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var url = new Uri(args.Get("url"));
        var connection = args.Get("connection");
        var pid = args.GetInt("pid", 0);
        var candidate = args.Get("candidate");
        var name = args.Get("name", "candidate");
        var readers = args.GetInt("readers", 4);
        var seconds = args.GetInt("seconds", 20);
        using var admin = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(10) };
        admin.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        var skus = await SkusAsync(connection);
        var liveName = (await ModelsAsync(admin))[0].GetProperty("name").GetString()!;

        var answers = new ConcurrentBag<Answer>();
        var phase = "alone";
        using var stop = new CancellationTokenSource();
        var tasks = Enumerable.Range(0, readers).Select(r => Task.Run(async () =>
        {
            using var client = new HttpClient { BaseAddress = url };
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var sku = skus[random.Next(skus.Count)];
                var now = phase;
                var started = Stopwatch.GetTimestamp();
                var response = await client.GetAsync($"/similar/{sku}?k=10");
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                string[] results = [];
                double[] scores = [];
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    var items = body.GetProperty("results").EnumerateArray().ToList();
                    results = [.. items.Select(i => i.GetProperty("sku").GetString()!)];
                    scores = [.. items.Select(i => i.GetProperty("score").GetDouble())];
                }
                answers.Add(new Answer(now, sku, (int)response.StatusCode, ms, results, scores));
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var rssOne = Rss(pid);
        phase = "deploy";
        var deployed = await admin.PutAsync($"/models/{name}", Zip(candidate));
        if (!deployed.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT /models/{name}: {(int)deployed.StatusCode} {await deployed.Content.ReadAsStringAsync()}");
        var rssTwo = Rss(pid);
        phase = "embedding";
        var embedStarted = Stopwatch.GetTimestamp();
        (await admin.PostAsync($"/models/{name}/embed", null)).EnsureSuccessStatusCode();
        while (Status(await ModelsAsync(admin), name) != "ready")
            await Task.Delay(500);
        var embedSeconds = Stopwatch.GetElapsedTime(embedStarted).TotalSeconds;
        var diff = await admin.GetFromJsonAsync<JsonElement>($"/models/{name}/diff?sample=100");
        phase = "switched";
        var switchStarted = Stopwatch.GetTimestamp();
        (await admin.PostAsync($"/models/{name}/activate", null)).EnsureSuccessStatusCode();
        var switchMs = Stopwatch.GetElapsedTime(switchStarted).TotalMilliseconds;
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        phase = "rolled back";
        var rollbackStarted = Stopwatch.GetTimestamp();
        (await admin.PostAsync($"/models/{liveName}/activate", null)).EnsureSuccessStatusCode();
        var rollbackMs = Stopwatch.GetElapsedTime(rollbackStarted).TotalMilliseconds;
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await stop.CancelAsync();
        await Task.WhenAll(tasks);

        // Which set each answer is wholly from: every score equal to the exact cosine under that group.
        var vectors = await VectorsAsync(connection);
        string? FromSet(Answer a)
        {
            var query = vectors[a.Sku];
            bool Matches(Func<(double[]? Live, double[]? Standby), double[]?> group) =>
                group(query) is { } q && a.Results.Select((sku, i) => group(vectors[sku]) is { } v && Math.Abs(Cosine(q, v) - a.Scores[i]) < ScoreTolerance).All(m => m);
            return a.Results.Length == 0 ? null : Matches(v => v.Live) ? "live" : Matches(v => v.Standby) ? "standby" : null;
        }
        var all = answers.ToList();
        var non2xx = all.Count(a => a.Status is < 200 or > 299);
        var mixed = all.Count(a => a.Status == 200 && FromSet(a) is null);
        var candidateAnswers = all.Count(a => a.Phase == "switched" && FromSet(a) == "standby"); // after the rollback the candidate's vectors are the standby group
        string Row(string p)
        {
            var ms = all.Where(a => a.Phase == p).Select(a => a.Milliseconds).Order().ToList();
            return ms.Count == 0 ? $"| {p} | 0 | | | |"
                : $"| {p} | {ms.Count} | {Stats.Percentile(ms, 50):F1} ms | {Stats.Percentile(ms, 99):F1} ms | {Stats.Percentile(ms, 99) / Stats.Percentile(all.Where(a => a.Phase == "alone").Select(a => a.Milliseconds), 99):F2} |";
        }
        var models = await ModelsAsync(admin);
        long MemoryOf(string set) => models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == set).GetProperty("memoryBytes").GetInt64();
        Console.WriteLine($"""
            {skus.Count} items; {readers} readers on GET /similar/{"{sku}"}?k=10 throughout; candidate {Path.GetFileName(candidate.TrimEnd('/'))} beside {liveName}.

            | phase | answers | p50 | p99 | p99 / alone |
            |---|---:|---:|---:|---:|
            {Row("alone")}
            {Row("deploy")}
            {Row("embedding")}
            {Row("switched")}
            {Row("rolled back")}

            | measure | value |
            |---|---:|
            | answers, all phases | {all.Count} |
            | non-2xx | **{non2xx}** |
            | answers empty or not wholly one set's (scores matching neither group) | **{mixed}** |
            | answers from the candidate while it was live | {candidateAnswers} |
            | embedding {skus.Count} items in the background | {embedSeconds:F1} s ({skus.Count / embedSeconds:F1} items/s) |
            | activate (switch) / rollback, request time | {switchMs:F0} ms / {rollbackMs:F0} ms |
            | diff on 100 sampled items: mean overlap@10, rank correlation, top-1 changed | {diff.GetProperty("meanOverlap").GetDouble():F3}, {diff.GetProperty("meanRankCorrelation").GetDouble():F3}, {diff.GetProperty("top1ChangedShare").GetDouble():F3} |
            | service resident memory, one set / two sets loaded | {rssOne / 1048576.0:F0} MiB / {rssTwo / 1048576.0:F0} MiB |
            | process growth at load (GET /models memoryBytes): {liveName} / {name} | {MemoryOf(liveName) / 1048576.0:F0} MiB / {MemoryOf(name) / 1048576.0:F0} MiB |
            """);
        return non2xx == 0 && mixed == 0 ? 0 : 1;
    }

    static ByteArrayContent Zip(string folder)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var file in Directory.GetFiles(folder))
                zip.CreateEntryFromFile(file, Path.GetFileName(file));
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return content;
    }

    static async Task<JsonElement> ModelsAsync(HttpClient admin) => (await admin.GetFromJsonAsync<JsonElement>("/models")).GetProperty("models");

    static string? Status(JsonElement models, string name) =>
        models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == name).GetProperty("status").GetString();

    static long Rss(int pid) => pid == 0 ? 0
        : long.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            System.Globalization.CultureInfo.InvariantCulture) * 1024;

    static async Task<List<string>> SkusAsync(string connection)
    {
        await using var dataSource = NpgsqlDataSource.Create(connection);
        await using var command = dataSource.CreateCommand("SELECT sku FROM items ORDER BY sku");
        await using var reader = await command.ExecuteReaderAsync();
        var skus = new List<string>();
        while (await reader.ReadAsync())
            skus.Add(reader.GetString(0));
        return skus;
    }

    static async Task<Dictionary<string, (double[]? Live, double[]? Standby)>> VectorsAsync(string connection)
    {
        var builder = new NpgsqlDataSourceBuilder(connection);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await using var command = dataSource.CreateCommand("SELECT sku, embedding, standby_embedding FROM items");
        await using var reader = await command.ExecuteReaderAsync();
        var vectors = new Dictionary<string, (double[]?, double[]?)>(StringComparer.Ordinal);
        double[]? Read(int i) => reader.IsDBNull(i) ? null : [.. reader.GetFieldValue<Vector>(i).ToArray().Select(v => (double)v)];
        while (await reader.ReadAsync())
            vectors[reader.GetString(0)] = (Read(1), Read(2));
        return vectors;
    }

    static double Cosine(double[] a, double[] b)
    {
        if (a.Length != b.Length)
            return double.NaN;
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
            (dot, na, nb) = (dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }
}
