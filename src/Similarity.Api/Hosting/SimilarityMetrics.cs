using System.Diagnostics.Metrics;

namespace Similarity.Hosting;

/// <summary>
/// The service's own instruments, beside ASP.NET Core's, Npgsql's and the runtime's: what an operator of the
/// encoders, the imports and /similar watches. Exported at <c>/metrics</c> and over OTLP (see <see cref="Observability"/>).
/// </summary>
public sealed class SimilarityMetrics : IDisposable
{
    public const string MeterName = "Similarity";

    readonly Meter _meter;

    public SimilarityMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        EncoderBatchSize = _meter.CreateHistogram<int>("similarity.encoder.batch.size", "{item}", "Items per model run.",
            advice: new() { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });
        EncoderInference = _meter.CreateHistogram<double>("similarity.encoder.inference.duration", "s", "Time of one model run, decoding excluded.");
        ImportRows = _meter.CreateCounter<long>("similarity.import.rows", "{row}", "Catalog rows committed by import jobs, by outcome.");
        ImportJobs = _meter.CreateCounter<long>("similarity.import.jobs", "{job}", "Import jobs entering a state (queued, running, succeeded, ...).");
        SimilarDuration = _meter.CreateHistogram<double>("similarity.similar.duration", "s", "Time of one /similar search in the database, by the path it took.");
        ListFreshness = _meter.CreateHistogram<double>("similarity.similar.list_freshness", "s",
            "From an item's change (its upsert or delete queued) to the neighbour lists it affects committed.");
        ListsComputed = _meter.CreateCounter<long>("similarity.similar.lists_computed", "{list}",
            "Neighbour lists computed in bulk rounds (path=bulk), and upserted items applied one by one (path=item).");
    }

    /// <summary>Tag <c>model</c>: image or text.</summary>
    public Histogram<int> EncoderBatchSize { get; }

    /// <summary>Tag <c>model</c>: image or text.</summary>
    public Histogram<double> EncoderInference { get; }

    /// <summary>Tag <c>outcome</c>: inserted, updated, reembedded, unchanged, superseded or error.</summary>
    public Counter<long> ImportRows { get; }

    /// <summary>Tag <c>status</c>: the state the job entered.</summary>
    public Counter<long> ImportJobs { get; }

    /// <summary>Tag <c>path</c>: approximate (the HNSW index), exact (a scan: the index not valid yet) or fallback (the index, then a scan for k).</summary>
    public Histogram<double> SimilarDuration { get; }

    public Histogram<double> ListFreshness { get; }

    /// <summary>Tag <c>path</c>: bulk (lists a round computed in one statement) or item (upserted items applied by the per-item rules).</summary>
    public Counter<long> ListsComputed { get; }

    /// <summary>Items waiting for each encoder's next model run, read at each scrape (tag <c>model</c>: image or text).</summary>
    public void ObserveEncoderQueues(Func<int> image, Func<int> text) =>
        _meter.CreateObservableGauge("similarity.encoder.queued", () => new[]
        {
            new Measurement<int>(image(), new KeyValuePair<string, object?>("model", "image")),
            new Measurement<int>(text(), new KeyValuePair<string, object?>("model", "text")),
        }, "{item}", "Items waiting for their encoder's next model run.");

    /// <summary>One model run (a request's micro-batch or an import's batch): its size and how long the session ran.</summary>
    public void RecordEncoderRun(string model, int size, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        EncoderBatchSize.Record(size, tag);
        EncoderInference.Record(duration.TotalSeconds, tag);
    }

    public void Dispose() => _meter.Dispose();
}
