using System.Text.Json;
using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>One event read from its JSON against a fixed clock: valid whole, or rejected naming the field.</summary>
public sealed class EventsReadingTests
{
    static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    static (FeedbackEvent? Event, string? Field, string? Reason) Read(string json) => EventReading.Read(JsonElement.Parse(json), Now);

    [Fact]
    public void A_click_from_a_served_list_keeps_every_field_and_its_time_in_utc()
    {
        var (read, field, _) = Read("""
            {"eventId": "e-1", "type": "click", "visitorId": "v-1", "sessionId": "s-1", "sku": "sku-2", "sourceSku": "sku-1",
             "requestId": "0193a5c2-7d4e-7b21-9c3f-2a1b0c9d8e7f", "position": 3, "timestamp": "2026-12-06T13:30:00+02:00"}
            """);

        Assert.Null(field);
        Assert.Equal(new FeedbackEvent("e-1", "click", "v-1", "s-1", "sku-2", "sku-1", Guid.Parse("0193a5c2-7d4e-7b21-9c3f-2a1b0c9d8e7f"), 3,
            new DateTimeOffset(2026, 12, 6, 11, 30, 0, TimeSpan.Zero), null, null, null), read);
    }

    [Fact]
    public void A_purchase_carries_its_quantity_price_and_currency()
    {
        var (read, _, _) = Read("""
            {"eventId": "p-1", "type": "purchase", "visitorId": "v-1", "sku": "sku-2", "timestamp": "2026-12-06T11:00:00Z",
             "quantity": 2, "price": 19.9900, "currency": "EUR"}
            """);

        Assert.Equal((2, 19.99m, "EUR"), (read!.Quantity, read.Price, read.Currency));
    }

    [Theory]
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-03T11:59:00Z"}""", "timestamp")] // 72 h and a minute ago
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T12:05:01Z"}""", "timestamp")] // 5 min and a second ahead
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00"}""", "timestamp")] // no offset
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z", "position": 2}""", "position")] // no requestId
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z", "price": 1}""", "price")]
    [InlineData("""{"eventId": "e", "type": "purchase", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z", "quantity": 1, "price": 1}""", "currency")]
    [InlineData("""{"eventId": "e", "type": "purchase", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z", "quantity": 1, "price": 1.00001, "currency": "EUR"}""", "price")]
    [InlineData("""{"eventId": "", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z"}""", "eventId")]
    [InlineData("""{"eventId": "e", "type": "View", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z"}""", "type")]
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v\u0000", "sku": "s", "timestamp": "2026-12-06T11:00:00Z"}""", "visitorId")]
    [InlineData("""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "2026-12-06T11:00:00Z", "Sku": "s"}""", "Sku")]
    [InlineData("""["not", "an", "object"]""", "event")]
    public void A_bad_event_is_rejected_naming_its_field(string json, string field)
    {
        var (read, rejectedFor, reason) = Read(json);

        Assert.Null(read);
        Assert.Equal(field, rejectedFor);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Theory]
    [InlineData("2026-12-03T12:00:00Z")] // exactly 72 h ago
    [InlineData("2026-12-06T12:05:00Z")] // exactly 5 min ahead
    public void The_edges_of_the_window_are_accepted(string timestamp)
    {
        var (read, field, _) = Read($$"""{"eventId": "e", "type": "view", "visitorId": "v", "sku": "s", "timestamp": "{{timestamp}}"}""");

        Assert.Null(field);
        Assert.NotNull(read);
    }
}
