using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Similarity.Feedback;

/// <summary>
/// One list the service served, as <c>served_lists</c> keeps it. <see cref="Endpoint"/> is one of <c>similar</c>,
/// <c>examples</c>, <c>batch</c>, <c>search</c>; <see cref="Skus"/> and <see cref="Scores"/> are in served order.
/// </summary>
public sealed record ServedList(Guid RequestId, DateTimeOffset ServedAt, string Endpoint, string? QuerySku,
    string? VisitorId, string Fingerprint, string? Experiment, string? Arm, string? Teams, short? ExploredAt,
    string[] Skus, float[] Scores);

/// <summary>
/// The record of what the service served, kept off the request path: <see cref="Record"/> puts the list on a bounded
/// in-memory queue and returns at once; <see cref="ServedLogWriter"/> copies the queue to <c>served_lists</c> in batches.
/// When the queue is full (the database slower than the traffic) the list is dropped and counted, never waited for.
/// </summary>
public sealed class ServedLog
{
    /// <summary>Lists waiting for the writer at most; about 1 KB each.</summary>
    public const int Capacity = 50_000;

    readonly Channel<ServedList> _queue = Channel.CreateBounded<ServedList>(new BoundedChannelOptions(Capacity)
    {
        // Wait, not DropWrite: with DropWrite TryWrite answers true for a dropped list, which could not then be counted.
        // TryWrite never waits in either mode.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });
    readonly IOptionsMonitor<FeedbackOptions> _options;
    readonly FeedbackMetrics _metrics;

    public ServedLog(IOptionsMonitor<FeedbackOptions> options, FeedbackMetrics metrics)
    {
        _options = options;
        _metrics = metrics;
        metrics.ObserveServedQueue(() => _queue.Reader.Count);
    }

    /// <summary>A new request id: a UUIDv7, so ids sort by time and index well.</summary>
    public static Guid NewRequestId() => Guid.CreateVersion7();

    /// <summary>Whether this request's list is recorded: a <see cref="FeedbackOptions.ServedShare"/> of them are.</summary>
    public bool Samples()
    {
        var share = _options.CurrentValue.ServedShare;
        return share >= 1 || (share > 0 && Random.Shared.NextDouble() < share);
    }

    /// <summary>Queues the list for the writer; never blocks. A full queue drops it (counted as <c>dropped</c>).</summary>
    public void Record(ServedList list)
    {
        if (!_queue.Writer.TryWrite(list))
            _metrics.ServedDropped.Add(1);
    }

    internal ChannelReader<ServedList> Reader => _queue.Reader;
}
