using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Similarity.Bench;

/// <summary>
/// <c>bench insight</c>: the quality of duplicate groups, picture–text mismatches and clusters on the openclipart test
/// split with planted copies and swapped pictures (<see cref="InsightPlant"/>), all through the HTTP API of a service
/// running the committed clipart set; <c>--drawings N</c> takes the first N drawings of the split (a small run).
/// <c>--scale N</c> instead times the same routes and the clustering on the similar bench's synthetic catalog of N items
/// (and an import of <c>--rows</c> text-only items into it); <c>--checks-cost</c> adds the catalog checks' cost to an import
/// (<see cref="InsightChecksCost"/>); <c>--cluster-sweep</c> adds what the clustering's choices rest on (<see cref="InsightClusterSweep"/>).
/// </summary>
public static class InsightRun
{
    const string Url = "http://127.0.0.1:18095";

    static readonly Dictionary<string, string> Settings = new()
    {
        ["Similarity:Insight:ClusterCheckSeconds"] = "1",
        // Every change brings a new clustering, so the one measured holds every item (the service waits for 5% by default).
        ["Similarity:Insight:ClusterChangeShare"] = "0",
        ["Similarity:RateLimits:PerClientBurst"] = "1000000",
        ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
        // The import checks log their own time at Debug: the bench reads it from the service's log.
        ["Logging:LogLevel:Similarity.Insight.ImportChecks"] = "Debug",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "insight", "drawings", "scale", "seed", "sweep", "checks-cost", "rows", "cluster-sweep");
        return o.Has("scale") ? await ScaleAsync(o.GetInt("scale", 100_000), o.GetInt("rows", 500))
            : await QualityAsync(o.GetInt("drawings", int.MaxValue), o.Has("seed") ? o.GetInt("seed", 0) : null, o.Has("sweep"), o.Has("checks-cost"), o.Has("cluster-sweep"));
    }

    static async Task<int> QualityAsync(int drawings, int? seed, bool sweep, bool checksCost, bool clusterSweep)
    {
        var place = new BenchPlace();
        var work = place.Work("bench-insight");
        var plant = await InsightPlant.WriteAsync(place, work, drawings, seed);
        Console.Error.WriteLine($"{plant.Drawings.Count} drawings, {plant.Duplicates.Count} planted copies, {plant.Swapped.Count} swapped pictures");
        const string db = "similarity_bench_insight";
        await place.RecreateAsync(db);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), place.Manifest("clipart"), Url, "bench-insight-api.log", Settings);
        var import = Stopwatch.StartNew();
        await ImportJobs.RunAsync(service.Url, Path.Combine(work, "catalog.csv"), Path.Combine(work, "images.zip"));
        var importSeconds = import.Elapsed.TotalSeconds;
        await place.ListsAppliedAsync(db, service);
        using var http = ImportJobs.AdminClient(service.Url);

        var table = new Markdown("figure", "value", "note") { TextColumns = [0, 2] };
        foreach (var (by, minScore) in new[] { ("fused", 0.95), ("image", 0.95) })
            await DuplicatesAsync(http, plant, by, minScore, table);
        if (sweep)
            await InsightSweep.AddAsync(place, db, plant, table);
        await MismatchAsync(http, plant, table);
        await ClustersAsync(http, plant, table);
        if (clusterSweep)
            await InsightClusterSweep.AddAsync(place, db, plant, table);
        var checks = InsightChecksCost.ChecksLine(Path.Combine(place.DataDir, "bench-insight-api.log"));
        table.Add("import (all rows, through the API)", $"{importSeconds:F0} s",
            checks is { } c ? $"the catalog checks at its end: {c.Milliseconds:F0} ms for {c.Items} items" : "the checks' log line was not found");
        // On another port and database; the quality run's service stays up, idle.
        if (checksCost)
            await InsightChecksCost.AddAsync(place, Path.Combine(work, "catalog.csv"), Path.Combine(work, "images.zip"), Settings, table);
        Console.WriteLine(table);
        await File.WriteAllTextAsync(Path.Combine(work, "table.md"), table.ToString());
        return 0;
    }

    static async Task<List<JsonElement>> PagesAsync(HttpClient http, string path, string list, int limit)
    {
        var all = new List<JsonElement>();
        for (int? after = 0; after is not null;)
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}after={after}&limit={limit}");
            all.AddRange(page.GetProperty(list).EnumerateArray());
            after = page.GetProperty("nextAfter").ValueKind == JsonValueKind.Number ? page.GetProperty("nextAfter").GetInt32() : null;
        }
        return all;
    }

    static async Task DuplicatesAsync(HttpClient http, InsightPlant plant, string by, double minScore, Markdown table)
    {
        var watch = Stopwatch.StartNew();
        var groups = await PagesAsync(http, $"/duplicates?by={by}&minScore={minScore}", "groups", 100);
        var took = watch.Elapsed.TotalMilliseconds;
        var boilerplate = plant.Drawings.Where(d => d.Boilerplate).Select(d => d.Sku).ToHashSet();
        string Base(string sku) => plant.Duplicates.FirstOrDefault(d => d.Sku == sku).Of ?? sku;
        bool InBoilerplate(string sku) => boilerplate.Contains(Base(sku));
        var truth = plant.Duplicates.Select(d => Key(d.Of, d.Sku)).ToHashSet();
        // Two drawings of the split whose PNG files are byte for byte the same are duplicates of the catalog's own.
        var picture = plant.Drawings.ToDictionary(d => d.Sku, d => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            File.ReadAllBytes(Path.Combine(BenchPlace.Clipart, d.Path + ".png")))));
        bool SamePicture((string A, string B) p) => picture[Base(p.A)] == picture[Base(p.B)] && !plant.Swapped.Contains(Base(p.A)) && !plant.Swapped.Contains(Base(p.B));
        var predicted = groups.SelectMany(g =>
        {
            var members = g.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("sku").GetString()!).ToList();
            return members.SelectMany((a, i) => members.Skip(i + 1).Select(b => Key(a, b)));
        }).ToHashSet();
        var (outside, inside) = (predicted.Where(p => !InBoilerplate(p.A) && !InBoilerplate(p.B)).ToList(), predicted.Where(p => InBoilerplate(p.A) || InBoilerplate(p.B)).ToList());
        var plantedOutside = truth.Where(t => !InBoilerplate(t.A)).ToList();
        var precision = outside.Count == 0 ? double.NaN : outside.Count(truth.Contains) / (double)outside.Count;
        var withIdentical = outside.Count == 0 ? double.NaN : outside.Count(p => truth.Contains(p) || SamePicture(p)) / (double)outside.Count;
        var recall = plantedOutside.Count(predicted.Contains) / (double)Math.Max(1, plantedOutside.Count);
        table.Add($"duplicates by {by} ≥ {minScore}: precision", InsightPlant.F(withIdentical),
            $"{outside.Count} pairs grouped outside boilerplate folders; the split's own identical PNGs count as duplicates (planted alone: {InsightPlant.F(precision)})");
        table.Add($"duplicates by {by} ≥ {minScore}: recall", InsightPlant.F(recall), $"{plantedOutside.Count} planted outside boilerplate folders; one request {took:F0} ms");
        table.Add($"duplicates by {by}: boilerplate folders", $"{inside.Count(truth.Contains)}/{truth.Count - plantedOutside.Count} planted found",
            $"{inside.Count} pairs grouped there (identical drawings under several SKUs are true duplicates too)");
    }

    static (string A, string B) Key(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);

    static async Task MismatchAsync(HttpClient http, InsightPlant plant, Markdown table)
    {
        var watch = Stopwatch.StartNew();
        var items = await PagesAsync(http, "/checks/mismatch", "items", 200);
        var took = watch.Elapsed.TotalMilliseconds;
        var scored = items.Select(i => (i.GetProperty("score").GetDouble(), plant.Swapped.Contains(i.GetProperty("sku").GetString()!))).ToList();
        var auc = InsightMeasures.RocAuc(scored);
        var (low, high) = InsightMeasures.Bootstrap(scored.Count, sample => InsightMeasures.RocAuc([.. sample.Select(s => scored[s])]));
        table.Add("mismatch: ROC AUC", InsightPlant.F(auc), $"95% bootstrap {InsightPlant.F(low)}–{InsightPlant.F(high)}; {plant.Swapped.Count} swapped of {scored.Count}");
        table.Add("mismatch: precision at the top 5%", InsightPlant.F(InsightMeasures.PrecisionAtTop(scored, 0.05)), $"all pages {took:F0} ms");
        var likely = items.Where(i => i.GetProperty("likely").GetBoolean()).Select(i => plant.Swapped.Contains(i.GetProperty("sku").GetString()!)).ToList();
        table.Add("mismatch: over the import checks' margin", $"{likely.Count(x => x)}/{likely.Count}", "swapped / listed");
    }

    static async Task ClustersAsync(HttpClient http, InsightPlant plant, Markdown table)
    {
        var expected = plant.Drawings.Count + plant.Duplicates.Count;
        JsonElement answer;
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while ((answer = await http.GetFromJsonAsync<JsonElement>("/clusters")).GetProperty("state").GetProperty("items").GetInt32() != expected)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("bench insight: no clustering of the whole catalog within 30 minutes");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        var state = answer.GetProperty("state");
        var clusterOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cluster in answer.GetProperty("clusters").EnumerateArray())
        {
            var id = cluster.GetProperty("id").GetInt32();
            foreach (var member in await PagesAsync(http, $"/clusters/{id}", "members", 1000))
                clusterOf[member.GetProperty("sku").GetString()!] = id;
        }
        var originals = plant.Drawings;
        var truth = originals.Select(d => d.Category).ToList();
        var found = originals.Select(d => clusterOf[d.Sku]).ToList();
        var k = state.GetProperty("clusters").GetInt32();
        var baseline = InsightMeasures.TfIdfClusters([.. originals.Select(d => d.Title + " " + d.Description)], k, seed: 1);
        double Nmi(IReadOnlyList<int> labels, int[] sample) => InsightMeasures.Nmi([.. sample.Select(s => truth[s])], [.. sample.Select(s => labels[s])]);
        var all = Enumerable.Range(0, originals.Count).ToArray();
        var (low, high) = InsightMeasures.Bootstrap(originals.Count, s => Nmi(found, s));
        var (baseLow, baseHigh) = InsightMeasures.Bootstrap(originals.Count, s => Nmi(baseline, s));
        table.Add("clusters: NMI against the folders", InsightPlant.F(Nmi(found, all)),
            $"95% bootstrap {InsightPlant.F(low)}–{InsightPlant.F(high)}; k = {k} by {state.GetProperty("chosenBy").GetString()}, clustered in {state.GetProperty("tookMs").GetDouble():F0} ms");
        table.Add("clusters: TF-IDF k-means baseline, same k", InsightPlant.F(Nmi(baseline, all)), $"95% bootstrap {InsightPlant.F(baseLow)}–{InsightPlant.F(baseHigh)}");
        var (differenceLow, differenceHigh) = InsightMeasures.PairedDifference(originals.Count, s => Nmi(found, s), s => Nmi(baseline, s));
        table.Add("clusters: NMI minus the baseline's", InsightPlant.F(Nmi(found, all) - Nmi(baseline, all)),
            $"95% paired bootstrap {InsightPlant.F(differenceLow)}–{InsightPlant.F(differenceHigh)} (both scored on the same 1000 resamples of the {originals.Count} drawings)");
    }

    /// <summary>The routes and the clustering timed on the synthetic catalog of <c>bench similar</c> (the full model set's dimensions).</summary>
    static async Task<int> ScaleAsync(int items, int rows)
    {
        var place = new BenchPlace();
        var db = $"similarity_bench_{items}";
        await place.EnsureAsync(db);
        var cs = place.ConnectionString(db);
        var manifest = place.Manifest("full");
        await SimilarBenchmark.SeedAsync(BenchArgs.Of(("connection", cs), ("manifest", manifest), ("items", items)));
        // Earlier runs' imports stay in the catalog: the clustering waited for holds every item there is.
        var catalog = (int)await place.ScalarAsync<long>(db, "SELECT count(*) FROM items");
        var table = new Markdown("at " + catalog + " items", "time", "note") { TextColumns = [0, 2] };
        await using (var service = await ServiceProcess.StartAsync(place, cs, manifest, Url, "bench-insight-scale-api.log", Settings))
        {
            var lists = await place.ListsAppliedAsync(db, service);
            using var http = ImportJobs.AdminClient(service.Url);
            table.Add("neighbour lists (what /duplicates reads)", $"{lists:F0} s", "built by the list worker before the routes are timed");
            foreach (var path in new[] { "/duplicates?limit=20", "/duplicates?by=image&minScore=0.9&limit=20", "/checks/mismatch?limit=20" })
            {
                var watch = Stopwatch.StartNew();
                using var response = await http.GetAsync(path);
                response.EnsureSuccessStatusCode();
                table.Add(path, $"{watch.Elapsed.TotalSeconds:F1} s", "one request, computed on request");
            }
            var before = service.MemoryKib();
            JsonElement state;
            var deadline = DateTime.UtcNow.AddHours(2);
            while ((state = (await http.GetFromJsonAsync<JsonElement>("/clusters")).GetProperty("state")).GetProperty("items").GetInt32() != catalog)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException("bench insight --scale: no clustering within 2 hours");
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
            table.Add("clustering: k-means for each k tried, silhouettes, labels (in memory)", $"{state.GetProperty("tookMs").GetDouble() / 1000:F1} s",
                $"k = {state.GetProperty("clusters").GetInt32()}; service RSS {before / 1024} MiB before, {service.MemoryKib("VmHWM") / 1024} MiB peak");
            if (rows > 0)
                await InsightChecksCost.AtScaleAsync(place, service, "bench-insight-scale-api.log", rows, table);
        }
        if (rows > 0)
        {
            var defaults = new Dictionary<string, string>(Settings);
            defaults.Remove("Similarity:Insight:ClusterChangeShare");
            await InsightChecksCost.OnOffAtScaleAsync(place, cs, manifest, defaults, rows, table);
        }
        Console.WriteLine(table);
        return 0;
    }
}
