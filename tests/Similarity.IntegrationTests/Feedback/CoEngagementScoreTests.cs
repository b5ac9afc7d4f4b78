using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.CoEngagementScript;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>The service with the default co-engagement score; the rebuild left to POST /feedback/rebuild and no exploration.</summary>
public sealed class DefaultScoreApp : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:RebuildPeriod", "1.00:00:00"), new("Similarity:Feedback:ExploreShare", "0")];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        CreateClient();
    }
}

/// <summary>
/// The default score of a co-engaged pair: its weight relative to the query item's strongest pair, so an item's most
/// co-engaged item scores 1 on its page however popular the item is — against values worked out by hand.
/// </summary>
public sealed class CoEngagementScoreTests(DefaultScoreApp app) : IClassFixture<DefaultScoreApp>
{
    const int Precision = 4;

    [Fact]
    public async Task A_pair_scores_its_weight_over_the_query_items_strongest_pair()
    {
        // cs-q with cs-a by four visitors, with cs-b by three others; every event a view of weight 1, all ten minutes old.
        await InsertEventsAsync(app.Database, [.. EngagedTogether("csa", "cs-q", "cs-a", visitors: 4), .. EngagedTogether("csb", "cs-q", "cs-b", visitors: 3)]);

        await RebuildAsync(app);

        // On cs-q's page: 4 / 4 and 3 / 4 (the weighted Jaccard would be 4 / 7 and 3 / 7). cs-a's and cs-b's only pair scores 1.
        Assert.Equal(1.0, (await PairAsync(app.Database, "cs-q", "cs-a"))!.Value.Score, Precision);
        Assert.Equal(0.75, (await PairAsync(app.Database, "cs-q", "cs-b"))!.Value.Score, Precision);
        Assert.Equal(1.0, (await PairAsync(app.Database, "cs-b", "cs-q"))!.Value.Score, Precision);
        Assert.Equal(1.0, (await PairAsync(app.Database, "cs-a", "cs-q"))!.Value.Score, Precision);
        Assert.Equal(4, (await PairAsync(app.Database, "cs-q", "cs-a"))!.Value.Visitors);
    }

    [Fact]
    public async Task The_propensities_are_one_power_of_the_position_fitted_to_every_swapped_pair()
    {
        // Two adjacent pairs, each 10 plain and 10 explored lists of items pf-1..pf-3 (see PropensityFitTests):
        // pair (1, 2): rates (2/10 + 1/10) / (2/10 + 4/10) = 1/2; pair (2, 3): (1/10 + 0/10) / (1/10 + 1/10) = 1/2.
        // One power fits both: log(1/2) = −η log 2 and log(1/2) = −η log(3/2) pooled by their weights. The chain would
        // give 1/2 and 1/4; the fit gives 2^−η and 3^−η with one η between log 2 / log 2 = 1 and log 2 / log 1.5 = 1.71.
        var clicks = new List<ScriptEvent>();
        for (var i = 0; i < 10; i++)
        {
            var plain = await InsertServedAsync(app.Database, "pf-q", ["pf-1", "pf-2", "pf-3"], exploredAt: null);
            var explored1 = await InsertServedAsync(app.Database, "pf-q", ["pf-2", "pf-1", "pf-3"], exploredAt: 1);
            var explored2 = await InsertServedAsync(app.Database, "pf-q", ["pf-1", "pf-3", "pf-2"], exploredAt: 2);
            if (i < 4) clicks.Add(new ScriptEvent($"pf-p1-{i}", "pf-1", "click", 5, 1, plain));
            if (i < 1) clicks.Add(new ScriptEvent($"pf-p2-{i}", "pf-2", "click", 5, 2, plain));
            if (i < 2) clicks.Add(new ScriptEvent($"pf-e11-{i}", "pf-2", "click", 5, 1, explored1));
            if (i < 2) clicks.Add(new ScriptEvent($"pf-e12-{i}", "pf-1", "click", 5, 2, explored1));
            if (i < 1) clicks.Add(new ScriptEvent($"pf-e22-{i}", "pf-3", "click", 5, 2, explored2));
            if (i < 1) clicks.Add(new ScriptEvent($"pf-e23-{i}", "pf-2", "click", 5, 3, explored2));
        }
        await InsertEventsAsync(app.Database, [.. clicks]);

        await RebuildAsync(app);

        var answer = await app.CreateAdminClient().GetFromJsonAsync<JsonElement>("/feedback/propensities");
        var positions = answer.GetProperty("positions").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], positions.Select(p => p.GetProperty("position").GetInt32()));
        var (second, third) = (positions[1].GetProperty("propensity").GetDouble(), positions[2].GetProperty("propensity").GetDouble());
        var eta = -Math.Log(second) / Math.Log(2);
        Assert.InRange(eta, 1.0001, 1.7);
        Assert.Equal(Math.Pow(3, -eta), third, Precision); // one power for both positions, not the chain's 1/4
    }
}
