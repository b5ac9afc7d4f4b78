using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

/// <summary>The bench insight figures whose answer is plain by construction.</summary>
public sealed class InsightMeasuresTests
{
    [Fact]
    public void A_constant_lead_has_a_zero_width_paired_interval_though_the_separate_intervals_overlap()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 200).Select(_ => random.NextDouble()).ToArray();
        double Mean(int[] sample) => sample.Average(i => values[i]);
        double Lower(int[] sample) => Mean(sample) - 0.01;

        var (low, high) = InsightMeasures.PairedDifference(values.Length, Mean, Lower);
        var (aLow, aHigh) = InsightMeasures.Bootstrap(values.Length, Mean);
        var (bLow, bHigh) = InsightMeasures.Bootstrap(values.Length, Lower);

        // Scored on the same resamples, the difference is 0.01 in every one of them.
        Assert.Equal(0.01, low, 12);
        Assert.Equal(0.01, high, 12);
        Assert.True(aLow < bHigh && bLow < aHigh, "the separate intervals overlap (each is far wider than 0.01)");
    }

    [Fact]
    public void Nmi_is_one_for_a_relabelled_partition_and_zero_for_an_independent_one()
    {
        Assert.Equal(1, InsightMeasures.Nmi(["a", "a", "b", "b"], [7, 7, 3, 3]), 12);
        Assert.Equal(0, InsightMeasures.Nmi(["a", "a", "b", "b"], [1, 2, 1, 2]), 12);
    }
}
