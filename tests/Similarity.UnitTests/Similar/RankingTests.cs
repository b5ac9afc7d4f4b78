using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>Ranking.Select on four-item catalogs whose answers are worked out by hand in the comments.</summary>
public sealed class RankingTests
{
    static Candidate Item(string sku, double score, float[] vector, string? brand = null, string? category = null, bool available = true) =>
        new(new SimilarResult(sku, sku, category, brand, null, null, available, null, false, score, null, null, null), vector);

    // A and B point the same way (cosine 1); C is orthogonal to both (cosine 0).
    static readonly Candidate A = Item("a", 0.90, [1, 0], brand: "x");
    static readonly Candidate B = Item("b", 0.85, [1, 0], brand: "x");
    static readonly Candidate C = Item("c", 0.60, [0, 1], brand: "y");

    static string[] Skus(IEnumerable<SimilarResult> results) => [.. results.Select(r => r.Sku)];

    [Fact]
    public void Without_ranking_options_the_first_k_by_score_are_taken()
    {
        Assert.Equal(["a", "b"], Skus(Ranking.Select([A, B, C], [], [], 2, RankingOptions.None)));
    }

    [Fact]
    public void Diversity_takes_the_orthogonal_item_over_the_near_copy()
    {
        // Second pick at diversity 0.5: b = 0.5·0.85 − 0.5·1 = −0.075; c = 0.5·0.60 − 0.5·0 = 0.30 → c.
        Assert.Equal(["a", "c"], Skus(Ranking.Select([A, B, C], [], [], 2, new RankingOptions(Diversity: 0.5))));
        // At diversity 0.05, b = 0.95·0.85 − 0.05 = 0.7575 beats c = 0.95·0.60 = 0.57.
        Assert.Equal(["a", "b"], Skus(Ranking.Select([A, B, C], [], [], 2, new RankingOptions(Diversity: 0.05))));
    }

    [Fact]
    public void A_brand_cap_skips_to_the_next_brand()
    {
        Assert.Equal(["a", "c"], Skus(Ranking.Select([A, B, C], [], [], 3, new RankingOptions(MaxPerBrand: 1))));
    }

    [Fact]
    public void The_boost_lifts_available_items_past_unavailable_ones()
    {
        var unavailable = Item("u", 0.95, [1, 0], available: false);
        Assert.Equal(["u", "a"], Skus(Ranking.Select([unavailable, A], [], [], 2, RankingOptions.None with { BoostAvailable = 0 })));
        // 0.90 + 0.1 = 1.00 > 0.95.
        Assert.Equal(["a", "u"], Skus(Ranking.Select([unavailable, A], [], [], 2, new RankingOptions(BoostAvailable: 0.1))));
    }

    [Fact]
    public void A_fallback_fills_the_page_after_the_results_and_is_marked()
    {
        var d = Item("d", 0.30, [0, 1]);
        var results = Ranking.Select([C], [A, C, d], [], 3, RankingOptions.None);
        Assert.Equal(["c", "a", "d"], Skus(results));
        Assert.Equal([false, true, true], results.Select(r => r.Fallback));
    }

    [Fact]
    public void Pins_go_to_their_positions_and_push_the_last_results_out()
    {
        var pinned = Item("p", 0.10, [0, 1]).Result;
        var results = Ranking.Select([A, B, C], [], [new Pin(pinned, 2)], 3, RankingOptions.None);
        Assert.Equal(["a", "p", "b"], Skus(results));
        Assert.Equal([false, true, false], results.Select(r => r.Pinned));
        // A position past the end lands last; a pinned item is never also a plain result.
        Assert.Equal(["b", "a"], Skus(Ranking.Select([A, B], [], [new Pin(A.Result, 9)], 2, RankingOptions.None)));
    }
}
