using System.Net;
using Microsoft.Extensions.Logging;
using Similarity.Hosting;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Operations;

/// <summary>What a short import and its polling write to the log at Information: a line per request, the job's start and end, nothing more.</summary>
public sealed class QuietLogTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task A_short_import_logs_one_line_per_request_its_start_and_its_end_and_no_polling()
    {
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode);
        var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form("sku,title\nquiet-1,Blue mug\nquiet-2,Red mug\n"))).Id);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!app.Logs.Entries.Any(e => e.Message.Contains($"Import {job.Id} succeeded:", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the import's end was never logged");
            await Task.Delay(20);
        }

        var entries = app.Logs.Entries.ToArray();
        var requests = entries.Where(e => e.Category == RequestLog.Category).Select(e => e.Message).ToArray();
        Assert.Single(requests, m => m.StartsWith("POST /imports 202 in ", StringComparison.Ordinal) && m.EndsWith(" ms", StringComparison.Ordinal));
        // Pollers ask again and again: their lines are Debug, below the service's level.
        Assert.DoesNotContain(requests, m => m.Contains("/health/", StringComparison.Ordinal) || m.Contains($"/imports/{job.Id}", StringComparison.Ordinal));
        var jobLines = entries.Where(e => e.Message.Contains(job.Id.ToString(), StringComparison.Ordinal)).Select(e => e.Message).ToArray();
        Assert.Equal(2, jobLines.Length);
        Assert.StartsWith($"Import {job.Id} (native) running from row 0", jobLines[0], StringComparison.Ordinal);
        Assert.StartsWith($"Import {job.Id} succeeded: 2 rows, 2 inserted", jobLines[1], StringComparison.Ordinal);
        Assert.DoesNotContain(entries, e => e.Message.Contains("(null)", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.Level < LogLevel.Warning
            && (e.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal) || e.Category.StartsWith("Polly", StringComparison.Ordinal)));
    }
}
