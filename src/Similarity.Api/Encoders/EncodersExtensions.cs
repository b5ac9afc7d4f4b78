using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Encoders;

public static partial class EncodersExtensions
{
    /// <summary>
    /// The model sets (the live one from the database, or the configured manifest on a new database; a standby one
    /// beside it), loaded and run once at start, after the migrations: a bad model stops the start. Then the
    /// background job that embeds the catalog with a standby set.
    /// </summary>
    public static WebApplicationBuilder AddEncoders(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InputLimits>().BindConfiguration(InputLimits.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSingleton<ModelSets>();
        builder.Services.AddSingleton<ModelDiff>();
        builder.Services.AddHostedService<LoadAtStartup>();
        builder.Services.AddSingleton<StandbyEmbedder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StandbyEmbedder>());
        builder.Services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models", tags: [HealthTags.Ready]);
        return builder;
    }

    sealed class LoadAtStartup(ModelSets models) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => models.LoadAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// Healthy while the live set's batching loops run; unhealthy, naming the loop, once one has stopped; degraded
    /// (still 200) while the standby set cannot be loaded or its embedding job is stuck.
    /// </summary>
    sealed class ModelsHealthCheck(ModelSets models, StandbyEmbedder embedder, IOptions<InferenceOptions> inference) : IHealthCheck
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
}
