using System.Net;
using System.Net.Http.Json;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Operations;

/// <summary>
/// The switch between model sets under way: an embedding interrupted by a restart resumes, an import in progress
/// holds the switch, and /similar answers throughout, each answer wholly from one set.
/// </summary>
public sealed class ModelSwitchTests
{
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
