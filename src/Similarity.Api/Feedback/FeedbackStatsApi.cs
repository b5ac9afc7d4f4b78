using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Similarity.Hosting;

namespace Similarity.Feedback;

/// <summary><c>GET /feedback/stats</c> (admin): how shoppers engage with the served lists, for the feedback page.</summary>
public static class FeedbackStatsApi
{
    public const int DefaultDays = 14, MaxDays = 90, DefaultPositions = 10, MaxPositions = 100;

    public static IEndpointRouteBuilder MapFeedbackStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/feedback/stats", StatsAsync)
            .WithName("FeedbackStats").WithTags("Feedback").RequireAdminKey()
            .WithSummary("Click-through and add-to-cart rates of the served lists by position, by day and per experiment side.")
            .WithDescription("Over the last `days` days (1–90, default 14), positions 1 to `positions` (default 10). An impression is one result " +
                "shown at one position; `ctr` = clicks / impressions, `addToCartRate` = adds to cart / impressions (events that name the " +
                "answer's requestId and position; bots left out). `byArm`: for an interleaved answer, each position counts for the side " +
                "that picked it.")
            .ProducesValidationProblem();
        return app;
    }

    public sealed record PositionStats(int Position, long Impressions, long Clicks, long AddsToCart, double Ctr, double AddToCartRate);

    public sealed record DayStats(DateOnly Day, long Impressions, long Clicks, long AddsToCart, double Ctr, double AddToCartRate);

    public sealed record ArmStats(string Experiment, string Arm, long Impressions, long Clicks, long AddsToCart, double Ctr, double AddToCartRate);

    public sealed record StatsResponse(int Days, DateTimeOffset Since, IReadOnlyList<PositionStats> ByPosition, IReadOnlyList<DayStats> ByDay,
        IReadOnlyList<ArmStats> ByArm);

    static async Task<Results<Ok<StatsResponse>, ValidationProblem>> StatsAsync(
        [FromQuery(Name = "days")] int? days, [FromQuery(Name = "positions")] int? positions, FeedbackStats stats, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (days is < 1 or > MaxDays)
            errors["days"] = [$"days must be between 1 and {MaxDays}."];
        if (positions is < 1 or > MaxPositions)
            errors["positions"] = [$"positions must be between 1 and {MaxPositions}."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var span = days ?? DefaultDays;
        // Whole days: the first one counted starts at midnight UTC, so each day's bar covers all of that day.
        var since = new DateTimeOffset(clock.GetUtcNow().UtcDateTime.Date.AddDays(1 - span), TimeSpan.Zero);
        var report = await stats.ReadAsync(since, positions ?? DefaultPositions, ct);
        return TypedResults.Ok(new StatsResponse(span, since,
            [.. report.ByPosition.Select(p => new PositionStats(p.Position, p.Rates.Impressions, p.Rates.Clicks, p.Rates.AddsToCart, p.Rates.Ctr, p.Rates.AddToCartRate))],
            [.. report.ByDay.Select(d => new DayStats(d.Day, d.Rates.Impressions, d.Rates.Clicks, d.Rates.AddsToCart, d.Rates.Ctr, d.Rates.AddToCartRate))],
            [.. report.ByArm.Select(a => new ArmStats(a.Experiment, a.Arm, a.Rates.Impressions, a.Rates.Clicks, a.Rates.AddsToCart, a.Rates.Ctr, a.Rates.AddToCartRate))]));
    }
}
