using Similarity.Hosting;

namespace Similarity.Insight;

public static class InsightExtensions
{
    /// <summary>
    /// Duplicate groups, picture–text mismatches and the import checks (computed on request or at a job's end), and
    /// the clustering duty that keeps the clusters current.
    /// </summary>
    public static WebApplicationBuilder AddInsight(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InsightOptions>().BindConfiguration(InsightOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DuplicateStore>();
        builder.Services.AddSingleton<PictureSketches>();
        builder.Services.AddSingleton<Duplicates>();
        builder.Services.AddSingleton<Mismatches>();
        builder.Services.AddSingleton<ClusterStore>();
        builder.Services.AddSingleton<ImportChecks>();
        builder.Services.AddSingleton<ImportCheckReads>();
        builder.Services.AddSingleton<ClusterDuty>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClusterDuty>());
        builder.Services.AddHealthChecks().AddCheck<ClusterDuty.HealthCheck>("clusters", tags: [HealthTags.Duty]);
        return builder;
    }
}
