using Similarity.Hosting;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

public static class ImportsExtensions
{
    public static WebApplicationBuilder AddImports(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ImportStore>();
        builder.Services.AddSingleton<ImportQueue>();
        builder.Services.AddSingleton<ImportSpool>();
        builder.Services.AddPictureFetching();
        builder.Services.AddSingleton<ImportStageMetrics>();
        builder.Services.AddSingleton<ImportJobRunner>();
        builder.Services.AddSingleton<ImportWorkerState>();
        builder.Services.AddHostedService<ImportWorker>();
        builder.Services.AddHealthChecks().AddCheck<ImportWorkerState>("imports", tags: [HealthTags.Duty]);
        return builder;
    }
}
