using System.Net;
using System.Net.Http.Json;
using System.Text;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.EventsClient;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>One batch of events stored at a time and none waiting; on Kestrel, so a request's body really streams.</summary>
public sealed class OneBatchAtATimeApp : KestrelSimilarityApp
{
    public HttpClient Client(bool admin = true)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (admin)
            client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:EventsConcurrency", "1"), new("Similarity:Feedback:EventsQueue", "0")];
}

/// <summary>/events has its own share of the service: past it a batch is a 429 naming the settings, and /similar still answers.</summary>
public sealed class EventsIsolationTests(OneBatchAtATimeApp app) : IClassFixture<OneBatchAtATimeApp>
{
    [Fact]
    public async Task A_batch_over_the_events_concurrency_is_a_429_while_similar_answers()
    {
        // The held batch takes the one permit once the server reaches it. Another batch sent too early passes, or takes
        // the permit first and the held one is refused: then release that held batch and hold a new one.
        HeldBatch held = null!;
        Task<HttpResponseMessage> holding = null!;
        HttpResponseMessage? refused = null;
        var attempt = 0;
        await WaitForAsync(async () =>
        {
            if (holding is not null)
            {
                held.Release.TrySetResult();
                await holding;
            }
            held = Held($"held-{++attempt}");
            holding = app.Client().PostAsync("/events", held);
            await held.Started.Task;
            var response = await app.Client().PostAsJsonAsync("/events", new { events = new[] { Event($"other-{Guid.NewGuid():N}") } });
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
            return refused is not null;
        }, "a 429 for a second batch");
        var similar = await app.Client(admin: false).GetAsync("/similar/no-such-item");
        held.Release.SetResult();
        var heldAnswer = await holding;

        Assert.Contains("EventsConcurrency", Json(await refused!.Content.ReadAsStringAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.NotFound, similar.StatusCode); // answered, not limited
        Assert.Equal(HttpStatusCode.OK, heldAnswer.StatusCode);
        Assert.Equal(1, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id = $1", $"held-{attempt}"));
    }

    static HeldBatch Held(string eventId) => new HeldBatch(
        $$"""{"events": [{"eventId": "{{eventId}}", "type": "view", "visitorId": "v-held", "sku": "sku-1", "timestamp": "{{DateTimeOffset.UtcNow:O}}"}]}""").Typed();

    /// <summary>A JSON body sent in two parts: the second only once the test releases it, so the request holds its permit meanwhile.</summary>
    sealed class HeldBatch(string json) : HttpContent
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldBatch Typed()
        {
            Headers.ContentType = new("application/json");
            return this;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(bytes.AsMemory(0, 10));
            await stream.FlushAsync();
            Started.TrySetResult();
            await Release.Task;
            await stream.WriteAsync(bytes.AsMemory(10));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
