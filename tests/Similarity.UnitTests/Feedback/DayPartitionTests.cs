using Similarity.Feedback;

namespace Similarity.UnitTests.Feedback;

/// <summary>A day partition's name is its table and its UTC date; only such names are taken for days.</summary>
public sealed class DayPartitionTests
{
    [Fact]
    public void A_day_names_its_partition_and_the_name_gives_the_day_back()
    {
        var day = new DateOnly(2026, 12, 6);

        Assert.Equal("served_lists_20261206", DayPartitions.Served.NameOf(day));
        Assert.Equal(day, DayPartitions.Events.DayOf("events_20261206"));
    }

    [Theory]
    [InlineData("events_default")]
    [InlineData("events_2026120")]
    [InlineData("events_20261306")]
    [InlineData("served_lists_20261206")]
    [InlineData("events_20261206_old")]
    public void Other_names_are_no_day_of_the_table(string name) => Assert.Null(DayPartitions.Events.DayOf(name));
}
