using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class StatsTests
{
    static readonly double[] TenValues = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];

    [Theory]
    [InlineData(50, 5)]   // rank ceil(0.5 × 10) = 5
    [InlineData(95, 10)]  // rank ceil(9.5) = 10
    [InlineData(90, 9)]   // rank 9 exactly
    [InlineData(1, 1)]    // rank ceil(0.1) = 1
    [InlineData(100, 10)]
    public void Percentiles_are_nearest_rank_values_measured(double percentile, double expected) =>
        Assert.Equal(expected, Stats.Percentile(TenValues, percentile));

    [Fact]
    public void A_percentile_of_one_value_is_that_value() => Assert.Equal(7.5, Stats.Percentile([7.5], 99));

    [Fact]
    public void The_median_of_an_odd_count_is_the_middle_one_and_of_an_even_count_the_lower_middle_one()
    {
        Assert.Equal(3, Stats.Median([5, 1, 3, 4, 2]));
        Assert.Equal(2, Stats.Median([4, 1, 3, 2]));
    }

    [Fact]
    public void No_values_have_no_percentile() => Assert.Throws<ArgumentException>(() => Stats.Percentile([], 50));

    [Fact]
    public void Range_ratio_and_sizes_are_written_with_the_invariant_culture()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            Assert.Equal("0.40–1.25", Stats.Range([1.25, 0.4, 0.9]));
            Assert.Equal("0.33", Stats.Ratio(1, 3));
            Assert.Equal("1.5 MiB", Stats.Mib(1.5 * 1048576));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }
}
