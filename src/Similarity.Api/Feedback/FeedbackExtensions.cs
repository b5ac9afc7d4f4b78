using Microsoft.Extensions.DependencyInjection.Extensions;

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
        builder.Services.AddSingleton<ExperimentStore>();
        builder.Services.AddSingleton<RunningExperiments>();
        builder.Services.AddSingleton<FeedbackStats>();
        return builder;
    }
}
