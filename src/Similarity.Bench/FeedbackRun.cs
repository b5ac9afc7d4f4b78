using System.Globalization;

namespace Similarity.Bench;

/// <summary>
/// <c>bench feedback [--days N] [--shoppers N] [--seed N] [--items N] [--tune] [--sweep]</c>: the closed loop measured through the
/// HTTP API only. A fresh database and service (models/clipart) import <c>bench quality</c>'s openclipart test split;
/// the simulator's shoppers (<see cref="ShopperWorld"/>) visit for the training days (<see cref="FeedbackTraining"/>);
/// held-out days score content-only, blended and (with --tune) tuned-fusion rankers (<see cref="FeedbackEvaluation"/>);
/// then the propensities, an A/A interleaving and the time from an event to a changed answer (<see cref="FeedbackChecks"/>).
/// With --sweep, the blend's variants are scored for validation (<see cref="FeedbackSweep"/>) instead of the checks.
/// A service without the loop's routes is refused before anything is imported, naming the missing routes.
/// </summary>
public static class FeedbackRun
{
    const string Database = "similarity_bench_feedback";
    const int AaSessions = 10_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = BenchArgs.Parse(args, "feedback", "days", "shoppers", "seed", "items", "tune", "sweep");
        var (days, shoppers, seed, items, tune) = (o.GetInt("days", 14), o.GetInt("shoppers", 2000), o.GetInt("seed", 22), o.GetInt("items", 0), o.Has("tune"));
        var sweep = o.Has("sweep");
        if (days is < 1 or > ShopperClock.MaxDays || shoppers < 1)
            throw new ArgumentException($"bench feedback: --days takes 1 to {ShopperClock.MaxDays} (the days are compressed into the 72 hours POST /events accepts), --shoppers at least 1.");
        try
        {
            return await MeasureAsync(days, shoppers, seed, items, tune, sweep);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException)
        {
            // A route that answers other than the contract says, or a step that failed: said in one line, not a stack trace.
            Console.Error.WriteLine($"bench feedback: {ex.Message}");
            return 1;
        }
    }

    static async Task<int> MeasureAsync(int days, int shoppers, int seed, int items, bool tune, bool sweep)
    {
        var place = new BenchPlace();
        var work = Path.Combine(place.DataDir, "bench-feedback");
        if (Directory.Exists(work))
            Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);

        await place.RecreateAsync(Database);
        var cs = place.ConnectionString(Database);
        var settings = new Dictionary<string, string>
        {
            // /similar re-weighted to one modality (the shoppers' picture or words) ranks 20 × 50 = 1 000 candidates: the whole
            // test split. Not more: the candidates are hnsw.ef_search, which PostgreSQL caps at 1 000.
            ["Similarity:Search:WeightedCandidatesPerResult"] = "50",
            ["Similarity:RateLimits:PerClientBurst"] = "1000000",
            ["Similarity:RateLimits:PerClientPerSecond"] = "1000000",
            ["Similarity:Models:StorePath"] = Path.Combine(work, "model-sets"),
            // The bench rebuilds with POST /feedback/rebuild at the end of each day; no rebuild in between.
            ["Similarity:Feedback:RebuildPeriod"] = "1.00:00:00",
            // Enough swapped answers to estimate ten positions' propensities from one run's traffic.
            ["Similarity:Feedback:ExploreShare"] = Stats.F(Exploration, "F2"),
        };
        await using var service = await ServiceProcess.StartAsync(place, cs, place.Manifest("clipart"), "http://127.0.0.1:18101", "bench-feedback-api.log", settings);
        using var client = new FeedbackClient(service.Url);
        if (await client.MissingAsync() is { Count: > 0 } missing)
        {
            Console.Error.WriteLine($"bench feedback: the service lacks the closed loop's {string.Join(", ", missing)} " +
                "(not in its OpenAPI document): the bench drives the loop through these routes only, and measured nothing.");
            return 1;
        }

        var catalog = await CatalogAsync(place, work, items);
        Console.Error.WriteLine($"importing {catalog.Count} drawings of the openclipart test split");
        await ImportJobs.RunAsync(service.Url, Path.Combine(work, "catalog.csv"), Path.Combine(work, "quality", "images.zip"));
        await place.ListsAppliedAsync(Database, service);

        var world = ShopperWorld.Create(catalog, shoppers, seed);
        var taste = new ShopperTaste(world);
        Console.Error.WriteLine($"reading each item's {ShopperTaste.Neighbours} nearest by picture and by words (the shoppers' hidden relevance)");
        await Parallel.ForEachAsync(world.Items, new ParallelOptions { MaxDegreeOfParallelism = FeedbackTraining.Concurrency }, async (item, _) =>
        {
            var (picture, words) = (await client.NearestAsync(item.Sku, Judgement.Picture, ShopperTaste.Neighbours), await client.NearestAsync(item.Sku, Judgement.Words, ShopperTaste.Neighbours));
            lock (taste)
            {
                taste.SetNearest(item.Sku, Judgement.Picture, picture);
                taste.SetNearest(item.Sku, Judgement.Words, words);
            }
        });

        var training = await FeedbackTraining.RunAsync(client, taste, new ShopperClock(DateTimeOffset.UtcNow, days));
        var coVisitors = FeedbackMetrics.CoVisitors(training.Visits);
        var heldOut = FeedbackEvaluation.HeldOut(taste, days);
        // For offline scoring of fusion variants (models/train/tune_eval.py): the steps, not the world's hidden structure.
        await FeedbackEvaluation.WriteStepsAsync(Path.Combine(work, "held-out-steps.tsv"), heldOut, coVisitors);
        var rankers = new List<RankerScores>
        {
            await FeedbackEvaluation.ScoreAsync(client, "content only (blend=0)", 0, heldOut, coVisitors, seed),
            await FeedbackEvaluation.ScoreAsync(client, "blended (default blend)", null, heldOut, coVisitors, seed),
        };
        var propensities = await client.PropensitiesAsync();
        if (sweep)
        {
            var contentTops = await client.TopAsync([.. heldOut.SelectMany(v => v).Select(s => s.Query).Distinct(StringComparer.Ordinal)], 0);
            var rows = await FeedbackSweep.RunAsync(place, cs, settings, world, heldOut, coVisitors, contentTops, seed);
            Console.Write(FeedbackReport.Write(new FeedbackFigures(Setup(world, shoppers, days, seed), training, heldOut.Count, heldOut.Sum(v => v.Count), rankers, propensities, null, null, null)));
            Console.Write(FeedbackSweep.Write(rows, rankers[0], contentTops, world, coVisitors));
            return 0;
        }

        string? tuneNote = null;
        if (tune)
        {
            var (before, after) = await FeedbackTune.RunAsync(place, client, service.Url, cs, Path.Combine(place.DataDir, "bench-feedback-tune.log"));
            tuneNote = $"{before} → {after} (models tune {string.Join(' ', FeedbackTune.Settings)})";
            rankers.Add(await FeedbackEvaluation.ScoreAsync(client, "tuned fusion, content only (blend=0)", 0, heldOut, coVisitors, seed));
            rankers.Add(await FeedbackEvaluation.ScoreAsync(client, "tuned fusion, blended", null, heldOut, coVisitors, seed));
        }
        Console.Error.WriteLine("the time from an event to a changed answer, then an A/A interleaving");
        var freshness = await FeedbackChecks.FreshnessAsync(client, world, coVisitors);
        var aa = await FeedbackChecks.AaAsync(client, taste, AaSessions);

        var setup = Setup(world, shoppers, days, seed);
        Console.Write(FeedbackReport.Write(new FeedbackFigures(setup, training, heldOut.Count, heldOut.Sum(v => v.Count), rankers, propensities, aa, freshness, tuneNote)));
        return 0; // the database stays for a look until the next run recreates it
    }

    static string Setup(ShopperWorld world, int shoppers, int days, int seed) => string.Create(CultureInfo.InvariantCulture,
        $"bench feedback: {world.Items.Count} items in {world.Items.Select(i => i.Folder).Distinct().Count()} folders, {shoppers} shoppers, " +
        $"{days} training days + {FeedbackEvaluation.HeldOutDays} held out, seed {seed}, ExploreShare {Exploration}; warm = a query item with ≥ {FeedbackMetrics.WarmCoVisitors} co-visitors in training; " +
        $"95% intervals: bootstrap over visits ({FeedbackMetrics.Resamples} resamples, seed {seed})");

    /// <summary>The bench service's <c>ExploreShare</c> (the default, 0.02, is a shop's setting; the bench has fewer visits).</summary>
    public const double Exploration = 0.1;

    /// <summary>
    /// bench quality's test split (models/train/bench_quality.py prepare, the same catalog and texts), the folder of each
    /// drawing, and the chosen rows (--items: the first N by SKU) written as the catalog to import.
    /// </summary>
    static async Task<IReadOnlyList<ShopperItem>> CatalogAsync(BenchPlace place, string work, int items)
    {
        var quality = Path.Combine(work, "quality");
        await QualityRun.PythonAsync(place, Path.Combine(work, "prepare.log"), "models/train/bench_quality.py", "prepare", "--work", quality, "--clipart", "models/clipart");
        var rows = ShopperCatalog.Read(Path.Combine(quality, "catalog.csv"), ShopperCatalog.Folders(BenchPlace.Clipart), items);
        ShopperCatalog.Write(Path.Combine(work, "catalog.csv"), rows.Select(r => r.Row));
        return [.. rows.Select(r => r.Item)];
    }
}
