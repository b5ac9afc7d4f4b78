using System.Diagnostics;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Search;

/// <summary>
/// The demo's catalog (models/train/demo_catalog.py: 3000 openclipart drawings from 153 folders, what
/// <c>./similarity.sh demo</c> imports) on the trained clipart set, searched as a shopper would: each query's results
/// pinned against the folders a person expects.
/// </summary>
public sealed class HybridDemoCatalogTests(HybridDemoCatalogTests.DemoCatalog demo) : IClassFixture<HybridDemoCatalogTests.DemoCatalog>
{
    public sealed class DemoCatalog : LexicalCatalog
    {
        protected override IEnumerable<KeyValuePair<string, string>> ExtraSettings =>
            [new("Similarity:Models:Manifest", Path.Combine(TestPaths.Models("clipart"), "manifest.json"))];

        protected override IEnumerable<KeyValuePair<string, string>> Fusion => []; // the service's defaults

        protected override async Task SeedAsync()
        {
            var folder = Directory.CreateTempSubdirectory("similarity-demo-").FullName;
            try
            {
                using (var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [Path.Combine(TestPaths.Root, "models", "train", "demo_catalog.py"), folder])
                    { RedirectStandardError = true, RedirectStandardOutput = true })!)
                {
                    var errors = await python.StandardError.ReadToEndAsync();
                    await python.WaitForExitAsync();
                    Assert.True(python.ExitCode == 0, errors);
                }
                var admin = CreateAdminClient();
                var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form(await File.ReadAllTextAsync(Path.Combine(folder, "catalog.csv")),
                    imagesZip: await File.ReadAllBytesAsync(Path.Combine(folder, "pictures.zip"))))).Id, timeoutSeconds: 900);
                Assert.Equal("succeeded", job.Status);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    static bool Says(Similarity.Similar.SimilarResult r, string word) =>
        $"{r.Title} {r.Category}".Contains(word, StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task Flag_finds_flags_where_the_vectors_alone_find_one()
    {
        var hybrid = await demo.SearchAsync("q=flag&k=10");
        var vector = await demo.SearchAsync("q=flag&k=10&mode=vector");
        Assert.True(vector.Results.Count(r => Says(r, "flag")) <= 1); // what a shopper saw: "Various Cliparts" and one flag
        Assert.True(hybrid.Results.Count(r => Says(r, "flag")) >= 6, string.Join(", ", hybrid.Results.Select(r => $"{r.Category}: {r.Title}")));
        Assert.All(hybrid.Results.Take(2), r => Assert.True(Says(r, "flag"), r.Title));
    }

    [Fact]
    public async Task Aple_is_corrected_to_apple_and_finds_apples()
    {
        var answer = await demo.SearchAsync("q=aple&k=10");
        Assert.Equal(("aple", "apple"), (Assert.Single(answer.Corrections!).Word, answer.Corrections![0].Correction));
        Assert.All(answer.Results, r => Assert.True(Says(r, "apple"), $"{r.Category}: {r.Title}"));
        Assert.True(answer.Results.Count(r => r.Category!.StartsWith("food", StringComparison.Ordinal)) >= 8);
        Assert.DoesNotContain((await demo.SearchAsync("q=aple&k=10&mode=vector")).Results, r => Says(r, "apple")); // the misspelling's own vector finds none
    }

    [Fact]
    public async Task Stop_sign_finds_the_stop_signs_among_the_road_signs()
    {
        var answer = await demo.SearchAsync("q=stop%20sign&k=10");
        Assert.All(answer.Results.Take(3), r => Assert.Equal(["sign", "stop"], r.Matched));
        Assert.All(answer.Results.Take(3), r => Assert.Contains("stop", r.Title, StringComparison.OrdinalIgnoreCase));
        Assert.True(answer.Results.Count(r => r.Category == "transportation/roadsigns") >= 8);
    }

    [Fact]
    public async Task Guitar_finds_the_guitars_first_then_other_instruments()
    {
        var answer = await demo.SearchAsync("q=guitar&k=10");
        Assert.All(answer.Results.Take(2), r => Assert.Contains("guitar", r.Title, StringComparison.OrdinalIgnoreCase));
        Assert.True(answer.Results.Count(r => r.Category == "recreation/music") >= 8);
    }
}
