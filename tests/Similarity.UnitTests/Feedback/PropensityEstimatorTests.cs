using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>
/// The adjacent-swap estimator on synthetic clicks from known propensities (1, 0.5, 0.25 at positions 1–3) and known
/// relevances of the items ranked 1–3 (0.4, 0.2, 0.2). The click counts below are those expectations worked out by hand:
/// 1 000 plain lists and 100 lists explored at each of positions 1 and 2.
/// </summary>
public sealed class PropensityEstimatorTests
{
    // Plain lists: clicks at 1 = 1000 × 1 × 0.4 = 400; at 2 = 1000 × 0.5 × 0.2 = 100; at 3 = 1000 × 0.25 × 0.2 = 50.
    // Explored at 1 (item 2 shown at 1, item 1 at 2): at 1 = 100 × 1 × 0.2 = 20; at 2 = 100 × 0.5 × 0.4 = 20.
    // Explored at 2 (item 3 shown at 2, item 2 at 3): at 2 = 100 × 0.5 × 0.2 = 10; at 3 = 100 × 0.25 × 0.2 = 5.
    static readonly SwapCounts[] Known =
    [
        new(1, ExploredLists: 100, ExploredClicksAt: 20, ExploredClicksNext: 20, PlainLists: 1000, PlainClicksAt: 400, PlainClicksNext: 100),
        new(2, ExploredLists: 100, ExploredClicksAt: 10, ExploredClicksNext: 5, PlainLists: 1000, PlainClicksAt: 100, PlainClicksNext: 50),
    ];

    [Fact]
    public void Swapped_clicks_recover_the_known_propensities_whatever_the_items_relevance()
    {
        var estimates = PropensityEstimator.Estimate(Known, minPropensity: 0.1);

        Assert.Equal([1, 2, 3], estimates.Select(e => e.Position));
        Assert.Equal(1.0, estimates[0].Propensity, 9);
        Assert.Equal(0.5, estimates[1].Propensity, 9);  // (20/100 + 100/1000) / (400/1000 + 20/100) = 0.3 / 0.6
        Assert.Equal(0.25, estimates[2].Propensity, 9); // 0.5 × (5/100 + 50/1000) / (100/1000 + 10/100) = 0.5 × 0.1 / 0.2
        // The explored clicks at each position: 20 at 1; 20 (explored at 1) + 10 (explored at 2) at 2; 5 at 3.
        Assert.Equal([20L, 30L, 5L], estimates.Select(e => e.Clicks));
    }

    [Fact]
    public void A_propensity_is_clipped_so_no_click_weighs_more_than_the_clip()
    {
        // At position 2 a click rate a twentieth of position 1's: (1/100 + 10/1000) / (400/1000 + 0/100) = 0.05, clipped to 0.1.
        var estimates = PropensityEstimator.Estimate([new SwapCounts(1, 100, 0, 1, 1000, 400, 10)], minPropensity: 0.1);

        Assert.Equal(0.1, estimates[1].Propensity, 9);
    }

    [Fact]
    public void The_chain_stops_at_the_first_pair_without_evidence()
    {
        SwapCounts[] counts = [Known[0], Known[1] with { ExploredLists = 0, ExploredClicksAt = 0, ExploredClicksNext = 0 }];

        var estimates = PropensityEstimator.Estimate(counts, minPropensity: 0.1);

        Assert.Equal([1, 2], estimates.Select(e => e.Position));
        Assert.Empty(PropensityEstimator.Estimate([], minPropensity: 0.1));
    }
}
