using Similarity.Feedback;
using Similarity.Similar;

namespace Similarity.UnitTests.Similar;

/// <summary>How an experiment's side sets its parameters over a request's criteria.</summary>
public sealed class InterleavingCriteriaTests
{
    static readonly SearchCriteria Request = new(10, 0.2, new SearchFilter("mugs", null, null, null, true, []), 0.7, 0.3,
        RankingChoice: new RankingOptions(Diversity: 0.4, MaxPerBrand: 2));

    [Fact]
    public void A_side_that_sets_nothing_keeps_the_request_as_it_is()
    {
        Assert.Equal(Request, Interleaving.Over(Request, new ExperimentSide()));
    }

    [Fact]
    public void A_sides_blend_replaces_the_requests()
    {
        var over = Interleaving.Over(Request with { Blend = 0.3 }, new ExperimentSide(Blend: 0));

        Assert.Equal(0, over.Blend);
        Assert.Equal(Request, over with { Blend = Request.Blend });
    }

    [Fact]
    public void A_side_that_sets_one_weight_sets_the_other_to_zero_as_the_query_string_does()
    {
        var over = Interleaving.Over(Request, new ExperimentSide(ImageWeight: 1));

        Assert.Equal((1.0, 0.0), (over.ImageWeight!.Value, over.TextWeight!.Value));
        Assert.Equal((Request.K, Request.MinScore, Request.Filter, Request.Ranking), (over.K, over.MinScore, over.Filter, over.Ranking));
    }

    [Fact]
    public void A_sides_diversity_replaces_the_requests_and_zero_with_no_caps_ranks_by_score_alone()
    {
        Assert.Equal(new RankingOptions(Diversity: 0.9, MaxPerBrand: 2), Interleaving.Over(Request, new ExperimentSide(Diversity: 0.9)).Ranking);
        var plain = Request with { RankingChoice = new RankingOptions(Diversity: 0.4) };
        Assert.Null(Interleaving.Over(plain, new ExperimentSide(Diversity: 0)).RankingChoice);
    }
}
