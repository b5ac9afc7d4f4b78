using Npgsql;
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
        var job = await first.CreateAdminClient().StartAsync(ImportClient.Form(csv));

        // Wait until some batches, but not all, are committed; then stop the service mid-job.
        await using (var dataSource = NpgsqlDataSource.Create(first.Database.ConnectionString))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await ProcessedAsync(dataSource, job.Id) < 40)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job never started");
                await Task.Delay(20);
            }
        }
        await first.DisposeAsync(); // the host stops: the batch in flight is abandoned

        await using var dataSourceAfter = NpgsqlDataSource.Create(first.Database.ConnectionString);
        var processedAtStop = await ProcessedAsync(dataSourceAfter, job.Id);
        Assert.InRange(processedAtStop, 40, Rows - 1);

        await using var second = new SmallBatches(first.Database, first.SpoolPath);
        try
        {
            var done = await second.CreateAdminClient().WaitForEndAsync(job.Id);
            Assert.Equal("succeeded", done.Status);
            Assert.Equal(new ImportsApi.Counts(Rows, Rows, Rows, 0, 0, 0, 0), done.Counts);
            await using var count = dataSourceAfter.CreateCommand("SELECT count(*), count(DISTINCT sku) FROM items WHERE sku LIKE 'resume-%'");
            await using var reader = await count.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal((long)Rows, reader.GetInt64(0));
            Assert.Equal((long)Rows, reader.GetInt64(1));
        }
        finally
        {
            await ((IAsyncLifetime)second).DisposeAsync();
            await first.Database.DisposeAsync();
            Directory.Delete(first.SpoolPath, recursive: true);
        }
    }

    static async Task<int> ProcessedAsync(NpgsqlDataSource dataSource, Guid id)
    {
        await using var command = dataSource.CreateCommand("SELECT processed_rows FROM import_jobs WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
