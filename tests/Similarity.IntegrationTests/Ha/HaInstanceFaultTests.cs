using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// Two instances of the service (real processes) over the formation: the one running an import is killed with
/// SIGKILL and the other takes the job over and completes it, exactly once.
/// </summary>
[Collection(HaCollection.Name)]
public sealed class HaInstanceFaultTests(HaFormation formation)
{
    [Fact]
    public async Task An_import_whose_instance_is_killed_is_taken_over_by_the_other_and_completes_exactly_once()
    {
        const int Rows = 2000; // ~1 min at the tiny models' rate: the second instance starts well before the end
        var (database, spool) = await HaApp.CreateStateAsync(formation);
        try
        {
            await using var first = await HaApiProcess.StartAsync(database.ConnectionString, spool, "first");
            var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, Rows).Select(i => $"taken-{i:D4},Taken over item number {i}"));
            var job = await first.CreateAdminClient().StartAsync(ImportClient.Form(csv));
            await HaApp.PollAsync(database, "SELECT processed_rows FROM import_jobs WHERE id = $1", v => v is int n && n >= 40, TimeSpan.FromSeconds(60), job.Id);

            // The second starts while the first holds the job: it cannot claim it until the first is gone.
            await using var second = await HaApiProcess.StartAsync(database.ConnectionString, spool, "second");
            var processedAtKill = (int)(await database.ExecuteAsync("SELECT processed_rows FROM import_jobs WHERE id = $1", job.Id))!;
            Assert.True(processedAtKill < Rows, $"the job ended ({processedAtKill} rows) before the first instance was killed");
            await first.KillAsync();

            var done = await second.CreateAdminClient().WaitForEndAsync(job.Id, timeoutSeconds: 180);
            Assert.Equal(ImportStatus.Succeeded, done.Status);
            Assert.Equal(Rows, done.Counts.Processed);
            Assert.Equal(Rows, done.Counts.Inserted + done.Counts.Updated + done.Counts.Unchanged);
            Assert.Equal((long)Rows, await database.ExecuteAsync("SELECT count(*) FROM items WHERE sku LIKE 'taken-%'"));
            Assert.Equal((long)Rows, await database.ExecuteAsync("SELECT count(DISTINCT sku) FROM items WHERE sku LIKE 'taken-%'"));
        }
        finally
        {
            await database.DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }
}
