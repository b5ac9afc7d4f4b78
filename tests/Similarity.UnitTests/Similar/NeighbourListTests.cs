using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>
/// The neighbour list's rules on lists of a few items, each answer worked out by hand in the comments. Size 5 gives a
/// capacity of 6 (5 and a fifth of 5, rounded down).
/// </summary>
public sealed class NeighbourListTests
{
    const int Size = 5;

    // x's list: a 0.9, b 0.8, c 0.8 (a tie: by SKU), d 0.7, e 0.6 — exactly the size.
    static NeighbourList List() => new("x", ["a", "b", "c", "d", "e"], [0.9, 0.8, 0.8, 0.7, 0.6]);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(4, 4)]   // 4 / 5 = 0
    [InlineData(5, 6)]
    [InlineData(20, 24)]
    [InlineData(100, 120)]
    public void Capacity_is_the_size_and_a_fifth_more(int size, int capacity) =>
        Assert.Equal(capacity, NeighbourList.CapacityOf(size));

    [Fact]
    public void An_item_precedes_by_score_and_a_tie_goes_by_sku()
    {
        Assert.True(NeighbourList.Precedes(0.9, "z", 0.8, "a"));
        Assert.False(NeighbourList.Precedes(0.8, "z", 0.9, "a"));
        Assert.True(NeighbourList.Precedes(0.8, "b", 0.8, "c"));
        Assert.False(NeighbourList.Precedes(0.8, "c", 0.8, "b"));
        Assert.False(NeighbourList.Precedes(0.8, "c", 0.8, "c")); // an item does not precede itself
    }

    [Fact]
    public void Insert_puts_an_item_in_its_place_and_ties_by_sku()
    {
        var list = List();
        list.Insert("bb", 0.8, Size); // 0.8 ties b and c: "b" < "bb" < "c"
        Assert.Equal(["a", "b", "bb", "c", "d", "e"], list.Neighbours);
        Assert.Equal([0.9, 0.8, 0.8, 0.8, 0.7, 0.6], list.Scores);
    }

    [Fact]
    public void Insert_keeps_at_most_the_capacity()
    {
        var list = List();
        list.Insert("f", 0.95, Size); // first; 6 items: the capacity
        list.Insert("g", 0.85, Size); // after a; 7 items: e, the last, goes
        Assert.Equal(["f", "a", "g", "b", "c", "d"], list.Neighbours);
        Assert.Equal([0.95, 0.9, 0.85, 0.8, 0.8, 0.7], list.Scores);
    }

    [Fact]
    public void An_item_that_beats_the_last_enters_and_one_that_does_not_stays_out()
    {
        var list = List();
        Assert.Equal(ListChange.Changed, list.Offer("f", 0.65, Size)); // 0.65 > e's 0.6: before e
        Assert.Equal(["a", "b", "c", "d", "f", "e"], list.Neighbours);
        Assert.Equal(ListChange.Unchanged, list.Offer("g", 0.5, Size)); // below the last of a full list
        Assert.Equal(ListChange.Unchanged, list.Offer("a", 0.99, Size)); // already there
        Assert.Equal(["a", "b", "c", "d", "f", "e"], list.Neighbours);
    }

    [Fact]
    public void A_list_shorter_than_the_size_that_an_item_does_not_beat_is_computed_again()
    {
        // Three items, size 5: the list held every other item, so where g (0.5, below c's 0.8) goes is not known from it.
        var list = new NeighbourList("x", ["a", "b", "c"], [0.9, 0.85, 0.8]);
        Assert.Equal(ListChange.Recompute, list.Offer("g", 0.5, Size));
        Assert.Equal(ListChange.Changed, list.Offer("h", 0.95, Size)); // it beats the last: it enters
        Assert.Equal(["h", "a", "b", "c"], list.Neighbours);
    }

    [Fact]
    public void An_empty_list_admits_any_item()
    {
        var list = new NeighbourList("x", [], []);
        Assert.Equal(ListChange.Changed, list.Offer("a", -0.5, Size));
        Assert.Equal(["a"], list.Neighbours);
    }

    [Fact]
    public void A_rescored_item_that_still_beats_the_last_moves_to_its_new_place()
    {
        var list = List();
        Assert.Equal(ListChange.Changed, list.Rescore("d", 0.95, Size)); // d: 0.7 → 0.95, first now
        Assert.Equal(["d", "a", "b", "c", "e"], list.Neighbours);
        Assert.Equal([0.95, 0.9, 0.8, 0.8, 0.6], list.Scores);
    }

    [Fact]
    public void A_rescored_item_past_the_last_leaves_and_a_list_left_short_is_computed_again()
    {
        // With capacity to spare (6 of size 5), b falling to 0.1 leaves the list, 5 stay: still the exact top 5.
        var roomy = new NeighbourList("x", ["a", "b", "c", "d", "e", "f"], [0.9, 0.8, 0.8, 0.7, 0.6, 0.5]);
        Assert.Equal(ListChange.Changed, roomy.Rescore("b", 0.1, Size));
        Assert.Equal(["a", "c", "d", "e", "f"], roomy.Neighbours);

        // At exactly the size, the same leaves 4: which item is fifth now is not in the list.
        var full = List();
        Assert.Equal(ListChange.Recompute, full.Rescore("b", 0.1, Size));
    }

    [Fact]
    public void An_item_gone_or_of_another_model_set_leaves_the_list()
    {
        var roomy = new NeighbourList("x", ["a", "b", "c", "d", "e", "f"], [0.9, 0.8, 0.8, 0.7, 0.6, 0.5]);
        Assert.Equal(ListChange.Changed, roomy.Rescore("a", null, Size));
        Assert.Equal(["b", "c", "d", "e", "f"], roomy.Neighbours);
    }

    [Fact]
    public void A_deleted_item_leaves_and_a_list_left_shorter_than_the_size_is_computed_again()
    {
        var roomy = new NeighbourList("x", ["a", "b", "c", "d", "e", "f"], [0.9, 0.8, 0.8, 0.7, 0.6, 0.5]);
        Assert.Equal(ListChange.Changed, roomy.Leave("c", Size)); // 5 left: long enough
        Assert.Equal(["a", "b", "d", "e", "f"], roomy.Neighbours);
        Assert.Equal([0.9, 0.8, 0.7, 0.6, 0.5], roomy.Scores);
        Assert.Equal(ListChange.Recompute, roomy.Leave("a", Size)); // 4 left
    }

    [Fact]
    public void Long_enough_means_at_least_the_size()
    {
        Assert.True(List().LongEnough(Size));
        Assert.False(List().LongEnough(Size + 1));
    }
}
