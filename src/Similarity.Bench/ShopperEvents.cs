using System.Text.Json.Serialization;

namespace Similarity.Bench;

/// <summary>One event of <c>POST /events</c>, as the bench sends it (null fields left out).</summary>
public sealed record ShopperEvent(
    string EventId, string Type, string VisitorId, string SessionId, string Sku, DateTimeOffset Timestamp,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SourceSku = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? RequestId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Position = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Quantity = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Price = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Currency = null);

/// <summary>
/// Simulated days compressed into the 72 hours <c>POST /events</c> accepts: the training's D days take the 68 hours
/// that end 2 hours before <see cref="Origin"/> + 70 h, so day d starts at Origin + (d − 1) × 68 h / D. A visit starts at
/// its shopper's fixed fraction of the day; its events are <see cref="ActionGap"/> apart, uncompressed. With D ≤
/// <see cref="MaxDays"/> a day lasts at least 68 minutes, so one shopper's visits on two days are more than the
/// loop's 30-minute session gap apart, and the service sees them as two sessions.
/// </summary>
public sealed class ShopperClock
{
    public const int MaxDays = 60;
    public static readonly TimeSpan Window = TimeSpan.FromHours(68);
    public static readonly TimeSpan ActionGap = TimeSpan.FromSeconds(15);

    public DateTimeOffset Origin { get; }
    public int Days { get; }
    public TimeSpan DayLength => Window / Days;

    /// <summary>The clock of <paramref name="days"/> training days ending 2 hours before <paramref name="now"/>.</summary>
    public ShopperClock(DateTimeOffset now, int days)
    {
        if (days is < 1 or > MaxDays)
            throw new ArgumentException($"--days must be between 1 and {MaxDays}: the days are compressed into the 72 hours POST /events accepts.", nameof(days));
        (Origin, Days) = (now - TimeSpan.FromHours(70), days);
    }

    /// <summary>When <paramref name="shopper"/>'s visit on 1-based <paramref name="day"/> starts.</summary>
    public DateTimeOffset VisitStart(int day, Shopper shopper) => Origin + (day - 1) * DayLength + shopper.DayOffset * DayLength;
}

/// <summary>
/// A visit turned into events: a <c>view</c> of the landing item; per step, a <c>click</c> per list click (with the
/// list's <c>requestId</c>, <c>position</c> and <c>sourceSku</c>) or a <c>view</c> of the item reached on the shopper's own
/// way; then <c>addToCart</c> and <c>purchase</c> of that item (carrying the list's fields when it came from the list).
/// Event ids are made of the visitor, the day and the event's index, so a visit always makes the same ids.
/// </summary>
public static class ShopperEvents
{
    public const decimal Price = 9.99m;
    public const string Currency = "EUR";

    public static List<ShopperEvent> Of(ShopperSession session, string day, DateTimeOffset start)
    {
        var visitor = session.Shopper.VisitorId;
        var sessionId = $"{visitor}-{day}";
        var events = new List<ShopperEvent>();
        ShopperEvent Add(string type, string sku, string? source = null, Guid? request = null, int? position = null, bool purchase = false)
        {
            var e = new ShopperEvent($"{sessionId}-{events.Count}", type, visitor, sessionId, sku, start + events.Count * ShopperClock.ActionGap,
                source, request, position, purchase ? 1 : null, purchase ? Price : null, purchase ? Currency : null);
            events.Add(e);
            return e;
        }
        Add("view", session.Landing);
        foreach (var step in session.Steps)
        {
            foreach (var click in step.Clicks)
                Add("click", click.Sku, step.Query, step.RequestId, click.Position);
            if (step.Next is null)
                continue;
            if (!step.FromList)
                Add("view", step.Next);
            var (source, request, position) = step.FromList ? (step.Query, step.RequestId, step.Position) : (null, null, null);
            if (step.AddedToCart)
                Add("addToCart", step.Next, source, request, position);
            if (step.Purchased)
                Add("purchase", step.Next, source, request, position, purchase: true);
        }
        return events;
    }
}
