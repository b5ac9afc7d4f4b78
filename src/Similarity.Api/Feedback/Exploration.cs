using Microsoft.Extensions.Options;

namespace Similarity.Feedback;

/// <summary>
/// Exploration for the position propensities: on <see cref="FeedbackOptions.ExploreShare"/> of the answers to an
/// identified visitor (a <c>visitorId</c> query parameter or <c>X-Visitor-Id</c> header: only their clicks can come
/// back), two adjacent results p and p+1 are swapped, p drawn in 1–9 (within the answer) with chance in proportion to
/// 1 / p: the pooled estimate (<see cref="PropensityEstimator.FitPowerLaw"/>) learns most from the top pairs, whose
/// positions are furthest apart in log position and clicked most, while every pair keeps some swaps of its own
/// (position 9 is swapped a ninth as often as position 1). The position goes to the
/// served log (<see cref="ExploredAt"/>), and the answer is not cached, since it is not the ranking's. Results an admin
/// pinned are never moved.
/// </summary>
public sealed class Exploration(IOptions<FeedbackOptions> options)
{
    /// <summary>Where the swapped position <c>p</c> (a <see cref="short"/>) is kept in <see cref="HttpContext.Items"/> for the served log.</summary>
    public const string ExploredAtKey = "Similarity.Feedback.ExploredAt";

    /// <summary>The highest position p swapped with p+1: both stay on the first page of ten.</summary>
    public const int MaxSwapPosition = 9;

    /// <summary>The answer, or on the explored share a copy with results p and p+1 swapped; <paramref name="movable"/>: whether a result may move.</summary>
    public IReadOnlyList<T> Explore<T>(HttpContext http, IReadOnlyList<T> results, Func<T, bool> movable)
    {
        var share = options.Value.ExploreShare;
        if (results.Count < 2 || share <= 0 || !HasVisitor(http.Request) || Random.Shared.NextDouble() >= share)
            return results;
        var p = SwapPosition(Math.Min(MaxSwapPosition, results.Count - 1), Random.Shared.NextDouble());
        if (!movable(results[p - 1]) || !movable(results[p]))
            return results;
        var swapped = results.ToArray();
        (swapped[p - 1], swapped[p]) = (swapped[p], swapped[p - 1]);
        http.Items[ExploredAtKey] = (short)p;
        http.Response.Headers.CacheControl = "private, no-store";
        return swapped;
    }

    /// <summary>A position in 1..<paramref name="last"/>, position p with chance (1 / p) / (1 + 1/2 + … + 1/last), for <paramref name="uniform"/> in [0, 1).</summary>
    public static int SwapPosition(int last, double uniform)
    {
        var draw = uniform * Enumerable.Range(1, last).Sum(k => 1.0 / k);
        var (p, upTo) = (1, 1.0); // upTo: 1 + 1/2 + … + 1/p
        while (upTo <= draw && p < last)
            upTo += 1.0 / ++p;
        return p;
    }

    /// <summary>The position swapped with the next one in this request's answer, if it was explored.</summary>
    public static short? ExploredAt(HttpContext http) => http.Items.TryGetValue(ExploredAtKey, out var p) ? (short?)p : null;

    static bool HasVisitor(HttpRequest request) =>
        !string.IsNullOrEmpty(request.Query["visitorId"]) || !string.IsNullOrEmpty(request.Headers["X-Visitor-Id"]);
}
