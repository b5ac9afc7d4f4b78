using System.Diagnostics.Metrics;
using Similarity.Hosting;

namespace Similarity.Feedback;

/// <summary>
/// The closed loop's instruments on the <c>Similarity</c> meter: events received, stored and rejected; impressions of
/// served lists by position and arm, and engagements with them by type, position and arm (CTR = engagements /
/// impressions). The meter is the factory's (shared with SimilarityMetrics, disposed with it). An arm is the served row's <c>arm</c>, <c>none</c> outside experiments, and <c>unknown</c> for an
/// engagement whose request id names no recorded list (not sampled, expired, or another deployment's).
/// </summary>
public sealed class FeedbackMetrics
{
    public const string NoArm = "none", UnknownArm = "unknown";

    readonly Meter _meter;

    public FeedbackMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(SimilarityMetrics.MeterName);
        EventsReceived = _meter.CreateCounter<long>("similarity.events.received", "{event}", "Events received by POST /events, by type (invalid types as 'other').");
        EventsStored = _meter.CreateCounter<long>("similarity.events.stored", "{event}", "Events stored (not duplicates), by type.");
        EventsRejected = _meter.CreateCounter<long>("similarity.events.rejected", "{event}", "Events rejected, by the field at fault.");
        Impressions = _meter.CreateCounter<long>("similarity.served.impressions", "{impression}", "Results of recorded served lists, by position and arm.");
        Engagements = _meter.CreateCounter<long>("similarity.served.engagements", "{event}",
            "Stored events that name a served list's requestId and position, by type, position and arm.");
        ServedWritten = _meter.CreateCounter<long>("similarity.served.written", "{list}", "Served lists written to served_lists.");
        ServedDropped = _meter.CreateCounter<long>("similarity.served.dropped", "{list}",
            "Served lists not recorded: the writer's queue was full, or a batch could not be written.");
        BotsFlagged = _meter.CreateCounter<long>("similarity.events.bot_visitors", "{visitor}", "Visitors flagged as likely bots (over BotEventsPerMinute).");
    }

    public Counter<long> EventsReceived { get; }
    public Counter<long> EventsStored { get; }
    public Counter<long> EventsRejected { get; }
    public Counter<long> Impressions { get; }
    public Counter<long> Engagements { get; }
    public Counter<long> ServedWritten { get; }
    public Counter<long> ServedDropped { get; }
    public Counter<long> BotsFlagged { get; }

    /// <summary>Served lists waiting for the writer, read at each scrape.</summary>
    public void ObserveServedQueue(Func<int> queued) =>
        _meter.CreateObservableGauge("similarity.served.queued", queued, "{list}", "Served lists waiting for the writer.");

    /// <summary>One impression per result of a written list, at its 1-based position.</summary>
    public void RecordImpressions(ServedList list)
    {
        var arm = new KeyValuePair<string, object?>("arm", list.Arm ?? NoArm);
        for (var i = 0; i < list.Skus.Length; i++)
            Impressions.Add(1, new KeyValuePair<string, object?>("position", Position(i + 1)), arm);
    }

    public void RecordEngagement(string type, short position, string arm) =>
        Engagements.Add(1, new("type", type), new("position", Position(position)), new("arm", arm));

    // Positions as strings, once each: the tag values of a hot path should not allocate.
    static readonly string[] Positions = [.. Enumerable.Range(0, 101).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    static string Position(int position) => position < Positions.Length ? Positions[position] : "over100";
}
