using System.Diagnostics;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Models;

/// <summary>The tuning tests' service: on a real port (tune.py deploys through HTTP), embedding a new model set quickly.</summary>
public sealed class TuneApp : KestrelSimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Models:EmbedItemsPerSecond", "2000")];
}

/// <summary>
/// Runs <c>models/train/tune.py</c> (what <c>./similarity.sh models tune</c> runs) against a test's database, and
/// measures the held-out clicks on vectors the test reads itself, never on the script's own report.
/// </summary>
static class TuneRun
{
    // Items never served nor engaged with move by at most this much (1 - cosine of their fused vectors): re-encoding
    // the stored pictures alone moves them by about 0.013; their titles' text vectors are about 0.1 from group A's. The
    // softmax takes every catalog item as a negative of every query and spreads the catalog apart (items with events
    // move by 0.25 on average), so it pushes these items too: without the second distillation (--keep-weight 0) they
    // move by 0.4.
    public const double MaxDriftWithoutEvents = 0.05;

    /// <summary>Runs tune.py into a scratch folder and returns its report (tune-report.json) and its output.</summary>
    public static async Task<(JsonElement Report, string Output)> TuneAsync(TestDatabase database, params string[] arguments)
    {
        var folder = Directory.CreateTempSubdirectory("similarity-tune-").FullName;
        try
        {
            var (exitCode, output) = await RunAsync(database, ["--out", folder, .. arguments]);
            Assert.True(exitCode == 0, output);
            return (JsonElement.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "tune-report.json"))), output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static Task<(int ExitCode, string Output)> RunAsync(TestDatabase database, params string[] arguments) =>
        RunPythonAsync([Path.Combine(TestPaths.Root, "models", "train", "tune.py"), "--connection", database.ConnectionString, .. arguments]);

    public static async Task<(int ExitCode, string Output)> RunPythonAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.Root,
        };
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEndAsync();
        var errors = python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        return (python.ExitCode, await output + await errors);
    }

    /// <summary>
    /// Each click's rank (1 = first) of its clicked item among the whole catalog by cosine to its query, the query
    /// left out and ties counted against the clicked item — recall@k's own question, which the softmax learns.
    /// </summary>
    public static List<int> CatalogRanks(IReadOnlyList<Vectors> all, IEnumerable<TuneLogs.Click> clicks, Func<Vectors, double[]?> group)
    {
        var bySku = all.ToDictionary(v => v.Sku);
        return [.. clicks.Select(c =>
        {
            var query = group(bySku[c.Query])!;
            var clicked = BruteForce.Cosine(query, group(bySku[c.Sku])!);
            return 1 + all.Count(v => v.Sku != c.Query && v.Sku != c.Sku && BruteForce.Cosine(query, group(v)!) >= clicked);
        })];
    }

    /// <summary>The share of the pairs (query, clicked, served above it) whose clicked item is the nearer to the query.</summary>
    public static double PairwiseAccuracy(IReadOnlyList<Vectors> all, IEnumerable<TuneLogs.Click> clicks, Func<Vectors, double[]?> group)
    {
        var bySku = all.ToDictionary(v => v.Sku);
        var pairs = clicks.SelectMany(c => c.Above.Select(a => (c.Query, Positive: c.Sku, Negative: a))).ToList();
        double Cosine(string a, string b) => BruteForce.Cosine(group(bySku[a])!, group(bySku[b])!);
        return pairs.Count(p => Cosine(p.Query, p.Positive) > Cosine(p.Query, p.Negative)) / (double)pairs.Count;
    }

    /// <summary>The largest 1 − cosine between an item's live and standby vectors, over the items whose SKU starts with the prefix.</summary>
    public static double Drift(IReadOnlyList<Vectors> all, string prefix) =>
        all.Where(v => v.Sku.StartsWith(prefix, StringComparison.Ordinal)).Max(v => 1 - BruteForce.Cosine(v.Live!, v.Standby!));
}
