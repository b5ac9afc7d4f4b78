namespace Similarity.Bench;

/// <summary>
/// <c>bench import</c>: end-to-end import throughput (full models) against the bare encoders, and the service's peak
/// memory at N and 10×N rows (tiny models); with <c>--source url</c>, the same catalog with its pictures in a zip and
/// by URL from a local picture server. Every import goes into a fresh database through a fresh service. <c>--set</c>
/// names the model set under models/ the timed import and the bare encoders use (full by default; full-int8 for INT8).
/// The timed import's stage breakdown (<see cref="ImportBreakdown"/>) is printed below the table; <c>--flat-rows 0</c>
/// leaves out the memory imports (a quick run).
/// </summary>
public static class ImportRun
{
    const string Url = "http://127.0.0.1:18093";
    const int PicturePort = 18096;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "import", "items", "flat-rows", "seconds", "set");
        var (items, flat, seconds) = (o.GetInt("items", 5000), o.GetInt("flat-rows", 2000), o.GetInt("seconds", 20));
        var place = new BenchPlace();
        var set = o.Get("set", "full");
        if (!File.Exists(place.Manifest(set)))
            throw new ArgumentException($"bench import: --set {set}: no models/{set}/manifest.json (./similarity.sh models full, or models full-int8)");
        var work = place.Work("bench-import");
        var (full, small, large) = (Path.Combine(work, "full"), Path.Combine(work, "small"), Path.Combine(work, "large"));
        Catalog(full, items);
        if (flat > 0)
        {
            Catalog(small, flat);
            Catalog(large, flat * 10);
        }
        Console.Error.WriteLine($"bare encoders (batch 32, ready-made tensors), {seconds} s each");
        var bare = ImportBenchmark.BareItemsPerSecond(place.Manifest(set), full, seconds);
        Console.Error.WriteLine($"importing {items} rows with models/{set}");
        var (rate, peak, breakdown) = await OnceAsync(place, full, place.Manifest(set));
        var table = new Markdown("measure", "value")
            .Add($"import, models/{set}, {items} rows (image + text each)", $"{Stats.F(rate)} rows/s")
            .Add("bare encoders, same machine and run (1 image + 1 text per item, batch 32)", $"{Stats.F(bare)} items/s")
            .Add("import / bare encoders", Stats.Ratio(rate, bare))
            .Add($"service peak memory, models/{set}, {items} rows", $"{peak / 1024} MiB")
            .Add("neighbour lists computed by the list worker during the import", Stats.F(breakdown.Lists, "F0"));
        if (flat > 0)
        {
            Console.Error.WriteLine($"memory: {flat} and {flat * 10} rows with the tiny models");
            var (smallRate, smallPeak, _) = await OnceAsync(place, small, place.Manifest("tiny"));
            var (largeRate, largePeak, _) = await OnceAsync(place, large, place.Manifest("tiny"));
            table.Add($"service peak memory, tiny models, {flat} rows ({Stats.F(smallRate)} rows/s)", $"{smallPeak / 1024} MiB")
                .Add($"service peak memory, tiny models, {flat * 10} rows ({Stats.F(largeRate)} rows/s)", $"{largePeak / 1024} MiB")
                .Add("10× rows / 1× rows, peak memory", Stats.Ratio(largePeak, smallPeak));
        }
        Console.Write(table);
        Console.WriteLine();
        Console.WriteLine($"Where the timed import's time went ({items} rows, {Stats.F(items / rate)} s):");
        Console.WriteLine();
        Console.Write(ImportBreakdown.Table(breakdown.Stages, items, rate));
        return 0;
    }

    /// <summary>The same catalog imported twice, full models: pictures in a zip, then by URL from a local web server (on loopback).</summary>
    public static async Task<int> ByUrlAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "import --source url", "source", "items");
        if (o.Get("source") != "url")
            throw new ArgumentException("bench import: --source takes url (the default compares nothing by URL)");
        var items = o.GetInt("items", 2000);
        var place = new BenchPlace();
        var work = place.Work("bench-import-url");
        Catalog(work, items);
        // The same rows, each picture named by its URL on the picture server instead of its zip entry.
        await File.WriteAllLinesAsync(Path.Combine(work, "catalog-urls.csv"),
            (await File.ReadAllLinesAsync(Path.Combine(work, "catalog.csv"))).Select(l => l.Replace(",img/", $",http://127.0.0.1:{PicturePort}/img/", StringComparison.Ordinal)));
        await using var pictures = await PictureServer.StartAsync(Path.Combine(work, "images.zip"), PicturePort);
        Console.Error.WriteLine($"importing {items} rows with pictures in a zip");
        var (zip, _, _) = await OnceAsync(place, work, place.Manifest("full"));
        Console.Error.WriteLine($"importing {items} rows with pictures by URL");
        var (byUrl, _, _) = await OnceAsync(place, work, place.Manifest("full"), "catalog-urls.csv", images: null,
            new Dictionary<string, string> { ["Similarity:Imports:ImageFetch:AllowLoopback"] = "true" });
        Console.Write(new Markdown("measure", "value")
            .Add($"import, full models, {items} rows, pictures in a zip", $"{Stats.F(zip)} rows/s")
            .Add("the same rows, pictures by URL from a local server", $"{Stats.F(byUrl)} rows/s")
            .Add("by URL / in a zip", Stats.Ratio(byUrl, zip)));
        return 0;
    }

    static void Catalog(string directory, int items) =>
        ImportBenchmark.WriteCatalog(BenchArgs.Of(("images", BenchPlace.Clipart), ("items", items), ("out", directory)));

    /// <summary>
    /// Imports DIRECTORY's catalog (and pictures) into a fresh database through a fresh service: its rows/s, the
    /// service's peak memory (KiB) and where the time went.
    /// </summary>
    static async Task<(double RowsPerSecond, long PeakKib, (IReadOnlyList<(string Stage, double Seconds)> Stages, double Lists) Breakdown)> OnceAsync(BenchPlace place, string directory, string manifest,
        string catalog = "catalog.csv", string? images = "images.zip", IReadOnlyDictionary<string, string>? settings = null)
    {
        const string db = "similarity_bench_import";
        await place.RecreateAsync(db);
        await using var service = await ServiceProcess.StartAsync(place, place.ConnectionString(db), manifest, Url, "bench-import-api.log", settings);
        var job = await ImportJobs.RunAsync(service.Url, Path.Combine(directory, catalog), images is null ? null : Path.Combine(directory, images));
        return (job.GetProperty("rowsPerSecond").GetDouble(), service.MemoryKib("VmHWM"), await ImportBreakdown.ReadAsync(service.Url));
    }
}
