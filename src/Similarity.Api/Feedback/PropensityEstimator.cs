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

    /// <summary>
    /// The propensities pooled across positions: examination falling as a power of the position, propensity(p) = p^−η
    /// (the form of Joachims et al., 2017), with η fitted to every adjacent pair's swap evidence at once. Each pair with
    /// evidence gives log(rate at p+1 / rate at p) ≈ −η (log(p+1) − log p), weighed by the inverse of its variance (a
    /// pair with few clicks counts little), and η is the weighted least-squares slope. A deep position with few swapped
    /// clicks of its own so borrows from the others instead of carrying the product of every ratio above it. The
    /// positions are those <see cref="Estimate"/> reaches (1 up to the first pair without evidence, and its lower item),
    /// clipped as there; the clicks likewise. Pure.
    /// </summary>
    public static IReadOnlyList<PositionPropensity> FitPowerLaw(IEnumerable<SwapCounts> counts, double minPropensity)
    {
        var list = counts.ToList();
        var chain = Estimate(list, minPropensity);
        var (slope, weights) = (0.0, 0.0);
        foreach (var c in list.Where(c => c.Position < chain.Count))
        {
            var (next, nextVariance) = Rate(c.ExploredClicksNext, c.ExploredLists, c.PlainClicksNext, c.PlainLists);
            var (at, atVariance) = Rate(c.ExploredClicksAt, c.ExploredLists, c.PlainClicksAt, c.PlainLists);
            if (next <= 0 || at <= 0)
                continue; // no click at p+1: log 0; the pair says little about η alone
            var step = Math.Log(c.Position + 1) - Math.Log(c.Position);
            var weight = 1 / (nextVariance / (next * next) + atVariance / (at * at));
            slope += weight * step * -Math.Log(next / at);
            weights += weight * step * step;
        }
        if (weights == 0)
            return chain;
        var eta = slope / weights;
        return [.. chain.Select(e => e with { Propensity = Math.Clamp(Math.Pow(e.Position, -eta), minPropensity, 1.0) })];
    }

    /// <summary>The click rate over explored and plain lists (as <see cref="Estimate"/> sums it) and its binomial variance.</summary>
    static (double Rate, double Variance) Rate(long exploredClicks, long exploredLists, long plainClicks, long plainLists)
    {
        double Share(long clicks, long lists) => (double)clicks / lists;
        double Variance(long clicks, long lists) => Math.Max(Share(clicks, lists) * (1 - Share(clicks, lists)), 1.0 / lists) / lists;
        return (Share(exploredClicks, exploredLists) + Share(plainClicks, plainLists),
            Variance(exploredClicks, exploredLists) + Variance(plainClicks, plainLists));
    }
}
