using Similarity.Hosting;
namespace Similarity.Models;

public static class ModelsExtensions
{
    /// <summary>
    /// The model sets (the live one from the database, or the configured manifest on a new database; a standby one
    /// beside it), loaded and run once at start, after the migrations: a bad model stops the start. Then the
    /// background job that embeds the catalog with a standby set, and the vector index of each set, built in the
    /// background after start.
    /// </summary>
    public static WebApplicationBuilder AddModels(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<VectorIndexOptions>().BindConfiguration(VectorIndexOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddSingleton<ModelSets>();
        builder.Services.AddSingleton<ModelSetStore>();
        builder.Services.AddSingleton<ModelSetLoader>();
        builder.Services.AddSingleton<ModelSetListing>();
        builder.Services.AddSingleton<ModelDeployment>();
        builder.Services.AddSingleton<ModelActivation>();
        builder.Services.AddSingleton<ModelRetirement>();
        builder.Services.AddSingleton<ModelDiff>();
        builder.Services.AddSingleton<EmbeddingRate>();
        builder.Services.AddSingleton<CatalogIndex>();
        // In this order, after the migrations (registered earlier): the sets are loaded before anything reads the live one.
        builder.Services.AddHostedService<ModelSetLoader.AtStartup>();
        builder.Services.AddSingleton<StandbyEmbedder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StandbyEmbedder>());
        builder.Services.AddHostedService<CatalogIndex.Builder>();
        // Other instances' switches, deployments and retirements, followed from model_sets.
        builder.Services.AddSingleton<ModelSetFollower>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ModelSetFollower>());
        builder.Services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models", tags: [HealthTags.Ready]);
        builder.Services.AddHealthChecks().AddCheck<CatalogIndex.HealthCheck>("vectorIndex", tags: [HealthTags.Ready]);
        return builder;
    }
}
