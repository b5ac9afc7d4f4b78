using Similarity.Similar;

namespace Similarity.Catalog;

public static class CatalogExtensions
{
    /// <summary>The item store and the /similar search.</summary>
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<ItemPictures>();
        builder.Services.AddSingleton<SimilarSearch>();
        // Each item's precomputed neighbours, kept live in the background from the queue the items table's trigger fills.
        builder.Services.AddSingleton<SimilarLists>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SimilarLists>());
        builder.Services.AddHealthChecks().AddCheck<SimilarLists.HealthCheck>("similarLists", tags: ["ready"]);
        return builder;
    }
}
