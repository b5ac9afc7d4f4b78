using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Similarity.Feedback;

/// <summary>The answer to a batch: one outcome per event, in the order sent, and the counts of each outcome.</summary>
public sealed record EventsAnswer(int Stored, int Duplicates, int Rejected, IReadOnlyList<EventOutcome> Events);

/// <summary>
/// Takes a parsed <c>POST /events</c> batch: reads each event (<see cref="EventReading"/>), answers a repeated id within
/// the batch as a duplicate of its first, stores the valid rest in one round trip (<see cref="EventStore"/>), and
/// counts what happened. An event's outcome never depends on its neighbours' validity.
/// </summary>
public sealed class EventIngest(EventStore store, IOptionsMonitor<FeedbackOptions> options, FeedbackMetrics metrics, TimeProvider clock)
{
    public const int MaxEvents = 1000, MaxBytes = 2 * 1024 * 1024;

    public async Task<EventsAnswer> IngestAsync(JsonElement events, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var outcomes = new EventOutcome?[events.GetArrayLength()];
        var valid = new List<FeedbackEvent>(outcomes.Length);
        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in events.EnumerateArray())
        {
            var at = index++;
            metrics.EventsReceived.Add(1, new KeyValuePair<string, object?>("type", TypeTag(element)));
            var (read, field, reason) = EventReading.Read(element, now);
            if (read is null)
            {
                outcomes[at] = new(at, EventReading.IdOf(element), EventOutcome.Rejected, field, reason);
                metrics.EventsRejected.Add(1, new KeyValuePair<string, object?>("field", FieldTag(field!)));
                continue;
            }
            if (!indexOf.TryAdd(read.EventId, at))
            {
                outcomes[at] = new(at, read.EventId, EventOutcome.Duplicate);
                continue;
            }
            valid.Add(read);
        }

        var batch = await store.StoreAsync(valid, options.CurrentValue.BotEventsPerMinute, ct);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in batch.Stored)
        {
            stored.Add(e.EventId);
            metrics.EventsStored.Add(1, new KeyValuePair<string, object?>("type", e.Type));
            if (e.Position is { } position)
                metrics.RecordEngagement(e.Type, position, e.Arm ?? FeedbackMetrics.UnknownArm);
        }
        if (batch.FlaggedVisitors.Count > 0)
            metrics.BotsFlagged.Add(batch.FlaggedVisitors.Count);
        foreach (var e in valid)
        {
            var at = indexOf[e.EventId];
            outcomes[at] = new(at, e.EventId, stored.Contains(e.EventId) ? EventOutcome.Stored : EventOutcome.Duplicate);
        }
        var all = outcomes.Select(o => o!).ToList();
        return new(stored.Count, all.Count(o => o.Outcome == EventOutcome.Duplicate), all.Count(o => o.Outcome == EventOutcome.Rejected), all);
    }

    // Tag values from a closed set: a client cannot grow the metric's series with made-up types or field names.
    static string TypeTag(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && EventTypes.All.FirstOrDefault(t => type.ValueEquals(t)) is { } known ? known : "other";

    static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "event", "eventId", "type", "visitorId", "sessionId", "sku", "sourceSku", "requestId", "position", "timestamp", "quantity", "price", "currency",
    };

    static string FieldTag(string field) => KnownFields.Contains(field) ? field : "unknownField";
}
