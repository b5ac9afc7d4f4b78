using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>The service is stopped in the middle of a job; a new one over the same database and spool finishes it.</summary>
public sealed class ImportResumeTests
{
    sealed class SmallBatches : SimilarityApp
    {
        public SmallBatches()
        {
        }

        public SmallBatches(TestDatabase database, string spool) : base(database, spool)
        {
        }

        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Imports:BatchSize", "8")];
    }

    [Fact]
    public async Task A_job_interrupted_by_a_shutdown_completes_after_a_restart_with_exact_counts_and_no_duplicates()
    {
        const int Rows = 600;
        var first = new SmallBatches();
        await ((IAsyncLifetime)first).InitializeAsync();
        var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, Rows).Select(i => $"resume-{i:D4},Resumable item number {i}"));
        Guid jobId;
        // Five batches go in; the sixth is held at the gate while the service stops, abandoning it.
        int processedAtStop;
        await first.StartAsync(); // the items table and its index exist: the gate's trigger can go on it
        var client = first.CreateAdminClient();
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(first.Database, rows: 40))
        {
            var job = await client.StartAsync(ImportClient.Form(csv));
            jobId = job.Id;
            await gate.WaitUntilHeldAsync();
            await first.DisposeAsync(); // the host stops: the batch in flight is abandoned
            processedAtStop = await ProcessedAsync(first.Database, job.Id);
        }
        Assert.Equal(40, processedAtStop);

        await using var second = new SmallBatches(first.Database, first.SpoolPath);
        try
        {
            var done = await second.CreateAdminClient().WaitForEndAsync(jobId);
            Assert.Equal("succeeded", done.Status);
            Assert.Equal(new ImportsApi.Counts(Rows, Rows, Rows, 0, 0, 0, 0, 0), done.Counts);
            Assert.Equal((long)Rows, await first.Database.ExecuteAsync("SELECT count(*) FROM items WHERE sku LIKE 'resume-%'"));
            Assert.Equal((long)Rows, await first.Database.ExecuteAsync("SELECT count(DISTINCT sku) FROM items WHERE sku LIKE 'resume-%'"));
        }
        finally
        {
            await ((IAsyncLifetime)second).DisposeAsync();
            await first.Database.DisposeAsync();
            Directory.Delete(first.SpoolPath, recursive: true);
        }
    }

    static async Task<int> ProcessedAsync(TestDatabase database, Guid id) =>
        (int)(await database.ExecuteAsync("SELECT processed_rows FROM import_jobs WHERE id = $1", id))!;
}
