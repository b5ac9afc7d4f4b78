using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Hosting;

/// <summary>
/// One encoder request at a time and one waiting: a request held inside the text encoder fills the capacity,
/// so what comes next shows the limits deterministically.
/// </summary>
public sealed class BusyEncodersApp : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Similarity:RateLimits:EncoderConcurrency", "1"),
        new("Similarity:RateLimits:EncoderQueue", "1"),
        new("Similarity:RateLimits:ImportShare", "1"),
    ];
}

public sealed class EncoderCapacityTests(BusyEncodersApp app) : IClassFixture<BusyEncodersApp>
{
    static readonly TimeSpan Stuck = TimeSpan.FromMinutes(2);

    EncoderCapacity Capacity => app.Services.GetRequiredService<EncoderCapacity>();

    [Fact]
    public async Task When_the_encoders_are_full_encoder_routes_answer_429_and_the_storefront_is_untouched()
    {
        var admin = app.CreateAdminClient();
        await admin.PutItemAsync(new TestItem("busy-1", "red wool scarf"));
        await admin.PutItemAsync(new TestItem("busy-2", "blue wool scarf"));

        using var hold = new TextEncoderHold(app);
        var running = admin.PostAsync("/embed", EmbedClient.Form(text: "held in the encoder"));
        await hold.Entered.WaitAsync(Stuck);
        var queued = admin.PostAsync("/embed", EmbedClient.Form(text: "waits for the one running"));
        await Until(() => Capacity.Statistics!.CurrentQueuedCount == 1);

        foreach (var refused in new[]
        {
            await admin.PostAsync("/embed", EmbedClient.Form(text: "one too many")),
            await admin.PostAsync("/search", EmbedClient.Form(text: "one too many")),
            await admin.PutAsync("/items/busy-3", CatalogClient.Form(new TestItem("busy-3", "green wool scarf"))),
        })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("1", Assert.Single(refused.Headers.GetValues("Retry-After")));
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("The encoders are busy.", problem.GetProperty("title").GetString());
            Assert.Contains("EncoderConcurrency", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        // The key is checked before the capacity is asked for.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PutAsync("/items/busy-3", CatalogClient.Form(new TestItem("busy-3", "x")))).StatusCode);
        // The storefront's routes are never limited by the encoders.
        Assert.Equal("busy-2", (await admin.SimilarAsync("busy-1")).Results[0].Sku);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/items/busy-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/ready")).StatusCode);

        hold.Release();
        Assert.Equal(HttpStatusCode.OK, (await running.WaitAsync(Stuck)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await queued.WaitAsync(Stuck)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/embed", EmbedClient.Form(text: "room again"))).StatusCode);
    }

    [Fact]
    public async Task An_import_waits_for_its_share_of_the_encoders()
    {
        var admin = app.CreateAdminClient();
        using var hold = new TextEncoderHold(app);
        var running = admin.PostAsync("/embed", EmbedClient.Form(text: "held in the encoder"));
        await hold.Entered.WaitAsync(Stuck);

        var job = await admin.StartAsync(ImportClient.Form("sku,title\nshare-1,yellow cotton shirt\nshare-2,grey cotton shirt\n"));
        // The import's batch is ready and queues for its share behind the request that holds the encoders.
        await Until(() => Capacity.Statistics!.CurrentQueuedCount == 1);
        Assert.Equal(0, (await admin.GetFromJsonAsync<ImportsApi.JobResponse>($"/imports/{job.Id}"))!.Counts.Processed);

        hold.Release();
        Assert.Equal(HttpStatusCode.OK, (await running.WaitAsync(Stuck)).StatusCode);
        var ended = await admin.WaitForEndAsync(job.Id);
        Assert.Equal("succeeded", ended.Status);
        Assert.Equal(2, ended.Counts.Inserted);
    }

    static async Task Until(Func<bool> condition)
    {
        if (!await Task.Run(() => SpinWait.SpinUntil(condition, Stuck)))
            throw new TimeoutException("the condition was not reached");
    }
}

/// <summary>A client sending encoder requests faster than its token bucket allows; the bucket does not refill during the test.</summary>
public sealed class OneGreedyClientApp : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Similarity:RateLimits:PerClientBurst", "2"),
        new("Similarity:RateLimits:PerClientPerSecond", "1"),
        new("Similarity:RateLimits:PerClientRefillSeconds", "3600"),
        new("Similarity:RateLimits:RefusalDelayMilliseconds", $"{RefusalDelay.TotalMilliseconds}"),
    ];

    public static readonly TimeSpan RefusalDelay = TimeSpan.FromMilliseconds(300);
}

public sealed class PerClientRateLimitTests(OneGreedyClientApp app) : IClassFixture<OneGreedyClientApp>
{
    [Fact]
    public async Task A_client_over_its_bucket_gets_429_with_retry_after_and_its_storefront_calls_still_pass()
    {
        var client = app.CreateClient();
        // Ten against a bucket of two that regains its next token only after an hour: exactly two pass, at any speed.
        var sent = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var answer = await client.PostAsync("/embed", EmbedClient.Form(text: $"scarf {i}"));
            return (Answer: answer, Waited: started.Elapsed);
        }));
        var answers = sent.Select(s => s.Answer).ToArray();

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToArray();
        Assert.Equal(8, refused.Length);
        // A refusal is held for the configured delay before it is sent: a client that retries at once is slowed to it.
        Assert.All(sent.Where(s => s.Answer.StatusCode == HttpStatusCode.TooManyRequests), s => Assert.True(s.Waited >= OneGreedyClientApp.RefusalDelay, $"refused after {s.Waited}"));
        foreach (var answer in refused)
        {
            Assert.True(int.Parse(Assert.Single(answer.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture) >= 1);
            var problem = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Too many encoder requests from this client.", problem.GetProperty("title").GetString());
            Assert.Contains("PerClientBurst", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        // The same client's reads are not counted against it.
        foreach (var _ in Enumerable.Range(0, 20))
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/similar/no-such-item")).StatusCode);
    }
}

/// <summary>Holds the first text batch inside the encoder (its batching loop) until released.</summary>
sealed class TextEncoderHold : IDisposable
{
    readonly EmbeddingPipeline _pipeline;
    readonly SemaphoreSlim _release = new(0);
    int _batches;

    public TextEncoderHold(SimilarityApp app)
    {
        _pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        _pipeline.Text.ModelRan += Hold;
    }

    public SemaphoreSlim Entered { get; } = new(0);

    void Hold(ModelRun run)
    {
        if (Interlocked.Increment(ref _batches) != 1)
            return;
        Entered.Release();
        _release.Wait();
    }

    public void Release() => _release.Release();

    public void Dispose()
    {
        _pipeline.Text.ModelRan -= Hold;
        _release.Release();
        _release.Dispose();
        Entered.Dispose();
    }
}
