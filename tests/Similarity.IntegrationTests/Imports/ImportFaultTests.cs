using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>
/// Imports under hostile rows and injected database faults: a bad row is rejected alone, a transient fault is
/// retried, a lasting one fails the job cleanly with its upload kept for a resume, and the worker outlives an
/// error of its own. Faults are triggers and locks in this class's own database; tests here run one at a time.
/// </summary>
public sealed class ImportFaultTests(ImportFaultTests.FaultApp app) : IClassFixture<ImportFaultTests.FaultApp>
{
    public sealed class FaultApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("Similarity:Imports:BatchSize", "8"), new("Similarity:Imports:RetryAttempts", "3"),
            new("Similarity:Imports:RetryDelayMilliseconds", "1"),
        ];

        // Its tests add triggers and constraints to items: after the index is built (see WaitForVectorIndexAsync).
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await StartAsync();
        }
    }

    static string Catalog(string prefix, int rows) =>
        "sku,title\n" + string.Join("\n", Enumerable.Range(0, rows).Select(i => $"{prefix}-{i:D3},{prefix} item number {i}"));

    async Task<long> CountAsync(string prefix) =>
        (long)(await app.Database.ExecuteAsync("SELECT count(DISTINCT sku) FROM items WHERE sku LIKE $1", prefix + "-%"))!;

    async Task<IReadOnlyList<ImportError>> ErrorsAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{id}/errors"))!.Errors;

    string FolderOf(Guid id) => Path.Combine(app.SpoolPath, id.ToString("N"));

    [Fact]
    public async Task A_nul_in_a_title_a_newline_in_a_quoted_sku_and_an_overflowing_price_reject_their_rows_only()
    {
        var client = app.CreateAdminClient();
        var csv = "sku,title,price\n" +
            "row-a,Good row A,1\n" +
            "row-nul,Title with \0 inside,2\n" +
            "\"row-nl\n\",Newline in its SKU,3\n" +
            "row-price,Overflowing price,999999999999.995\n" +
            "row-b,Good row B,999999999999.99\n";

        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(csv))).Id);

        Assert.Equal("succeeded_with_errors", done.Status);
        Assert.Null(done.Error);
        Assert.Equal(new ImportsApi.Counts(5, 5, 2, 0, 0, 0, 0, 3), done.Counts);
        var errors = await ErrorsAsync(client, done.Id);
        Assert.Equal([2, 3, 4], errors.Select(e => e.Row));
        Assert.Contains("title contains a NUL", errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("SKU must be", errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("digits after the point", errors[2].Reason, StringComparison.Ordinal);
        Assert.Equal(999_999_999_999.99m, (await client.GetFromJsonAsync<Similarity.Catalog.ItemsApi.ItemResponse>("/items/row-b"))!.Price);
        Assert.Equal(2, await CountAsync("row"));
    }

    [Fact]
    public async Task Json_lines_with_nul_or_lone_surrogate_escapes_or_unstorable_numbers_reject_their_rows_only()
    {
        var client = app.CreateAdminClient();
        var jsonl = """
            {"sku": "jl-ok", "title": "Fine", "attributes": {"colour": "red"}}
            {"sku": "jl-nul", "title": "NUL in a value", "attributes": {"a": "\u0000"}}
            {"sku": "jl-key", "title": "NUL in a key", "attributes": {"\u0000": "x"}}
            {"sku": "jl-sur", "title": "Lone surrogate value", "attributes": {"a": "\ud800"}}
            {"sku": "jl-num", "title": "Huge number", "attributes": {"n": 1e999999}}
            {"sku": "jl-title", "title": "\udc00 lone in the title"}
            not json at all
            [1, 2]
            {"sku": "jl-ok2", "title": "Also fine", "price": 12.5}
            """;

        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(jsonl, "catalog.jsonl"))).Id);

        Assert.Equal("succeeded_with_errors", done.Status);
        Assert.Equal(new ImportsApi.Counts(9, 9, 2, 0, 0, 0, 0, 7), done.Counts);
        var reasons = (await ErrorsAsync(client, done.Id)).ToDictionary(e => e.Row, e => e.Reason);
        Assert.Contains("\\u0000", reasons[2], StringComparison.Ordinal);
        Assert.Contains("\\u0000", reasons[3], StringComparison.Ordinal);
        Assert.Contains("lone surrogate", reasons[4], StringComparison.Ordinal);
        Assert.Contains("number", reasons[5], StringComparison.Ordinal);
        Assert.Contains("'title'", reasons[6], StringComparison.Ordinal);
        Assert.Contains("not valid JSON", reasons[7], StringComparison.Ordinal);
        Assert.Contains("not a JSON object", reasons[8], StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync("jl"));
    }

    [Fact]
    public async Task A_row_breaking_a_database_rule_the_validation_does_not_know_is_rejected_alone_at_the_staging_table()
    {
        var client = app.CreateAdminClient();
        await app.Database.ExecuteAsync("ALTER TABLE items ADD CONSTRAINT no_forbidden_titles CHECK (title <> 'forbidden')");
        try
        {
            var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(1, 20).Select(i => i == 5 ? "rule-05,forbidden" : $"rule-{i:D2},Allowed {i}"));
            var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(csv))).Id);

            Assert.Equal("succeeded_with_errors", done.Status);
            Assert.Equal(new ImportsApi.Counts(20, 20, 19, 0, 0, 0, 0, 1), done.Counts);
            var error = Assert.Single(await ErrorsAsync(client, done.Id));
            Assert.Equal(5, error.Row);
            Assert.Contains("no_forbidden_titles", error.Reason, StringComparison.Ordinal);
            Assert.Equal(19, await CountAsync("rule"));
        }
        finally
        {
            await app.Database.ExecuteAsync("ALTER TABLE items DROP CONSTRAINT no_forbidden_titles");
        }
    }

    [Fact]
    public async Task A_field_only_change_breaking_a_database_rule_the_validation_does_not_know_is_rejected_alone()
    {
        var client = app.CreateAdminClient();
        // Brand is not embedded: a re-import that changes only brands takes the fields' update, not the staging table.
        static string Catalog(string brandOf5, string brandOf6) => "sku,title,brand\n" + string.Join("\n", Enumerable.Range(1, 12)
            .Select(i => $"fields-{i:D2},Item {i}," + (i == 5 ? brandOf5 : i == 6 ? brandOf6 : "Acme")));
        Assert.Equal("succeeded", (await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("Acme", "Acme")))).Id)).Status);
        await app.Database.ExecuteAsync("ALTER TABLE items ADD CONSTRAINT no_forbidden_brands CHECK (brand <> 'forbidden')");
        try
        {
            var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("forbidden", "Globex")))).Id);

            Assert.Equal("succeeded_with_errors", done.Status);
            Assert.Null(done.Error);
            Assert.Equal(new ImportsApi.Counts(12, 12, Inserted: 0, Updated: 1, Reembedded: 0, Unchanged: 10, Superseded: 0, Errors: 1), done.Counts);
            var error = Assert.Single(await ErrorsAsync(client, done.Id));
            Assert.Equal(5, error.Row);
            Assert.Contains("no_forbidden_brands", error.Reason, StringComparison.Ordinal);
            // The row of the same batch that broke nothing is written; the one that did keeps what it had.
            Assert.Equal("Globex", (string)(await app.Database.ExecuteAsync("SELECT brand FROM items WHERE sku = 'fields-06'"))!);
            Assert.Equal("Acme", (string)(await app.Database.ExecuteAsync("SELECT brand FROM items WHERE sku = 'fields-05'"))!);
        }
        finally
        {
            await app.Database.ExecuteAsync("ALTER TABLE items DROP CONSTRAINT no_forbidden_brands");
        }
    }

    // Serialization failure, deadlock, an administrator's shutdown of the session, a connection failure.
    [Theory]
    [InlineData("40001")]
    [InlineData("40P01")]
    [InlineData("57P01")]
    [InlineData("08006")]
    public async Task A_transient_fault_retries_the_batch_and_the_job_finishes_with_exact_counts(string sqlState)
    {
        var client = app.CreateAdminClient();
        var prefix = "transient" + sqlState.ToLowerInvariant();
        ImportsApi.JobResponse done;
        await using (await ItemWriteFaults.FailAsync(app.Database, sqlState, skip: 8, times: 2))
            done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog(prefix, 30)))).Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(new ImportsApi.Counts(30, 30, 30, 0, 0, 0, 0, 0), done.Counts);
        Assert.Equal(30, await CountAsync(prefix));
        Assert.Contains(app.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains($"Import {done.Id}: retry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connections_killed_mid_batch_are_retried_and_no_row_is_lost_or_written_twice()
    {
        var client = app.CreateAdminClient();
        ImportsApi.JobResponse done;
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(app.Database, rows: 16))
        {
            var job = await client.StartAsync(ImportClient.Form(Catalog("killed", 40)));
            await gate.WaitUntilHeldAsync();
            // The batch in flight, the worker's lock and every pooled connection end as in a database restart (57P01).
            await gate.KillOtherSessionsAsync();
            await gate.OpenAsync();
            done = await client.WaitForEndAsync(job.Id);
        }

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(new ImportsApi.Counts(40, 40, 40, 0, 0, 0, 0, 0), done.Counts);
        Assert.Equal(40L, await app.Database.ExecuteAsync("SELECT count(*) FROM items WHERE sku LIKE 'killed-%'"));
    }

    [Fact]
    public async Task A_job_that_cannot_go_on_fails_with_a_clean_message_keeps_its_private_upload_and_resumes()
    {
        var client = app.CreateAdminClient();
        Guid id;
        await using (await ItemWriteFaults.FailAsync(app.Database, "40001", skip: 16))
        {
            id = (await client.StartAsync(ImportClient.Form(Catalog("stuck", 40)))).Id;
            var failed = await client.WaitForEndAsync(id);

            Assert.Equal("failed", failed.Status);
            Assert.Equal(16, failed.Counts.Processed);
            Assert.Contains("serialization failure", failed.Error, StringComparison.Ordinal);
            Assert.Contains($"/imports/{id}/resume", failed.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("injected", failed.Error, StringComparison.Ordinal);
            var folder = FolderOf(id);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "catalog")));
        }

        var resume = await client.PostAsync($"/imports/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var done = await client.WaitForEndAsync(id);

        Assert.Equal("succeeded", done.Status);
        Assert.Null(done.Error);
        Assert.Equal(new ImportsApi.Counts(40, 40, 40, 0, 0, 0, 0, 0), done.Counts);
        Assert.Equal(40, await CountAsync("stuck"));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/imports/{id}/resume", null)).StatusCode);
    }

    [Fact]
    public async Task Posting_the_same_upload_under_the_same_key_resumes_its_failed_job()
    {
        var client = app.CreateAdminClient();
        var key = Guid.NewGuid().ToString();
        var csv = Catalog("again", 24);
        Guid id;
        await using (await ItemWriteFaults.FailAsync(app.Database, "40P01", skip: 8))
        {
            id = (await client.StartAsync(ImportClient.Form(csv), key)).Id;
            Assert.Equal("failed", (await client.WaitForEndAsync(id)).Status);
        }

        var again = await client.PostImportAsync(ImportClient.Form(csv), key);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(id, (await again.Content.ReadFromJsonAsync<ImportsApi.JobResponse>())!.Id);
        var done = await client.WaitForEndAsync(id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(new ImportsApi.Counts(24, 24, 24, 0, 0, 0, 0, 0), done.Counts);
        Assert.Equal(24, await CountAsync("again"));
    }
}
