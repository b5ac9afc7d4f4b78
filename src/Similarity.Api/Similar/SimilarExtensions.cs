using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

public static class SimilarExtensions
{
    /// <summary>
    /// The /similar search and the list worker, which keeps each item's neighbour list current in the background and
    /// empties the lists when a model set goes live.
    /// </summary>
    public static WebApplicationBuilder AddSimilar(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SimilarSearch>();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, FreshListJson.Default));
        builder.Services.AddSingleton<Interleaving>();
        builder.Services.AddSingleton<HybridSearch>();
        builder.Services.AddHostedService<LexicalConfiguration>();
        builder.Services.AddSingleton<NeighbourListStore>();
        builder.Services.AddSingleton<BulkWriteSignal>();
        builder.Services.AddSingleton<ListWorker>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ListWorker>());
        builder.Services.AddHealthChecks().AddCheck<ListWorker.HealthCheck>("similarLists", tags: [HealthTags.Duty]);
        builder.Services.AddSingleton<IModelActivationParticipant, NeighbourListsActivation>();
        return builder;
    }
}
