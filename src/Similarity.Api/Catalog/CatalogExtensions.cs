using Similarity.Hosting;

namespace Similarity.Catalog;

public static class CatalogExtensions
{
    /// <summary>The item store and its vector index (built in the background after start).</summary>
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<ItemPictures>();
        builder.Services.AddSingleton<CatalogIndex>();
        // After the migrations (registered earlier): the index needs the items table.
        builder.Services.AddHostedService<CatalogIndex.Builder>();
        builder.Services.AddHealthChecks().AddCheck<CatalogIndex.HealthCheck>("vectorIndex", tags: [HealthTags.Ready]);
        return builder;
    }
}
