using Similarity.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Models;

/// <summary>
/// <c>models tune --objective pairwise</c> (BPR on query, clicked, skipped-above) on the same served log as
/// <see cref="TuneTests"/>: what it learns is the order inside the served lists, so the held-out day's clicked items
/// must come out nearer their queries than the items served above them, in the report and in the service's vectors.
/// </summary>
public sealed class TunePairwiseTests(TuneApp app, ITestOutputHelper log) : IClassFixture<TuneApp>
{
    [Fact]
    public async Task The_pairwise_objective_learns_the_held_out_days_order_within_the_lists()
    {
        var admin = app.CreateAdminClient();
        var clicks = await TuneLogs.SeedAsync(admin, app.Database);

        var (report, output) = await TuneRun.TuneAsync(app.Database, "--objective", "pairwise", "--name", "tuned-pairwise",
            "--deploy", app.Address.ToString(), SimilarityApp.AdminKey);
        log.WriteLine(output);
        Assert.Equal("pairwise", report.GetProperty("settings").GetProperty("objective").GetString());

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
        Assert.InRange(report.GetProperty("itemsWithoutEvents").GetProperty("maxCosineChange").GetDouble(), 0, TuneRun.MaxDriftWithoutEvents);

        // The service's own vectors from the bundle rank the held-out pairs mostly right, where the live set's rank
        // them all wrong, and the items without events stay within the bound.
        var deploy = report.GetProperty("deploy");
        Assert.False(deploy.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal("ready", SetNamed(await ModelsAsync(admin), "tuned-pairwise").GetProperty("status").GetString());
        var vectors = await ReadVectorsAsync(app.Database);
        var held = clicks.Where(c => c.LatestDay).ToList();
        Assert.Equal(0, TuneRun.PairwiseAccuracy(vectors, held, v => v.Live));
        var accuracy = TuneRun.PairwiseAccuracy(vectors, held, v => v.Standby);
        Assert.True(accuracy >= 0.5, $"the service's tuned vectors get {accuracy:F2} of the held-out pairs right\n{output}");
        Assert.InRange(TuneRun.Drift(vectors, "b-"), 0, TuneRun.MaxDriftWithoutEvents);
    }
}
