using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Pgvector;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Operations;

/// <summary>
/// Issue #13 on a running service: a second model set (the committed clipart set, beside the tiny live one) is
/// deployed, embedded in the background, compared, activated and rolled back, with /similar answering throughout;
/// a restart in the middle of the embedding resumes it. Every expected ranking is a brute force over the vectors read
/// straight from the table.
/// </summary>
public sealed class ModelLifecycleTests
{
    const string Candidate = "clip";
    const int Items = 24;

    sealed class App : SimilarityApp
    {
        readonly string _embedRate;

        public App(string embedRate = "1000") => _embedRate = embedRate;

        public App(TestDatabase database, string spool, string embedRate) : base(database, spool) => _embedRate = embedRate;

        // Exact answers to compare with: the live search (no lists), which at this size the index answers exactly.
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("Similarity:Search:ListSize", "0"), new("Similarity:Models:EmbedItemsPerSecond", _embedRate)];
    }

    static TestItem ItemOf(int i) => new($"ml-{i:D2}", $"{(i % 3 == 0 ? "red" : i % 3 == 1 ? "blue" : "green")} {(i % 2 == 0 ? "wool" : "leather")} item {i}",
        i % 4 == 0 ? "shirts" : "bags", Image: i % 2 == 0 ? TestImages.Noise(48, 48, seed: i) : null);

    static async Task<App> StartWithCatalogAsync(string embedRate = "1000")
    {
        var app = new App(embedRate);
        await app.InitializeAsync();
        await app.StartAsync();
        var admin = app.CreateAdminClient();
        for (var i = 0; i < Items; i++)
            await admin.PutItemAsync(ItemOf(i));
        return app;
    }

    /// <summary>The trained default set as the candidate's bundle: another fingerprint than the tests' tiny live set.</summary>
    static ByteArrayContent CandidateBundle() => Bundle(TestPaths.Models("clipart"));

    /// <summary>A bundle of a model set's folder, zipped here; <paramref name="tamper"/> may change a file first.</summary>
    static ByteArrayContent Bundle(string folder, Action<string>? tamper = null)
    {
        var copy = Directory.CreateTempSubdirectory("bundle-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(folder))
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            tamper?.Invoke(copy);
            var zip = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.zip");
            ZipFile.CreateFromDirectory(copy, zip);
            var content = new ByteArrayContent(File.ReadAllBytes(zip));
            File.Delete(zip);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            return content;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    static async Task<JsonElement> ModelsAsync(HttpClient admin) => (await admin.GetFromJsonAsync<JsonElement>("/models")).GetProperty("models");

    static JsonElement SetNamed(JsonElement models, string name) => models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);

    /// <summary>Polls GET /models until the set's status is ready (the job's end is only visible there).</summary>
    static async Task WaitUntilReadyAsync(HttpClient admin, string name)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (SetNamed(await ModelsAsync(admin), name).GetProperty("status").GetString() != "ready")
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} was not ready after 2 minutes");
            await Task.Delay(100);
        }
    }

    sealed record Vectors(string Sku, double[]? Live, double[]? Standby, string? LiveFingerprint, string? StandbyFingerprint);

    static async Task<List<Vectors>> ReadVectorsAsync(TestDatabase database)
    {
        var builder = new NpgsqlDataSourceBuilder(database.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await using var command = dataSource.CreateCommand("SELECT sku, embedding, standby_embedding, fingerprint, standby_fingerprint FROM items ORDER BY sku");
        await using var reader = await command.ExecuteReaderAsync();
        var all = new List<Vectors>();
        double[]? Read(int i) => reader.IsDBNull(i) ? null : [.. reader.GetFieldValue<Vector>(i).ToArray().Select(v => (double)v)];
        while (await reader.ReadAsync())
            all.Add(new Vectors(reader.GetString(0), Read(1), Read(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        return all;
    }

    /// <summary>The exact top 10 of <paramref name="sku"/> under one group of vectors, best first.</summary>
    static List<string> TopTen(List<Vectors> all, string sku, Func<Vectors, double[]?> group)
    {
        var query = group(all.Single(v => v.Sku == sku))!;
        return [.. all.Where(v => v.Sku != sku && group(v) is not null)
            .OrderByDescending(v => BruteForce.Cosine(query, group(v)!)).ThenBy(v => v.Sku, StringComparer.Ordinal).Take(10).Select(v => v.Sku)];
    }

    static List<string> Skus(Similar.SimilarApi.SimilarResponse response) => [.. response.Results.Select(r => r.Sku)];

    [Fact]
    public async Task A_second_set_is_deployed_checked_embedded_compared_activated_rolled_back_and_retired()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var models = await ModelsAsync(admin);
        var live = Assert.Single(models.EnumerateArray());
        Assert.Equal("live", live.GetProperty("status").GetString());
        var liveName = live.GetProperty("name").GetString()!;
        var before = await admin.GetAsync("/similar/ml-00");
        var beforeTag = before.Headers.ETag!.Tag;
        var beforeSkus = Skus((await before.Content.ReadFromJsonAsync<Similar.SimilarApi.SimilarResponse>())!);

        // Refused, each naming what is wrong, and nothing deployed.
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

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/models/{Candidate}/embed", null)).StatusCode);
        await WaitUntilReadyAsync(admin, Candidate);
        var progress = SetNamed(await ModelsAsync(admin), Candidate).GetProperty("embedding");
        Assert.Equal(Items, progress.GetProperty("embedded").GetInt64());
        Assert.Equal(Items, progress.GetProperty("total").GetInt64());
        var fingerprint = candidate.GetProperty("fingerprint").GetString()!;
        var vectors = await ReadVectorsAsync(app.Database);
        Assert.All(vectors, v => Assert.Equal(fingerprint, v.StandbyFingerprint));
        Assert.All(vectors, v => Assert.Equal(128, v.Standby!.Length));

        // The diff against a brute force over both groups of vectors, item by item.
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

        // Activation: /similar answers from the candidate's vectors, with another ETag.
        await ActivateAsync(app, admin, Candidate);
        models = await ModelsAsync(admin);
        Assert.Equal("live", SetNamed(models, Candidate).GetProperty("status").GetString());
        Assert.Equal("ready", SetNamed(models, liveName).GetProperty("status").GetString());
        var after = await admin.GetAsync("/similar/ml-00");
        Assert.NotEqual(beforeTag, after.Headers.ETag!.Tag);
        Assert.Equal(TopTen(vectors, "ml-00", v => v.Standby), Skus((await after.Content.ReadFromJsonAsync<Similar.SimilarApi.SimilarResponse>())!));
        Assert.Equal(fingerprint, (await admin.GetFromJsonAsync<JsonElement>("/items/ml-00")).GetProperty("fingerprint").GetString());

        // A PUT while the candidate is live is embedded by it, and by the previous set in the background.
        await admin.PutItemAsync(ItemOf(1) with { Title = "a changed title for the rollback" });
        await WaitUntilReadyAsync(admin, liveName);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (SetNamed(await ModelsAsync(admin), liveName).GetProperty("embedding").GetProperty("embedded").GetInt64() < Items)
        {
            Assert.True(DateTime.UtcNow < deadline, "the previous set did not embed the changed item");
            await Task.Delay(100);
        }

        // Rollback: the previous set answers again, as before for an unchanged page.
        await ActivateAsync(app, admin, liveName);
        vectors = await ReadVectorsAsync(app.Database);
        Assert.Equal(TopTen(vectors, "ml-00", v => v.Live), Skus(await admin.SimilarAsync("ml-00")));
        Assert.Equal(TopTen(vectors, "ml-01", v => v.Live), Skus(await admin.SimilarAsync("ml-01")));
        Assert.NotEqual(beforeSkus, TopTen(vectors, "ml-00", v => v.Standby)); // the two sets rank differently: the rollback is visible

        // Retirement: the live set cannot go; the other goes with its vectors and its index.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/models/{liveName}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/models/{Candidate}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/models/{Candidate}")).StatusCode);
        Assert.Equal("retired", SetNamed(await ModelsAsync(admin), Candidate).GetProperty("status").GetString());
        Assert.Equal(0L, await app.Database.ExecuteAsync("SELECT count(*) FROM items WHERE standby_fingerprint IS NOT NULL OR standby_embedding IS NOT NULL"));
        Assert.Equal(false, await app.Database.ExecuteAsync($"SELECT to_regclass('items_hnsw_{fingerprint}') IS NOT NULL"));
        Assert.Equal(beforeSkus, Skus(await admin.SimilarAsync("ml-00")));
    }

    [Fact]
    public async Task An_embedding_stopped_by_a_restart_resumes_where_it_was()
    {
        var first = await StartWithCatalogAsync();
        var admin = first.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync($"/models/{Candidate}", CandidateBundle())).StatusCode);
        List<(string Sku, string Version)> embeddedBefore;
        // The first round of 8 items is written; the next is held at the gate while the service stops.
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(first.Database, rows: 8))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/models/{Candidate}/embed", null)).StatusCode);
            await gate.WaitUntilHeldAsync();
            await first.DisposeAsync();
            embeddedBefore = await RowVersionsAsync(first.Database, "standby_fingerprint IS NOT NULL");
        }
        Assert.Equal(8, embeddedBefore.Count);

        var second = new App(first.Database, first.SpoolPath, "1000");
        try
        {
            await second.StartAsync();
            var admin2 = second.CreateAdminClient();
            Assert.Contains(SetNamed(await ModelsAsync(admin2), Candidate).GetProperty("status").GetString(), new[] { "embedding", "ready" });
            await WaitUntilReadyAsync(admin2, Candidate);
            Assert.Equal(Items, (await RowVersionsAsync(second.Database, "standby_fingerprint IS NOT NULL")).Count);
            // Those embedded before the stop were not written again: their row versions are the same.
            var now = (await RowVersionsAsync(second.Database, "true")).ToDictionary(r => r.Sku, r => r.Version);
            Assert.All(embeddedBefore, r => Assert.Equal(r.Version, now[r.Sku]));

            // The live set is the database's: activated, it is still live after another restart, with nothing to edit.
            await ActivateAsync(second, admin2, Candidate);
            await second.DisposeAsync();
            var third = new App(first.Database, first.SpoolPath, "1000");
            try
            {
                await third.StartAsync();
                var admin3 = third.CreateAdminClient();
                Assert.Equal("live", SetNamed(await ModelsAsync(admin3), Candidate).GetProperty("status").GetString());
                var vectors = await ReadVectorsAsync(third.Database);
                Assert.Equal(TopTen(vectors, "ml-03", v => v.Live), Skus(await admin3.SimilarAsync("ml-03")));
                Assert.All(vectors, v => Assert.Equal(128, v.Live!.Length)); // the clipart set's vectors are the live ones
            }
            finally
            {
                await third.DisposeAsync();
            }
        }
        finally
        {
            await second.DisposeAsync();
            await first.Database.DisposeAsync();
            Directory.Delete(first.SpoolPath, recursive: true);
        }
    }

    [Fact]
    public async Task An_import_in_progress_holds_the_switch_and_the_live_set_stays()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = (await ModelsAsync(admin))[0].GetProperty("name").GetString()!;
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync($"/models/{Candidate}", CandidateBundle())).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/models/{Candidate}/embed", null)).StatusCode);
        await WaitUntilReadyAsync(admin, Candidate);

        Guid job;
        // The import's first write is held at the gate: the job is running, with the set live when it started.
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(app.Database, rows: 0))
        {
            job = (await admin.StartAsync(ImportClient.Form("sku,title\nml-imported,an imported item"))).Id;
            await gate.WaitUntilHeldAsync();
            var refused = await admin.PostAsync($"/models/{Candidate}/activate", null);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("import job(s) are queued or running", CatalogClient.Problem(await refused.Content.ReadAsStringAsync()).GetProperty("detail").GetString());
            Assert.Equal("live", SetNamed(await ModelsAsync(admin), liveName).GetProperty("status").GetString());
        }
        await admin.WaitForAsync(job, j => j.Status is "succeeded");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/similar/ml-imported")).StatusCode);
    }

    static async Task<List<(string Sku, string Version)>> RowVersionsAsync(TestDatabase database, string where)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT sku, xmin::text FROM items WHERE {where} ORDER BY sku", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    [Fact]
    public async Task Similar_answers_throughout_embedding_switch_and_rollback_each_answer_wholly_from_one_set()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        var liveName = (await ModelsAsync(admin))[0].GetProperty("name").GetString()!;
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync($"/models/{Candidate}", CandidateBundle())).StatusCode);

        var answers = new System.Collections.Concurrent.ConcurrentBag<(string Sku, HttpStatusCode Status, List<string> Results)>();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var client = app.CreateClient();
            for (var i = r; !stop.IsCancellationRequested; i++)
            {
                var sku = $"ml-{i % Items:D2}";
                var response = await client.GetAsync($"/similar/{sku}");
                answers.Add((sku, response.StatusCode, response.IsSuccessStatusCode
                    ? Skus((await response.Content.ReadFromJsonAsync<Similar.SimilarApi.SimilarResponse>())!) : []));
            }
        })).ToList();

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/models/{Candidate}/embed", null)).StatusCode);
        await WaitUntilReadyAsync(admin, Candidate);
        var countBefore = answers.Count;
        await ActivateAsync(app, admin, Candidate);
        await WaitForMoreAnswersAsync(answers, countBefore + 50);
        await ActivateAsync(app, admin, liveName);
        await WaitForMoreAnswersAsync(answers, answers.Count + 50);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        var vectors = await ReadVectorsAsync(app.Database);
        var underLive = vectors.ToDictionary(v => v.Sku, v => TopTen(vectors, v.Sku, x => x.Live));
        var underCandidate = vectors.ToDictionary(v => v.Sku, v => TopTen(vectors, v.Sku, x => x.Standby));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(answers, a => Assert.True(a.Results.SequenceEqual(underLive[a.Sku]) || a.Results.SequenceEqual(underCandidate[a.Sku]),
            $"{a.Sku}: [{string.Join(", ", a.Results)}] is neither set's answer"));
        Assert.Contains(answers, a => a.Results.SequenceEqual(underCandidate[a.Sku]) && !a.Results.SequenceEqual(underLive[a.Sku])); // the switch was seen
    }

    static async Task ActivateAsync(SimilarityApp app, HttpClient admin, string name)
    {
        var response = await admin.PostAsync($"/models/{name}/activate", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"activate {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{app.Logs.Problems}");
    }

    static async Task WaitForMoreAnswersAsync<T>(System.Collections.Concurrent.ConcurrentBag<T> answers, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (answers.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the readers stopped answering");
            await Task.Delay(20);
        }
    }
}
