namespace Similarity.Feedback;

/// <summary>What a shopper did, as <c>POST /events</c> received it and <c>events</c> keeps it.</summary>
public static class EventTypes
{
    public const string View = "view", Click = "click", AddToCart = "addToCart", Purchase = "purchase";

    public static readonly string[] All = [View, Click, AddToCart, Purchase];
}

/// <summary>
/// One valid event: its fields hold the rules of <see cref="EventReading"/> (ids and SKUs well formed, the timestamp
/// inside the accepted window, purchase fields only on purchases).
/// </summary>
public sealed record FeedbackEvent(string EventId, string Type, string VisitorId, string? SessionId, string Sku, string? SourceSku,
    Guid? RequestId, short? Position, DateTimeOffset OccurredAt, int? Quantity, decimal? Price, string? Currency);

/// <summary>What became of one event of a batch: <c>stored</c>, <c>duplicate</c> or <c>rejected</c> (then the field at fault and why).</summary>
public sealed record EventOutcome(int Index, string? EventId, string Outcome, string? Field = null, string? Reason = null)
{
    public const string Stored = "stored", Duplicate = "duplicate", Rejected = "rejected";
}
