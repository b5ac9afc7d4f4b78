namespace Similarity.Feedback;

/// <summary>
/// What the served lists and their clicks say about one adjacent pair (p, p+1): lists explored at p (their results at p
/// and p+1 swapped) and plain lists (not explored), and in each how many had a click at p and at p+1.
/// </summary>
public sealed record SwapCounts(int Position, long ExploredLists, long ExploredClicksAt, long ExploredClicksNext,
    long PlainLists, long PlainClicksAt, long PlainClicksNext);

/// <summary>The estimated chance that a shopper examines <see cref="Position"/> (position 1 = 1), and the explored clicks it rests on.</summary>
public sealed record PositionPropensity(int Position, double Propensity, long Clicks);

/// <summary>
/// Position propensities from adjacent swaps (the RandPair idea of intervention harvesting). A swap at p shows the item
/// that would be at p at p+1 and the other way round, at random; so over explored and plain lists the same two items
/// are seen at both positions, and the ratio of click rates at p+1 and at p is propensity(p+1) / propensity(p) whatever
/// the items' relevance. The ratios are chained from position 1, and each propensity is clipped to
/// [<c>minPropensity</c>, 1] so no click weighs more than 1 / minPropensity. The chain stops at the first pair without
/// evidence (no explored or no plain list, or no click at p): later positions have no estimate. Pure: no database.
/// </summary>
public static class PropensityEstimator
{
    public static IReadOnlyList<PositionPropensity> Estimate(IEnumerable<SwapCounts> counts, double minPropensity)
    {
        var byPosition = counts.ToDictionary(c => c.Position);
        var estimates = new List<PositionPropensity>();
        var propensity = 1.0;
        for (var p = 1; byPosition.TryGetValue(p, out var c); p++)
        {
            if (c.ExploredLists == 0 || c.PlainLists == 0)
                break;
            // E[clicks at p+1] over both kinds of list = propensity(p+1) × (relevance of either item); likewise at p.
            var atNext = (double)c.ExploredClicksNext / c.ExploredLists + (double)c.PlainClicksNext / c.PlainLists;
            var at = (double)c.ExploredClicksAt / c.ExploredLists + (double)c.PlainClicksAt / c.PlainLists;
            if (at == 0)
                break;
            if (p == 1)
                estimates.Add(new PositionPropensity(1, 1.0, c.ExploredClicksAt));
            else
                estimates[^1] = estimates[^1] with { Clicks = estimates[^1].Clicks + c.ExploredClicksAt };
            propensity = Math.Clamp(propensity * atNext / at, minPropensity, 1.0);
            estimates.Add(new PositionPropensity(p + 1, propensity, c.ExploredClicksNext));
        }
        return estimates;
    }
}
