using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Catalog;
using Similarity.Cli;
using Similarity.Encoders;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;
using Spectre.Console;

namespace Similarity.IntegrationTests.Imports;

public sealed class ImportJobControlTests(ImportJobControlTests.SmallBatchApp app) : IClassFixture<ImportJobControlTests.SmallBatchApp>
{
    /// <summary>Small batches and two workers, so two jobs really run at once and interleave their writes.</summary>
    public sealed class SmallBatchApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("Similarity:Imports:BatchSize", "8"), new("Similarity:Imports:Workers", "2")];

        // A test adds a gate trigger to items: after the index is built (see WaitForVectorIndexAsync).
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await StartAsync();
        }
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_keeps_exactly_its_committed_batches()
    {
        var client = app.CreateAdminClient();
        var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, 800).Select(i => $"cancel-{i:D4},Cancellable item {i}"));
        ImportsApi.JobResponse ended;
        // Two batches go in; the third is held at the gate while the job is cancelled, then let go.
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(app.Database, rows: 16))
        {
            var job = await client.StartAsync(ImportClient.Form(csv));
            await gate.WaitUntilHeldAsync();
            Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync($"/imports/{job.Id}")).StatusCode);
            await gate.OpenAsync();
            ended = await client.WaitForEndAsync(job.Id);
        }

        Assert.Equal("cancelled", ended.Status);
        Assert.Equal(16, ended.Counts.Processed);
        Assert.Equal(16L, await app.Database.ExecuteAsync("SELECT count(*) FROM items WHERE sku LIKE 'cancel-%'"));
    }

    [Fact]
    public async Task Changing_one_title_re_embeds_only_that_row()
    {
        var client = app.CreateAdminClient();
        string Catalog(string changed) => "sku,title\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"one-{i},{(i == 17 ? changed : $"Item {i}")}"));
        await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("Item 17")))).Id);

        var again = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("Item seventeen, renamed")))).Id);

        Assert.Equal(new ImportsApi.Counts(30, 30, 0, 0, 1, 29, 0, 0), again.Counts);
    }

    [Fact]
    public async Task Errors_page_in_row_order()
    {
        var client = app.CreateAdminClient();
        var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(1, 10).Select(i => i % 2 == 0 ? $"bad page {i},T" : $"page-{i},T"));
        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(csv))).Id);

        var first = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{done.Id}/errors?limit=3"))!;
        Assert.Equal([2, 4, 6], first.Errors.Select(e => e.Row));
        var second = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{done.Id}/errors?limit=3&after={first.NextAfter}"))!;
        Assert.Equal([8, 10], second.Errors.Select(e => e.Row));
        Assert.Null(second.NextAfter);
    }

    [Fact]
    public async Task The_cli_follows_the_job_prints_the_row_errors_and_exits_by_outcome()
    {
        var catalog = Path.Combine(app.SpoolPath, "..", $"cli-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(catalog, "sku,title,price\ncli-1,Lamp,3\ncli-2,,4\ncli-3,Chair,x\n");
        try
        {
            var output = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(output),
            });
            console.Profile.Width = 10_000; // the summary line is read whole, not as a terminal would wrap it
            var exit = await new ImportCommand(app.CreateAdminClient(), console, TimeSpan.FromMilliseconds(20)).RunAsync(catalog, null, default);

            Assert.Equal(0, exit);
            var text = output.ToString();
            Assert.Contains("succeeded_with_errors", text, StringComparison.Ordinal);
            Assert.Contains("1 inserted", text, StringComparison.Ordinal);
            Assert.Contains("2 row errors", text, StringComparison.Ordinal);
            Assert.Contains("title is required", text, StringComparison.Ordinal);

            var refused = await new ImportCommand(app.CreateClient(), console, TimeSpan.FromMilliseconds(20)).RunAsync(catalog, null, default);
            Assert.Equal(3, refused);
        }
        finally
        {
            File.Delete(catalog);
        }
    }

    [Fact]
    public async Task Two_concurrent_imports_with_overlapping_skus_both_finish_with_one_row_per_sku()
    {
        var client = app.CreateAdminClient();
        string Catalog(string version) => "sku,title\n" + string.Join("\n", Enumerable.Range(0, 150).Select(i => $"both-{i:D3},{version} item {i}"));
        var a = await client.StartAsync(ImportClient.Form(Catalog("alpha")));
        var b = await client.StartAsync(ImportClient.Form(Catalog("beta")));

        Assert.All(await Task.WhenAll(client.WaitForEndAsync(a.Id), client.WaitForEndAsync(b.Id)), job => Assert.Equal("succeeded", job.Status));
        var stored = await BruteForce.ReadAllAsync(app.Database);
        var both = stored.Where(s => s.Sku.StartsWith("both-", StringComparison.Ordinal)).ToList();
        Assert.Equal(150, both.Count);

        // Each row's vectors are those of its final text.
        var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        foreach (var sku in new[] { "both-000", "both-077", "both-149" })
        {
            var item = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>($"/items/{sku}"))!;
            var expected = (await pipeline.EmbedAsync(null, CatalogText.Compose(item.Title, null, null), default)).Fusion.Fused;
            var actual = both.Single(s => s.Sku == sku).Fused;
            Assert.True(expected.Zip(actual, (e, x) => Math.Abs(e - x)).Max() < 1e-5, $"{sku}'s vector is not that of '{item.Title}'");
        }
    }
}
