using Similarity.Hosting;

namespace Similarity.Encoders;

public static class EncoderMetrics
{
    /// <summary>A loaded pipeline's figures in the service's meter: its queues at each scrape and every model run.</summary>
    public static void Observe(this SimilarityMetrics metrics, EmbeddingPipeline pipeline)
    {
        metrics.ObserveEncoderQueues(() => pipeline.Image.Queued, () => pipeline.Text.Queued);
        pipeline.Image.ModelRan += run => metrics.RecordEncoderRun("image", run.Size, run.Duration);
        pipeline.Text.ModelRan += run => metrics.RecordEncoderRun("text", run.Size, run.Duration);
    }
}
