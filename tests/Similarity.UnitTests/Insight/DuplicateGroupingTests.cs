using Similarity.Insight;

namespace Similarity.UnitTests.Insight;

/// <summary>Pairs into duplicate groups, on pairs small enough to group by hand.</summary>
public sealed class DuplicateGroupingTests
{
    static DuplicateGrouping.Pair P(string a, string b, double score) => new(a, b, score);

    [Fact]
    public void Connected_pairs_form_one_group_and_separate_ones_their_own_strongest_first()
    {
        var groups = DuplicateGrouping.Group([P("a", "b", 0.97), P("b", "c", 0.96), P("x", "y", 0.99)], maxGroupSize: 10);

        Assert.Equal([["x", "y"], ["a", "b", "c"]], groups);
    }

    [Fact]
    public void A_chain_stops_at_the_cap_and_its_rest_groups_alone()
    {
        // a-b 0.99, b-c 0.98, c-d 0.97, d-e 0.96: with a cap of 3, {a,b,c} forms first; c-d would make 4, so d and e pair up.
        var groups = DuplicateGrouping.Group([P("c", "d", 0.97), P("a", "b", 0.99), P("d", "e", 0.96), P("b", "c", 0.98)], maxGroupSize: 3);

        Assert.Equal([["a", "b", "c"], ["d", "e"]], groups);
    }

    [Fact]
    public void A_pair_within_a_group_changes_nothing_and_no_pairs_make_no_groups()
    {
        Assert.Equal([["a", "b", "c"]], DuplicateGrouping.Group([P("a", "b", 0.9), P("b", "c", 0.9), P("a", "c", 0.95)], 5));
        Assert.Empty(DuplicateGrouping.Group([], 5));
    }

    [Fact]
    public void The_differing_fields_are_those_not_equal_for_every_member()
    {
        DuplicateStore.DuplicateMember M(string sku, decimal? price, string? brand) => new(sku, "Red mug", null, brand, price, "EUR", "mugs", true);

        Assert.Equal(["brand", "price"], Duplicates.DifferingFields([M("a", 5m, "acme"), M("b", 6m, "acme"), M("c", 5m, null)]));
        Assert.Empty(Duplicates.DifferingFields([M("a", 5m, "acme"), M("b", 5m, "acme")]));
    }
}
