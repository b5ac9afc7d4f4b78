using System.Diagnostics;
using System.Diagnostics.Metrics;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// Where an import's time goes: the wall time of each stage, once per batch, in the service's meter
/// (<c>similarity.import.stage.duration</c>, tag <c>stage</c>; <c>/metrics</c> has its sum and count per stage).
/// The three pipeline stages overlap, so their sums add up to more than the job's time; the writer's own stages
/// (<see cref="Starved"/>, <see cref="EncoderWait"/>, <see cref="Embed"/>, <see cref="Write"/>, <see cref="Checks"/>)
/// run one after another and add up to it.
/// </summary>
public sealed class ImportStageMetrics
{
    public const string InstrumentName = "similarity.import.stage.duration";

    /// <summary>Rows screened and what is stored for them read.</summary>
    public const string Screen = "screen";

    /// <summary>Pictures taken from the zip or waited for from their downloads.</summary>
    public const string Source = "source";

    /// <summary>Pictures decoded into the model's tensor and texts tokenised.</summary>
    public const string Decode = "decode";

    /// <summary>The stored copies of the pictures (the 640 px JPEG and the thumbnail) encoded.</summary>
    public const string Pictures = "pictures";

    /// <summary>The writer waiting for the next prepared batch: the stages before it are the bottleneck.</summary>
    public const string Starved = "starved";

    /// <summary>The writer waiting for its share of the encoders (held by requests).</summary>
    public const string EncoderWait = "encoder_wait";

    /// <summary>The model runs and fusion.</summary>
    public const string Embed = "embed";

    /// <summary>The batch's transaction (COPY, upsert, pictures, progress).</summary>
    public const string Write = "write";

    /// <summary>The catalog checks' per-batch record.</summary>
    public const string Checks = "checks";

    readonly Histogram<double> _stages;

    public ImportStageMetrics(IMeterFactory meters) =>
        _stages = meters.Create(SimilarityMetrics.MeterName).CreateHistogram<double>(InstrumentName, "s",
            "Wall time of one import stage for one batch, by stage (screen, source, decode, pictures, starved, encoder_wait, embed, write, checks).");

    public void Record(string stage, long startTimestamp) =>
        _stages.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}
