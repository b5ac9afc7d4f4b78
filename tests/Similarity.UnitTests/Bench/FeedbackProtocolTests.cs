using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

/// <summary>
/// The bench's side of the loop's HTTP contract, against a scripted stand-in for the routes that other branches build:
/// what the bench asks for, what it sends, and in which order. The stand-in answers; the assertions are about the bench.
/// </summary>
public sealed class FeedbackProtocolTests
{
    static readonly ShopperItem[] Items = [.. Enumerable.Range(0, 40).Select(i => new ShopperItem($"sku-{i:D3}", $"folder-{i % 4}", $"item {i}"))];

    /// <summary>Answers /similar with the next ten items and a fresh request id, stores /events, counts rebuilds.</summary>
    sealed class LoopStandIn(string? openApi = null) : HttpMessageHandler
    {
        public ConcurrentDictionary<Guid, string[]> Served { get; } = new();
        public ConcurrentQueue<JsonObject> Events { get; } = new();
        public List<int> Batches { get; } = [];
        public List<string> Calls { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var path = request.RequestUri!.AbsolutePath;
            lock (Calls)
                Calls.Add($"{request.Method} {path}");
            if (path == "/swagger/v1/swagger.json")
                return Json(openApi!);
            if (request.Method == HttpMethod.Get && path.StartsWith("/similar/", StringComparison.Ordinal))
            {
                Assert.Contains("visitorId=shopper-", request.RequestUri.Query, StringComparison.Ordinal);
                var sku = path["/similar/".Length..];
                var at = Array.FindIndex(Items, i => i.Sku == sku);
                var results = Enumerable.Range(1, 10).Select(d => Items[(at + d) % Items.Length].Sku).ToArray();
                var id = Guid.CreateVersion7();
                Served[id] = results;
                return Json(new JsonObject
                {
                    ["requestId"] = id.ToString(),
                    ["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject { ["sku"] = r, ["imageScore"] = 0.9, ["textScore"] = 0.9 })]),
                }.ToJsonString());
            }
            if (request.Method == HttpMethod.Post && path == "/events")
            {
                var events = JsonNode.Parse(await request.Content!.ReadAsStringAsync(ct))!["events"]!.AsArray();
                lock (Batches)
                    Batches.Add(events.Count);
                foreach (var e in events)
                    Events.Enqueue(e!.AsObject());
                return Json(new JsonObject { ["results"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject { ["eventId"] = e!["eventId"]!.GetValue<string>(), ["outcome"] = "stored" })]) }.ToJsonString());
            }
            if (request.Method == HttpMethod.Post && path == "/feedback/rebuild")
                return Json("{}");
            return new HttpResponseMessage(HttpStatusCode.NotFound);
        }

        static HttpResponseMessage Json(string body) => new(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }

    static FeedbackClient Client(LoopStandIn standIn) => new(new HttpClient(standIn) { BaseAddress = new Uri("http://loop.test") });

    [Fact]
    public async Task The_check_names_every_route_and_parameter_the_service_does_not_list()
    {
        var openApi = """
            {"paths": {
              "/similar/{sku}": {"get": {"parameters": [{"name": "k"}, {"name": "visitorId"}]}},
              "/similar/batch": {"post": {"parameters": [{"name": "blend"}]}},
              "/events": {"post": {}},
              "/experiments/{experimentName}": {"get": {}, "put": {}},
              "/feedback/rebuild": {"get": {}}
            }}
            """;
        using var client = Client(new LoopStandIn(openApi));
        Assert.Equal(
            ["GET /similar/{sku}?blend=", "POST /feedback/rebuild", "GET /feedback/propensities", "DELETE /experiments/{name}", "GET /co-engaged/{sku}"],
            await client.MissingAsync());
    }

    [Fact]
    public async Task Training_serves_each_page_sends_the_days_events_and_rebuilds_after_each_day()
    {
        var world = ShopperWorld.Create(Items, 30, 4);
        var taste = new ShopperTaste(world);
        foreach (var item in Items)
            foreach (var by in new[] { Judgement.Picture, Judgement.Words })
                taste.SetNearest(item.Sku, by, [.. Items.Where(i => i.Sku != item.Sku).Take(20).Select((o, r) => (o.Sku, 0.9 - 0.005 * r))]);
        var standIn = new LoopStandIn();
        using var client = Client(standIn);
        var now = DateTimeOffset.UtcNow;
        var log = await FeedbackTraining.RunAsync(client, taste, new ShopperClock(now, 3));

        Assert.Equal(3, standIn.Calls.Count(c => c == "POST /feedback/rebuild"));
        Assert.Equal("POST /feedback/rebuild", standIn.Calls[^1]);
        Assert.All(standIn.Batches, b => Assert.InRange(b, 1, FeedbackClient.EventBatch));
        var events = standIn.Events.ToArray();
        Assert.Equal(log.Events, events.Length);
        Assert.Equal(events.Length, log.Outcomes.Stored);
        Assert.Equal(standIn.Served.Count, log.Served);
        Assert.Equal(events.Length, events.Select(e => e["eventId"]!.GetValue<string>()).Distinct().Count());

        // Each click names a list the service served, at the position where that list had the clicked item.
        var clicks = events.Where(e => e["type"]!.GetValue<string>() == "click").ToArray();
        Assert.NotEmpty(clicks);
        Assert.All(clicks, c =>
        {
            var list = standIn.Served[Guid.Parse(c["requestId"]!.GetValue<string>())];
            Assert.Equal(list[c["position"]!.GetValue<int>() - 1], c["sku"]!.GetValue<string>());
            Assert.NotNull(c["sourceSku"]);
        });
        // The contract's field names, and timestamps inside the 72 hours POST /events accepts.
        Assert.All(events, e =>
        {
            Assert.Subset(new HashSet<string> { "eventId", "type", "visitorId", "sessionId", "sku", "sourceSku", "requestId", "position", "timestamp", "quantity", "price", "currency" },
                e.Select(p => p.Key).ToHashSet());
            Assert.Contains(e["type"]!.GetValue<string>(), new[] { "view", "click", "addToCart", "purchase" });
            Assert.InRange(e["timestamp"]!.GetValue<DateTimeOffset>(), now.AddHours(-70), now.AddHours(-2));
        });
    }
}
