using System.Diagnostics;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Models;

/// <summary>
/// <c>models/train/tune.py</c> (what <c>./similarity.sh models tune</c> runs) on a served log whose preferred
/// direction is known (<see cref="TuneLogs"/>): it must count exactly the pairs a query of the test's own finds,
/// learn what the held-out day's shoppers prefer, leave items without events nearly where they were, and its bundle
/// must go through <c>PUT /models/{name}</c>, embed and diff on the real service — whose own vectors from the
/// bundle then rank the held-out pairs mostly right too.
/// </summary>
public sealed class TuneTests(TuneTests.App app, ITestOutputHelper log) : IClassFixture<TuneTests.App>
{
    // Items never served nor engaged with move by at most this much (1 - cosine of their fused vectors); the
    // distillation keeps them far closer than unrelated vectors (about 1).
    const double MaxDriftWithoutEvents = 0.05;

    public sealed class App : KestrelSimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Models:EmbedItemsPerSecond", "2000")];
    }

    [Fact]
    public async Task Tuning_learns_the_held_out_preference_keeps_items_without_events_and_deploys_through_the_lifecycle()
    {
        var admin = app.CreateAdminClient();
        for (var i = 0; i < TuneLogs.GroupA; i++)
            await admin.PutItemAsync(TuneLogs.Item("a", i));
        for (var i = 0; i < TuneLogs.GroupB; i++)
            await admin.PutItemAsync(TuneLogs.Item("b", i));
        await TuneLogs.WriteAsync(app.Database);
        var clicks = await TuneLogs.ClicksAsync(app.Database);
        Assert.Equal(TuneLogs.GroupA, clicks.Count);

        var (report, output) = await RunTuneAsync("--name", "tuned", "--deploy", app.Address.ToString(), SimilarityApp.AdminKey);
        log.WriteLine(output);

        // Exactly the skipped-above pairs of real visitors' clicks on the live set's lists: not the view, the bot's
        // reversed clicks, nor the list another model set served.
        var pairs = report.GetProperty("pairs");
        Assert.Equal(clicks.Where(c => !c.LatestDay).Sum(c => c.Position - 1), pairs.GetProperty("train").GetInt32());
        Assert.Equal(clicks.Where(c => c.LatestDay).Sum(c => c.Position - 1), pairs.GetProperty("heldOut").GetInt32());
        Assert.Equal(clicks.Count(c => c.Position == 1), pairs.GetProperty("engagementsWithoutSkippedAbove").GetInt32());
        Assert.Equal(clicks.Count, report.GetProperty("eventsByType").GetProperty("click").GetInt32());
        Assert.Equal(clicks.Count(c => c.Purchased), report.GetProperty("eventsByType").GetProperty("purchase").GetInt32());
        // Weights: type weight (click 2, purchase 4) / propensity 1/√p, p from 2 to 10.
        var weights = report.GetProperty("weights");
        Assert.InRange(weights.GetProperty("min").GetDouble(), 2 * Math.Sqrt(2) - 1e-4, 4 * Math.Sqrt(10) + 1e-4);
        Assert.InRange(weights.GetProperty("max").GetDouble(), 2 * Math.Sqrt(2) - 1e-4, 4 * Math.Sqrt(10) + 1e-4);

        // The skipped items were served above the clicked one, so the live fusion gets every pair wrong; the tuned
        // one must get a real share of the held-out day's right.
        var before = report.GetProperty("before").GetProperty("heldOut");
        var after = report.GetProperty("after").GetProperty("heldOut");
        Assert.Equal(0, before.GetProperty("pairwiseAccuracy").GetDouble());
        Assert.True(after.GetProperty("pairwiseAccuracy").GetDouble() >= 0.5, output);
        Assert.True(after.GetProperty("loss").GetDouble() < before.GetProperty("loss").GetDouble(), output);
        var still = report.GetProperty("itemsWithoutEvents");
        Assert.Equal(TuneLogs.GroupB, still.GetProperty("items").GetInt32());
        Assert.InRange(still.GetProperty("maxCosineChange").GetDouble(), 0, MaxDriftWithoutEvents);

        // Deployed, embedded by the service from the items' pictures and texts, and compared.
        var deploy = report.GetProperty("deploy");
        Assert.False(deploy.TryGetProperty("error", out var error), error.ToString());
        var tuned = SetNamed(await ModelsAsync(admin), "tuned");
        Assert.Equal("ready", tuned.GetProperty("status").GetString());
        Assert.Equal(report.GetProperty("fingerprint").GetString(), tuned.GetProperty("fingerprint").GetString());
        Assert.True(deploy.GetProperty("diff").GetProperty("sample").GetInt32() > 0);
        Assert.False(deploy.GetProperty("activated").GetBoolean());
        Assert.Equal("live", SetNamed(await ModelsAsync(admin), await LiveNameAsync(admin)).GetProperty("status").GetString());

        // The service's own vectors from the bundle (embedded from the stored JPEG copies of the pictures, so not
        // bit for bit what the training saw): they rank the held-out pairs mostly right, where the live set's rank
        // them all wrong, and the items without events stay within the bound.
        var vectors = (await ReadVectorsAsync(app.Database)).ToDictionary(v => v.Sku);
        var held = clicks.Where(c => c.LatestDay).SelectMany(c => c.Above.Select(a => (c.Query, Positive: c.Sku, Negative: a))).ToList();
        double Accuracy(Func<Vectors, double[]> group) =>
            held.Count(p => BruteForce.Cosine(group(vectors[p.Query]), group(vectors[p.Positive])) > BruteForce.Cosine(group(vectors[p.Query]), group(vectors[p.Negative])))
            / (double)held.Count;
        Assert.Equal(0, Accuracy(v => v.Live!));
        Assert.True(Accuracy(v => v.Standby!) >= 0.5, $"the service's tuned vectors get {Accuracy(v => v.Standby!):F2} of the held-out pairs right\n{output}");
        var drift = vectors.Values.Where(v => v.Sku.StartsWith("b-", StringComparison.Ordinal)).Max(v => 1 - BruteForce.Cosine(v.Live!, v.Standby!));
        Assert.InRange(drift, 0, MaxDriftWithoutEvents);
    }

    [Fact]
    public async Task Too_few_pairs_are_refused_naming_the_count()
    {
        await using var empty = new App();
        await empty.InitializeAsync();
        await empty.StartAsync();
        await empty.CreateAdminClient().PutItemAsync(TuneLogs.Item("a", 0));

        var (exitCode, output) = await RunAsync(empty.Database, "--out", Path.Combine(Path.GetTempPath(), $"tune-{Guid.NewGuid():N}"));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("0 pairs", output);
    }

    [Fact]
    public async Task The_tuning_codes_unit_tests_pass()
    {
        var (exitCode, output) = await RunPythonAsync(["-m", "unittest", "discover", "-s", Path.Combine("models", "train"), "-p", "test_tune*.py"]);
        Assert.True(exitCode == 0, output);
        Assert.Contains("OK", output);
    }

    async Task<(JsonElement Report, string Output)> RunTuneAsync(params string[] arguments)
    {
        var folder = Directory.CreateTempSubdirectory("similarity-tune-").FullName;
        try
        {
            var (exitCode, output) = await RunAsync(app.Database, ["--out", folder, .. arguments]);
            Assert.True(exitCode == 0, output);
            return (JsonElement.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "tune-report.json"))), output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static Task<(int ExitCode, string Output)> RunAsync(TestDatabase database, params string[] arguments) =>
        RunPythonAsync([Path.Combine(TestPaths.Root, "models", "train", "tune.py"), "--connection", database.ConnectionString, .. arguments]);

    static async Task<(int ExitCode, string Output)> RunPythonAsync(string[] arguments)
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
}
