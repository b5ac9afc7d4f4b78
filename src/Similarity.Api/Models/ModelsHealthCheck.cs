using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Similarity.Encoders;

namespace Similarity.Models;

/// <summary>
/// Healthy while the live set's batching loops run; unhealthy, naming the loop, once one has stopped; degraded
/// (still 200) while the standby set cannot be loaded or its embedding job is stuck.
/// </summary>
internal sealed class ModelsHealthCheck(ModelSets models, StandbyEmbedder embedder, IOptions<InferenceOptions> inference) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var live = models.Live;
        var pipeline = live.Pipeline;
        var data = new Dictionary<string, object>
        {
            ["manifest"] = live.Name,
            ["fingerprint"] = pipeline.Fingerprint,
            ["device"] = inference.Value.Device,
            ["imageDimension"] = pipeline.Image.Dimension,
            ["textDimension"] = pipeline.Text.Dimension,
            ["fusedDimension"] = pipeline.Fusion.Dimension,
        };
        if (models.Standby is { } standby)
            data["standby"] = $"{standby.Set.Name} ({standby.Status})";
        // The reason stays in the log (MicroBatcher logs it as critical): public health names the loop only.
        string[] stopped = [.. new[] { ("image", pipeline.Image.Fault), ("text", pipeline.Text.Fault) }
            .Where(e => e.Item2 is not null).Select(e => e.Item1)];
        if (stopped.Length > 0)
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"The {string.Join(" and ", stopped)} encoder's batching loop has stopped; its requests are refused until the service restarts.", data: data));
        if ((models.StandbyFault ?? embedder.Fault) is { } fault)
            return Task.FromResult(HealthCheckResult.Degraded(fault, data: data));
        return Task.FromResult(HealthCheckResult.Healthy("Encoders loaded and warmed up.", data));
    }
}
