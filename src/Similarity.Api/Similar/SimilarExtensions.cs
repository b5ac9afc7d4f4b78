namespace Similarity.Similar;

public static class SimilarExtensions
{
    /// <summary>The /similar search and the list worker, which keeps each item's neighbour list current in the background.</summary>
    public static WebApplicationBuilder AddSimilar(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SimilarSearch>();
        builder.Services.AddSingleton<SimilarLists>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SimilarLists>());
        builder.Services.AddHealthChecks().AddCheck<SimilarLists.HealthCheck>("similarLists", tags: ["ready"]);
        return builder;
    }
}
