using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Operations;

/// <summary>
/// A second model set on a running service, one step of its life per case: deployed (or refused), embedded in the
/// background, compared, activated, rolled back and retired. Each case starts its own service and catalog.
/// </summary>
public sealed class ModelLifecycleTests
{
    [Fact]
    public async Task Bundles_that_are_not_valid_are_refused_naming_what_is_wrong_and_nothing_is_deployed()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var live = Assert.Single((await ModelsAsync(admin)).EnumerateArray());
        Assert.Equal("live", live.GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PutAsync($"/models/{Candidate}", CandidateBundle())).StatusCode);
        var notZip = await admin.PutAsync($"/models/{Candidate}", new ByteArrayContent("not a zip"u8.ToArray()) { Headers = { ContentType = new("application/zip") } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notZip.StatusCode);
        Assert.Contains("not a zip", await notZip.Content.ReadAsStringAsync());
        var tampered = await admin.PutAsync($"/models/{Candidate}", Bundle(TestPaths.Models("clipart"), dir => File.AppendAllText(Path.Combine(dir, "vocab.txt"), "extra\n")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tampered.StatusCode);
        var tamperedDetail = CatalogClient.Problem(await tampered.Content.ReadAsStringAsync()).GetProperty("detail").GetString()!;
        Assert.Contains("vocab.txt", tamperedDetail);
        Assert.Contains("SHA-256", tamperedDetail);
        Assert.DoesNotContain(app.SpoolPath, tamperedDetail); // the server's folders are not shown
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await admin.PutAsync($"/models/{Candidate}", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        await CatalogClient.AssertNamesFieldAsync(await admin.PutAsync("/models/bad%20name", CandidateBundle()), "name");
        Assert.Single((await ModelsAsync(admin)).EnumerateArray());
    }

    [Fact]
    public async Task A_deployed_candidate_holds_the_one_standby_place_and_waits_to_be_embedded()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();

        var deployed = await admin.PutAsync($"/models/{Candidate}", CandidateBundle());
        Assert.Equal(HttpStatusCode.Created, deployed.StatusCode);
        var candidate = await deployed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("candidate", candidate.GetProperty("status").GetString());
        Assert.Equal(256, candidate.GetProperty("imageDimension").GetInt32());
        Assert.Equal(128, candidate.GetProperty("fusedDimension").GetInt32());
        Assert.True(candidate.GetProperty("bundleBytes").GetInt64() > 1_000_000);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsync("/models/other", CandidateBundle())).StatusCode); // one standby at a time
        Assert.Equal(HttpStatusCode.Conflict, (await admin.GetAsync($"/models/{Candidate}/diff")).StatusCode); // nothing embedded yet
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/models/{Candidate}/activate", null)).StatusCode); // not ready
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/models/nosuch/embed", null)).StatusCode);
    }

    [Fact]
    public async Task Embedding_gives_every_item_the_candidates_vectors_in_the_standby_columns()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();

        var candidate = await DeployAndEmbedAsync(admin);
        var progress = SetNamed(await ModelsAsync(admin), Candidate).GetProperty("embedding");
        Assert.Equal(Items, progress.GetProperty("embedded").GetInt64());
        Assert.Equal(Items, progress.GetProperty("total").GetInt64());
        var fingerprint = candidate.GetProperty("fingerprint").GetString()!;
        var vectors = await ReadVectorsAsync(app.Database);
        Assert.All(vectors, v => Assert.Equal(fingerprint, v.StandbyFingerprint));
        Assert.All(vectors, v => Assert.Equal(128, v.Standby!.Length));
    }

    [Fact]
    public async Task The_diff_agrees_item_by_item_with_a_brute_force_over_both_sets()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        await DeployAndEmbedAsync(admin);
        var vectors = await ReadVectorsAsync(app.Database);

        var diff = await admin.GetFromJsonAsync<JsonElement>($"/models/{Candidate}/diff?sample=1000");
        Assert.Equal(Items, diff.GetProperty("sample").GetInt32());
        double overlaps = 0, correlations = 0, top1 = 0;
        foreach (var item in diff.GetProperty("items").EnumerateArray())
        {
            var sku = item.GetProperty("sku").GetString()!;
            var a = TopTen(vectors, sku, v => v.Live);
            var b = TopTen(vectors, sku, v => v.Standby);
            var overlap = a.Intersect(b).Count() / 10.0;
            var union = a.Union(b).ToList();
            int Rank(List<string> list, string s) => list.Contains(s) ? list.IndexOf(s) + 1 : 11;
            var n = union.Count;
            var rho = 1 - 6.0 * union.Sum(s => Math.Pow(Rank(a, s) - Rank(b, s), 2)) / (n * ((double)n * n - 1));
            Assert.Equal(overlap, item.GetProperty("overlap").GetDouble(), 9);
            Assert.Equal(rho, item.GetProperty("rankCorrelation").GetDouble(), 9);
            Assert.Equal(a[0] != b[0], item.GetProperty("top1Changed").GetBoolean());
            (overlaps, correlations, top1) = (overlaps + overlap, correlations + rho, top1 + (a[0] != b[0] ? 1 : 0));
        }
        Assert.Equal(overlaps / Items, diff.GetProperty("meanOverlap").GetDouble(), 9);
        Assert.Equal(correlations / Items, diff.GetProperty("meanRankCorrelation").GetDouble(), 9);
        Assert.Equal(top1 / Items, diff.GetProperty("top1ChangedShare").GetDouble(), 9);
        Assert.True(overlaps / Items < 1, "two unrelated model sets should not agree on every list: the diff would show nothing");
        var most = diff.GetProperty("mostChanged").EnumerateArray().First();
        Assert.Equal(TopTen(vectors, most.GetProperty("sku").GetString()!, v => v.Standby),
            most.GetProperty("candidate").EnumerateArray().Select(n => n.GetProperty("sku").GetString()!).ToList());
    }

    [Fact]
    public async Task Activation_answers_from_the_candidates_vectors_with_another_ETag()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = await LiveNameAsync(admin);
        var beforeTag = (await admin.GetAsync("/similar/ml-00")).Headers.ETag!.Tag;
        var fingerprint = (await DeployAndEmbedAsync(admin)).GetProperty("fingerprint").GetString()!;
        var vectors = await ReadVectorsAsync(app.Database);

        await ActivateAsync(app, admin, Candidate);
        var models = await ModelsAsync(admin);
        Assert.Equal("live", SetNamed(models, Candidate).GetProperty("status").GetString());
        Assert.Equal("ready", SetNamed(models, liveName).GetProperty("status").GetString());
        var after = await admin.GetAsync("/similar/ml-00");
        Assert.NotEqual(beforeTag, after.Headers.ETag!.Tag);
        Assert.Equal(TopTen(vectors, "ml-00", v => v.Standby), Skus((await after.Content.ReadFromJsonAsync<Similar.SimilarApi.SimilarResponse>())!));
        Assert.Equal(fingerprint, (await admin.GetFromJsonAsync<JsonElement>("/items/ml-00")).GetProperty("fingerprint").GetString());
    }

    [Fact]
    public async Task A_rollback_answers_from_the_previous_set_which_kept_up_with_the_items_meanwhile()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = await LiveNameAsync(admin);
        var beforeSkus = Skus(await admin.SimilarAsync("ml-00"));
        await DeployAndEmbedAsync(admin);
        await ActivateAsync(app, admin, Candidate);

        // A PUT while the candidate is live is embedded by it, and by the previous set in the background.
        await admin.PutItemAsync(ItemOf(1) with { Title = "a changed title for the rollback" });
        await WaitUntilReadyAsync(admin, liveName);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (SetNamed(await ModelsAsync(admin), liveName).GetProperty("embedding").GetProperty("embedded").GetInt64() < Items)
        {
            Assert.True(DateTime.UtcNow < deadline, "the previous set did not embed the changed item");
            await Task.Delay(100);
        }

        await ActivateAsync(app, admin, liveName);
        var vectors = await ReadVectorsAsync(app.Database);
        Assert.Equal(TopTen(vectors, "ml-00", v => v.Live), Skus(await admin.SimilarAsync("ml-00")));
        Assert.Equal(TopTen(vectors, "ml-01", v => v.Live), Skus(await admin.SimilarAsync("ml-01")));
        Assert.NotEqual(beforeSkus, TopTen(vectors, "ml-00", v => v.Standby)); // the two sets rank differently: the rollback is visible
    }

    [Fact]
    public async Task Retirement_takes_the_standby_sets_vectors_and_index_and_refuses_the_live_set()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = await LiveNameAsync(admin);
        var beforeSkus = Skus(await admin.SimilarAsync("ml-00"));
        var fingerprint = (await DeployAndEmbedAsync(admin)).GetProperty("fingerprint").GetString()!;

        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/models/{liveName}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/models/{Candidate}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/models/{Candidate}")).StatusCode);
        Assert.Equal("retired", SetNamed(await ModelsAsync(admin), Candidate).GetProperty("status").GetString());
        Assert.Equal(0L, await app.Database.ExecuteAsync("SELECT count(*) FROM items WHERE standby_fingerprint IS NOT NULL OR standby_embedding IS NOT NULL"));
        Assert.Equal(false, await app.Database.ExecuteAsync($"SELECT to_regclass('items_hnsw_{fingerprint}') IS NOT NULL"));
        Assert.Equal(beforeSkus, Skus(await admin.SimilarAsync("ml-00")));
    }
}
