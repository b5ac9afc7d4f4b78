using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>
/// The pooled power-law estimate of the position propensities, on swap counts made from known propensities 1 / p^0.8
/// (the bench simulator's) and known relevances of the items ranked 1–10, each count the expectation rounded: plain and
/// explored lists at every pair, clicks = lists × propensity of the position shown × relevance of the item shown there.
/// </summary>
public sealed class PropensityFitTests
{
    const double Eta = 0.8;
    static double Truth(int p) => Math.Pow(p, -Eta);
    static double Relevance(int rank) => 0.5 - 0.03 * rank;

    static SwapCounts Pair(int p, long explored, long plain) => new(p,
        ExploredLists: explored,
        ExploredClicksAt: (long)Math.Round(explored * Truth(p) * Relevance(p + 1)),      // the item ranked p+1 shown at p
        ExploredClicksNext: (long)Math.Round(explored * Truth(p + 1) * Relevance(p)),    // the item ranked p shown at p+1
        PlainLists: plain,
        PlainClicksAt: (long)Math.Round(plain * Truth(p) * Relevance(p)),
        PlainClicksNext: (long)Math.Round(plain * Truth(p + 1) * Relevance(p + 1)));

    static SwapCounts[] Counts(long explored, long plain) => [.. Enumerable.Range(1, 9).Select(p => Pair(p, explored, plain))];

    [Fact]
    public void Exact_swap_evidence_gives_back_the_power_law_at_every_position()
    {
        var fitted = PropensityEstimator.FitPowerLaw(Counts(1_000_000, 10_000_000), minPropensity: 0.1);

        Assert.Equal(Enumerable.Range(1, 10), fitted.Select(e => e.Position));
        Assert.All(fitted, e => Assert.Equal(Truth(e.Position), e.Propensity, 3));
    }

    [Fact]
    public void A_deep_pair_with_few_and_unlucky_clicks_moves_the_fit_little_where_the_chain_carries_it_down()
    {
        var counts = Counts(1_000_000, 10_000_000);
        // Pair (6, 7) explored in 200 lists only, its 7th position clicked 20 times where 200 × 7^−0.8 × 0.32 ≈ 13 were expected.
        counts[5] = Pair(6, 200, 10_000_000) with { ExploredClicksNext = 20 };

        var chained = PropensityEstimator.Estimate(counts, minPropensity: 0.1);
        var fitted = PropensityEstimator.FitPowerLaw(counts, minPropensity: 0.1);

        Assert.True(chained[9].Propensity / Truth(10) > 1.2, $"the chain's position 10: {chained[9].Propensity / Truth(10):F3} of the truth");
        Assert.All(fitted, e => Assert.InRange(e.Propensity / Truth(e.Position), 0.995, 1.005));
    }

    [Fact]
    public void The_fit_covers_the_chains_positions_with_its_clicks_and_clips_like_it()
    {
        SwapCounts[] counts = [.. Counts(1000, 10_000).Take(4), Pair(5, 0, 10_000)];

        var chained = PropensityEstimator.Estimate(counts, minPropensity: 0.5);
        var fitted = PropensityEstimator.FitPowerLaw(counts, minPropensity: 0.5);

        Assert.Equal([1, 2, 3, 4, 5], fitted.Select(e => e.Position)); // no explored list at pair (5, 6): no estimate below 5
        Assert.Equal(chained.Select(e => e.Clicks), fitted.Select(e => e.Clicks));
        Assert.Equal(0.5, fitted[4].Propensity, 9); // 5^−0.8 = 0.276, clipped to 0.5
        Assert.Empty(PropensityEstimator.FitPowerLaw([], minPropensity: 0.1));
    }

    [Fact]
    public void Positions_are_swapped_in_proportion_to_one_over_the_position()
    {
        const int Draws = 100_000;
        var drawn = Enumerable.Range(0, Draws).Select(i => Exploration.SwapPosition(9, (i + 0.5) / Draws)).CountBy(p => p).ToDictionary();

        // Over an even grid of draws, position p takes (1/p) / (1 + 1/2 + … + 1/9) of them, give or take one at each boundary.
        var harmonic = 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0 + 1 / 5.0 + 1 / 6.0 + 1 / 7.0 + 1 / 8.0 + 1 / 9.0;
        Assert.All(Enumerable.Range(1, 9), p => Assert.InRange(drawn[p], Draws / p / harmonic - 2, Draws / p / harmonic + 2));
        Assert.Equal(1, Exploration.SwapPosition(1, 0.99));
        Assert.Equal(3, Exploration.SwapPosition(3, 0.999));
        Assert.Equal(1, Exploration.SwapPosition(9, 0));
    }
}
