using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Similarity.Hosting;

namespace Similarity.Feedback;

public static class FeedbackExtensions
{
    /// <summary>
    /// The closed loop: the record of served lists, the shoppers' events, the co-engagement and position propensities
    /// learned from them, and the experiments that compare rankers online.
    /// </summary>
    public static WebApplicationBuilder AddFeedback(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FeedbackOptions>().BindConfiguration(FeedbackOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Ingest: the day partitions first (their first pass runs before the duties below start and before requests),
        // then the served log and its writer, the events, the visitors' erasure.
        builder.Services.AddSingleton<PartitionDuty>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PartitionDuty>());
        builder.Services.AddSingleton<FeedbackMetrics>();
        builder.Services.AddSingleton<ServedLog>();
        builder.Services.AddSingleton<ServedLogWriter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ServedLogWriter>());
        builder.Services.AddSingleton<EventStore>();
        builder.Services.AddSingleton<EventIngest>();
        builder.Services.AddSingleton<VisitorErasure>();
        builder.Services.AddHealthChecks()
            .AddCheck<ServedLogWriter.HealthCheck>("servedLog", tags: [HealthTags.Duty])
            .AddCheck<PartitionDuty.HealthCheck>("feedbackPartitions", tags: [HealthTags.Duty]);
        builder.Services.Configure<RateLimiterOptions>(options => options.AddPolicy<string, EventsApi.EventsCapacity>(EventsApi.EventsCapacity.PolicyName));
        // Learning: the co-engagement and propensities rebuild, exploration, what /similar reads of them.
        builder.Services.AddSingleton<LearnedReads>();
        builder.Services.AddSingleton<Exploration>();
        builder.Services.AddSingleton<FeedbackRebuild>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FeedbackRebuild>());
        builder.Services.AddHealthChecks().AddCheck<FeedbackRebuild.HealthCheck>("feedbackRebuild", tags: [HealthTags.Duty]);
        // Experiments and the stats of the feedback page.
        builder.Services.AddSingleton<ExperimentStore>();
        builder.Services.AddSingleton<RunningExperiments>();
        builder.Services.AddSingleton<FeedbackStats>();
        return builder;
    }
}
