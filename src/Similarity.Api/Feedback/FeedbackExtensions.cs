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
        builder.Services.AddSingleton<LearnedReads>();
        builder.Services.AddSingleton<Exploration>();
        builder.Services.AddSingleton<FeedbackRebuild>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FeedbackRebuild>());
        builder.Services.AddHealthChecks().AddCheck<FeedbackRebuild.HealthCheck>("feedbackRebuild", tags: [HealthTags.Duty]);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ExperimentStore>();
        builder.Services.AddSingleton<RunningExperiments>();
        builder.Services.AddSingleton<FeedbackStats>();
        return builder;
    }
}
