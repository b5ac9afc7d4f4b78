using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Similarity.Cli;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;
using Spectre.Console;

namespace Similarity.IntegrationTests.Imports;

public sealed class ImportJobControlTests(ImportJobControlTests.SmallBatchApp app) : IClassFixture<ImportJobControlTests.SmallBatchApp>
{
    public sealed class SmallBatchApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Imports:BatchSize", "8")];
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_keeps_exactly_its_committed_batches()
    {
        var client = app.CreateAdminClient();
        var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, 800).Select(i => $"cancel-{i:D4},Cancellable item {i}"));
        var job = await client.StartAsync(ImportClient.Form(csv));
        await using var dataSource = NpgsqlDataSource.Create(app.Database.ConnectionString);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetFromJsonAsync<ImportsApi.JobResponse>($"/imports/{job.Id}"))!.Counts.Processed < 16)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never got going");
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync($"/imports/{job.Id}")).StatusCode);
        var ended = await client.WaitForEndAsync(job.Id);

        Assert.Equal("cancelled", ended.Status);
        Assert.InRange(ended.Counts.Processed, 16, 799);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM items WHERE sku LIKE 'cancel-%'");
        Assert.Equal((long)ended.Counts.Processed, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Changing_one_title_re_embeds_only_that_row()
    {
        var client = app.CreateAdminClient();
        string Catalog(string changed) => "sku,title\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"one-{i},{(i == 17 ? changed : $"Item {i}")}"));
        await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("Item 17")))).Id);

        var again = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("Item seventeen, renamed")))).Id);

        Assert.Equal(new ImportsApi.Counts(30, 30, 0, 1, 29, 0, 0), again.Counts);
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
    public async Task The_cli_follows_the_job_prints_the_rejected_rows_and_exits_by_outcome()
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
            var exit = await new ImportCommand(app.CreateAdminClient(), console, TimeSpan.FromMilliseconds(20)).RunAsync(catalog, null, default);

            Assert.Equal(0, exit);
            var text = output.ToString();
            Assert.Contains("succeeded_with_errors", text, StringComparison.Ordinal);
            Assert.Contains("1 inserted", text, StringComparison.Ordinal);
            Assert.Contains("title is required", text, StringComparison.Ordinal);

            var refused = await new ImportCommand(app.CreateClient(), console, TimeSpan.FromMilliseconds(20)).RunAsync(catalog, null, default);
            Assert.Equal(3, refused);
        }
        finally
        {
            File.Delete(catalog);
        }
    }
}
