using System.Net;
using System.Net.Http.Json;
using System.Text;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.IntegrationTests.Keys;
using static Similarity.IntegrationTests.Feedback.EventsClient;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>POST /events against the real database: dedupe, per-event rejection, limits, keys.</summary>
public sealed class EventsTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task The_same_batch_twice_stores_nothing_new()
    {
        var batch = Enumerable.Range(0, 50).Select(i => Event($"twice-{i}", visitorId: "v-twice")).ToList();

        var first = await app.CreateAdminClient().PostEventsAsync(batch);
        var second = await app.CreateAdminClient().PostEventsAsync(batch);

        Assert.Equal((50, 0), (first.Stored, first.Duplicates));
        Assert.Equal((0, 50), (second.Stored, second.Duplicates));
        Assert.All(second.Events, e => Assert.Equal("duplicate", e.Outcome));
        Assert.Equal(50, await app.Database.CountAsync("SELECT count(*) FROM events WHERE visitor_id = 'v-twice'"));
    }

    [Fact]
    public async Task The_same_id_twice_in_one_batch_is_stored_once()
    {
        var answer = await app.CreateAdminClient().PostEventsAsync(Event("in-batch", "v-in-batch"), Event("in-batch", "v-in-batch", type: "view"));

        Assert.Equal(["stored", "duplicate"], answer.Events.Select(e => e.Outcome));
        Assert.Equal(1, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id = 'in-batch'"));
        Assert.Equal("click", await app.Database.ExecuteAsync("SELECT type FROM events WHERE event_id = 'in-batch'"));
    }

    [Fact]
    public async Task Concurrent_batches_with_the_same_ids_store_each_event_once()
    {
        var batch = Enumerable.Range(0, 200).Select(i => Event($"race-{i}", "v-race")).ToList();

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => app.CreateAdminClient().PostEventsAsync(batch)));

        Assert.Equal(200, answers.Sum(a => a.Stored));
        Assert.Equal(600, answers.Sum(a => a.Duplicates));
        Assert.Equal(200, await app.Database.CountAsync("SELECT count(*) FROM events WHERE visitor_id = 'v-race'"));
    }

    public static TheoryData<string, string, object?> BadFields => new()
    {
        { "eventId", "eventId", new string('e', 65) },
        { "eventId", "eventId", null },
        { "type", "type", "like" },
        { "visitorId", "visitorId", null },
        { "visitorId", "visitorId", new string('v', 129) },
        { "visitorId", "visitorId", "tab\there" },
        { "sessionId", "sessionId", 42 },
        { "sku", "sku", "not a sku" },
        { "sourceSku", "sourceSku", "bad/sku" },
        { "requestId", "requestId", "not-a-uuid" },
        { "position", "position", 0 },
        { "timestamp", "timestamp", "yesterday" },
        { "timestamp", "timestamp", "2026-01-01T10:00:00" },
        { "quantity", "quantity", 2 },
        { "price", "price", 9.99 },
        { "currency", "currency", "EUR" },
        { "colour", "colour", "red" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public async Task A_bad_field_rejects_its_event_only(string field, string sent, object? value)
    {
        var id = $"bad-{field}-{Guid.NewGuid():N}";
        var bad = sent == "eventId" ? Event(id).With("eventId", value) : Event(id).With(sent, value);
        var good = Event($"good-{Guid.NewGuid():N}");

        var answer = await app.CreateAdminClient().PostEventsAsync(bad, good);

        Assert.Equal("rejected", answer.Events[0].Outcome);
        Assert.Equal(field, answer.Events[0].Field);
        Assert.False(string.IsNullOrWhiteSpace(answer.Events[0].Reason));
        Assert.Equal("stored", answer.Events[1].Outcome);
        Assert.Equal((1, 1), (answer.Stored, answer.Rejected));
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id = $1", id));
    }

    [Theory]
    [InlineData(-73 * 60, false)]
    [InlineData(-71 * 60, true)]
    [InlineData(4, true)]
    [InlineData(6, false)]
    public async Task Timestamps_are_taken_from_72_hours_ago_to_5_minutes_ahead(int minutes, bool stored)
    {
        var answer = await app.CreateAdminClient().PostEventsAsync(Event($"when-{minutes}", at: DateTimeOffset.UtcNow.AddMinutes(minutes)));

        Assert.Equal(stored ? "stored" : "rejected", answer.Events[0].Outcome);
        if (!stored)
            Assert.Equal("timestamp", answer.Events[0].Field);
    }

    [Fact]
    public async Task A_purchase_is_stored_with_its_quantity_price_and_currency_and_needs_its_quantity()
    {
        var purchase = Event("buy-1", "v-buyer", type: "purchase").With("quantity", 2).With("price", 76.93m).With("currency", "EUR");

        var answer = await app.CreateAdminClient().PostEventsAsync(purchase, Event("buy-2", "v-buyer", type: "purchase"));

        Assert.Equal(["stored", "rejected"], answer.Events.Select(e => e.Outcome));
        Assert.Equal("quantity", answer.Events[1].Field);
        Assert.Equal("2|76.9300|EUR", await app.Database.ExecuteAsync(
            "SELECT quantity || '|' || price || '|' || currency FROM events WHERE event_id = 'buy-1'"));
    }

    [Fact]
    public async Task A_batch_over_1000_events_is_refused_naming_the_limit()
    {
        var response = await app.CreateAdminClient().PostAsJsonAsync("/events",
            new { events = Enumerable.Range(0, 1001).Select(i => Event($"many-{i}")) });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("1000", Json(await response.Content.ReadAsStringAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id LIKE 'many-%'"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_2_MiB_is_refused_naming_the_limit(bool announced)
    {
        // A valid batch padded past 2 MiB by a long reason-free field: refused by its size whether the length is
        // announced (Content-Length) or only found while reading (chunked).
        var json = "{\"events\": [" + string.Join(",", Enumerable.Range(0, 900).Select(i =>
            $"{{\"eventId\": \"big-{i}\", \"type\": \"view\", \"visitorId\": \"{new string('v', 120)}\", \"sku\": \"sku-1\", " +
            $"\"sessionId\": \"{new string('s', 120)}\", \"sourceSku\": \"{new string('k', 64)}\", \"timestamp\": \"{DateTimeOffset.UtcNow:O}\"" +
            new string(' ', 2000) + "}")) + "]}";
        Assert.True(Encoding.UTF8.GetByteCount(json) > 2 * 1024 * 1024);
        HttpContent content = announced
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");

        var response = await app.CreateAdminClient().PostAsync("/events", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("2097152", Json(await response.Content.ReadAsStringAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id LIKE 'big-%'"));
    }

    [Fact]
    public async Task Events_need_a_key_and_a_storefront_key_will_do()
    {
        var none = await app.CreateClient().PostAsJsonAsync("/events", new { events = new[] { Event("keyless") } });
        var key = await app.CreateKeyAsync("shop-backend", "storefront");

        var storefront = await app.ClientWithKey(key.Secret).PostEventsAsync(Event("with-storefront-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Contains("storefront", Json(await none.Content.ReadAsStringAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("stored", storefront.Events[0].Outcome);
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM events WHERE event_id = 'keyless'"));
    }

    [Fact]
    public async Task The_metrics_count_events_received_stored_and_rejected()
    {
        await app.CreateAdminClient().PostEventsAsync(Event($"m-{Guid.NewGuid():N}", type: "addToCart"), Event("m-bad").With("sku", "no sku"));

        var metrics = await app.CreateClient().GetStringAsync("/metrics");

        Assert.Matches("""similarity_events_received_total\{[^}]*type="addToCart"[^}]*\} [1-9]""", metrics);
        Assert.Matches("""similarity_events_stored_total\{[^}]*type="addToCart"[^}]*\} [1-9]""", metrics);
        Assert.Matches("""similarity_events_rejected_total\{[^}]*field="sku"[^}]*\} [1-9]""", metrics);
    }
}
