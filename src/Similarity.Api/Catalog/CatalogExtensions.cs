using Similarity.Hosting;
using Similarity.Similar;

namespace Similarity.Catalog;

public static class CatalogExtensions
{
    /// <summary>The item store, its vector index (built in the background after start) and the /similar search.</summary>
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<ItemPictures>();
        builder.Services.AddSingleton<CatalogIndex>();
        builder.Services.AddSingleton<SimilarSearch>();
        // After the migrations (registered earlier): the index needs the items table.
        builder.Services.AddHostedService<CatalogIndex.Builder>();
        builder.Services.AddHealthChecks().AddCheck<CatalogIndex.HealthCheck>("vectorIndex", tags: [HealthTags.Ready]);
        // Each item's precomputed neighbours, kept live in the background from the queue the items table's trigger fills.
        builder.Services.AddSingleton<SimilarLists>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SimilarLists>());
        builder.Services.AddHealthChecks().AddCheck<SimilarLists.HealthCheck>("similarLists", tags: [HealthTags.Duty]);
        return builder;
    }
}
