using System.Net;
using Microsoft.Extensions.Logging;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>
/// Imports when the spool misbehaves: an upload folder that will not go, a spool that cannot be written. One worker
/// (so a second job stays queued behind a held one); tests here run one at a time in this class's own database.
/// </summary>
public sealed class ImportSpoolFaultTests(ImportFaultTests.FaultApp app) : IClassFixture<ImportFaultTests.FaultApp>
{
    static string Catalog(string prefix, int rows) =>
        "sku,title\n" + string.Join("\n", Enumerable.Range(0, rows).Select(i => $"{prefix}-{i:D3},{prefix} item number {i}"));

    string FolderOf(Guid id) => Path.Combine(app.SpoolPath, id.ToString("N"));

    [Fact]
    public async Task Cancelling_a_queued_job_whose_upload_cannot_be_removed_logs_a_warning_naming_the_job_and_its_folder()
    {
        var client = app.CreateAdminClient();
        Guid queued;
        string folder;
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(app.Database, rows: 8))
        {
            var running = await client.StartAsync(ImportClient.Form(Catalog("holder", 16)));
            await gate.WaitUntilHeldAsync();
            // The only worker is held: this job stays queued, and its cancel removes its upload at once.
            queued = (await client.StartAsync(ImportClient.Form(Catalog("queued", 4)))).Id;
            folder = FolderOf(queued);
            // Something the service did not write, in the job's folder: removing the folder fails (IOException).
            await File.WriteAllTextAsync(Path.Combine(folder, "operator-note.txt"), "left here by hand");

            Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync($"/imports/{queued}")).StatusCode);
            await gate.OpenAsync();
            Assert.Equal("succeeded", (await client.WaitForEndAsync(running.Id)).Status);
        }
        try
        {
            Assert.Contains(app.Logs.Entries, e => e.Level == LogLevel.Warning && e.Exception is IOException
                && e.Message.Contains(queued.ToString(), StringComparison.Ordinal) && e.Message.Contains(folder, StringComparison.Ordinal));
            Assert.Equal("cancelled", (await client.WaitForEndAsync(queued)).Status);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_upload_that_cannot_be_removed_is_logged_with_its_job_and_the_worker_goes_on()
    {
        var client = app.CreateAdminClient();
        ImportsApi.JobResponse first;
        string note;
        await using (var gate = await ItemWriteFaults.CloseAfterAsync(app.Database, rows: 8))
        {
            var job = await client.StartAsync(ImportClient.Form(Catalog("leftover", 16)));
            await gate.WaitUntilHeldAsync();
            // Something the service did not write, in the job's folder: removing the folder fails (IOException).
            note = Path.Combine(FolderOf(job.Id), "operator-note.txt");
            await File.WriteAllTextAsync(note, "left here by hand");
            await gate.OpenAsync();
            first = await client.WaitForEndAsync(job.Id);
        }
        Assert.Equal("succeeded", first.Status);

        // /health/ready says the worker's last pass failed (and stays 200); the log has it with the job's id.
        await WaitForImportsHealthAsync(client, "Degraded");
        Assert.Contains(app.Logs.Entries, e => e.Level == LogLevel.Error && e.Exception is IOException
            && e.Message.Contains(first.Id.ToString(), StringComparison.Ordinal));

        // The next job runs: the worker, and with it the host, lived on.
        var second = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("after", 4)))).Id);
        Assert.Equal("succeeded", second.Status);
        Assert.True(File.Exists(note), "nothing the service did not write is deleted");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        // The worker records its clean pass just after the job's status is written.
        await WaitForImportsHealthAsync(client, "Healthy");
    }

    static async Task WaitForImportsHealthAsync(HttpClient client, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await ImportsHealthAsync(client) != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"/health/ready's imports entry never became {status}");
            await Task.Delay(20);
        }
    }

    static async Task<string?> ImportsHealthAsync(HttpClient client)
    {
        var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return CatalogClient.Problem(await response.Content.ReadAsStringAsync()).GetProperty("entries").GetProperty("imports").GetProperty("status").GetString();
    }

    [Fact]
    public async Task Ready_stays_200_and_degraded_naming_imports_and_uploads_are_503_while_the_spool_cannot_be_written()
    {
        var client = app.CreateClient();
        var moved = app.SpoolPath + ".moved";
        Directory.Move(app.SpoolPath, moved);
        await File.WriteAllTextAsync(app.SpoolPath, "a file where the spool folder should be");
        try
        {
            // Imports are a duty beside serving: the storefront's /similar still answers, so readiness holds.
            var response = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var health = CatalogClient.Problem(await response.Content.ReadAsStringAsync());
            Assert.Equal("Degraded", health.GetProperty("status").GetString());
            var imports = health.GetProperty("entries").GetProperty("imports");
            Assert.Equal("Unhealthy", imports.GetProperty("status").GetString());
            Assert.Contains("Similarity:Imports:SpoolPath", imports.GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.False(imports.TryGetProperty("error", out _), "no exception text in public health output");
            var upload = await app.CreateAdminClient().PostAsync("/imports", ImportClient.Form(Catalog("nospool", 1)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
            Assert.Equal("application/problem+json", upload.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            File.Delete(app.SpoolPath);
            Directory.Move(moved, app.SpoolPath);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}
