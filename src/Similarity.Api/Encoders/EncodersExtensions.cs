using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Similarity.Hosting;

namespace Similarity.Encoders;

public static partial class EncodersExtensions
{
    /// <summary>The manifest, one session per model, the fusion layer and their warm-up, all created once.</summary>
    public static WebApplicationBuilder AddEncoders(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InputLimits>().BindConfiguration(InputLimits.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSingleton(services => ModelManifest.Load(services.GetRequiredService<IOptions<ModelOptions>>().Value.Manifest));
        builder.Services.AddSingleton(services =>
        {
            var pipeline = EmbeddingPipeline.Create(
                services.GetRequiredService<ModelManifest>(),
                services.GetRequiredService<IOptions<InferenceOptions>>().Value,
                services.GetRequiredService<IOptions<InputLimits>>().Value,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("Similarity.Encoders"));
            services.GetRequiredService<SimilarityMetrics>().Observe(pipeline);
            return pipeline;
        });
        builder.Services.AddHostedService<Warmup>();
        builder.Services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models", tags: ["ready"]);
        return builder;
    }

    /// <summary>Loads and runs both models once before the server takes requests: a bad model stops the start.</summary>
    sealed partial class Warmup(EmbeddingPipeline pipeline, ILogger<Warmup> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var blank = new float[pipeline.Image.Preprocessor.TensorLength];
            pipeline.Image.RunTensor(blank, 1);
            pipeline.Text.RunBatch([pipeline.Text.Preprocessor.Encode("warm up")]);
            LogWarm(pipeline.Manifest.Name, pipeline.Fingerprint, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Models {Name} ready (fingerprint {Fingerprint}), warmed up in {Milliseconds:F0} ms")]
        partial void LogWarm(string name, string fingerprint, double milliseconds);
    }

    /// <summary>Healthy while both encoders' batching loops run; unhealthy, naming the loop, once one has stopped.</summary>
    sealed class ModelsHealthCheck(EmbeddingPipeline pipeline, IOptions<InferenceOptions> inference) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object>
            {
                ["manifest"] = pipeline.Manifest.Name,
                ["fingerprint"] = pipeline.Fingerprint,
                ["device"] = inference.Value.Device,
                ["imageDimension"] = pipeline.Image.Dimension,
                ["textDimension"] = pipeline.Text.Dimension,
                ["fusedDimension"] = pipeline.Fusion.Dimension,
            };
            // The reason stays in the log (MicroBatcher logs it as critical): public health names the loop only.
            string[] stopped = [.. new[] { ("image", pipeline.Image.Fault), ("text", pipeline.Text.Fault) }
                .Where(e => e.Item2 is not null).Select(e => e.Item1)];
            return Task.FromResult(stopped.Length == 0
                ? HealthCheckResult.Healthy("Encoders loaded and warmed up.", data)
                : HealthCheckResult.Unhealthy(
                    $"The {string.Join(" and ", stopped)} encoder's batching loop has stopped; its requests are refused until the service restarts.",
                    data: data));
        }
    }
}
