using Microsoft.AspNetCore.Http.HttpResults;
using Similarity.Catalog;
using Similarity.Hosting;

namespace Similarity.Feedback;

/// <summary>What the loop learned, for a product page and for operators: co-engaged items, position propensities, and a rebuild on demand.</summary>
public static class FeedbackLearningApi
{
    public const int DefaultK = 10, MaxK = 100;

    public static IEndpointRouteBuilder MapFeedbackLearningApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/co-engaged/{sku}", CoEngagedAsync)
            .WithName("CoEngaged").WithTags("Feedback")
            .WithSummary("The items shoppers engaged with most often in the same session as this one (\"often engaged with\").")
            .WithDescription("Best first by co-engagement score (a weighted Jaccard index, 0–1), each with how many distinct visitors it rests on. " +
                "Learned by the feedback rebuild from POST /events; empty until enough visitors engaged with both items.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        var feedback = app.MapGroup("/feedback").WithTags("Feedback").RequireAdminKey();
        feedback.MapPost("/rebuild", RebuildAsync)
            .WithName("RebuildFeedback")
            .WithSummary("Rebuilds the position propensities and the co-engagement now, and answers when done.")
            .WithDescription("The duty does this every Similarity:Feedback:RebuildPeriod; this runs one at once. 409 while another instance rebuilds.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        feedback.MapGet("/propensities", PropensitiesAsync)
            .WithName("FeedbackPropensities")
            .WithSummary("The estimated chance that a shopper examines each position of /similar, relative to position 1.")
            .WithDescription("Estimated from the explored answers (adjacent results swapped on Similarity:Feedback:ExploreShare of them); " +
                "clicks: the clicks in explored answers at that position. Positions without enough evidence are absent.");
        return app;
    }

    public sealed record CoEngagedResponse(string Sku, IReadOnlyList<CoEngagedItem> Items);

    public sealed record PropensitiesResponse(DateTimeOffset? EstimatedAt, IReadOnlyList<PositionPropensity> Positions);

    static async Task<Results<Ok<CoEngagedResponse>, ProblemHttpResult, ValidationProblem>> CoEngagedAsync(
        string sku, int? k, LearnedReads reads, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Sku.IsValid(sku))
            errors["sku"] = [$"The SKU must be {Sku.Rule}."];
        if (k is < 1 or > MaxK)
            errors["k"] = [$"k must be between 1 and {MaxK}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        return await reads.CoEngagedAsync(sku, k ?? DefaultK, ct) is { } items
            ? TypedResults.Ok(new CoEngagedResponse(sku, items))
            : Problems.ItemNotFound(sku);
    }

    static async Task<Results<Ok<RebuildResult>, ProblemHttpResult>> RebuildAsync(FeedbackRebuild rebuild, CancellationToken ct)
    {
        var result = await rebuild.RebuildAsync(ct);
        return result.Ran
            ? TypedResults.Ok(result)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Another instance is rebuilding.",
                detail: "The feedback rebuild runs on one instance at a time; its result is in the tables when it ends.");
    }

    static async Task<Ok<PropensitiesResponse>> PropensitiesAsync(LearnedReads reads, CancellationToken ct)
    {
        var propensities = await reads.PropensitiesAsync(ct);
        return TypedResults.Ok(new PropensitiesResponse(propensities.EstimatedAt, propensities.Positions));
    }
}
