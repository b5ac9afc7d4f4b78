using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.CoEngagementScript;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>
/// The service with the rebuild left to POST /feedback/rebuild (its period is a day), no exploration, and the weighted
/// Jaccard as the pairs' score (the values below are worked out for it; the default score: CoEngagementScoreTests).
/// </summary>
public sealed class LearningApp : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:RebuildPeriod", "1.00:00:00"), new("Similarity:Feedback:ExploreShare", "0"), new("Similarity:Feedback:Score", "Jaccard")];

    /// <summary>Started, so the schema is there before a test writes the ingest's rows.</summary>
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        CreateClient();
    }
}

/// <summary>
/// The co-engagement learned from a fixed script of events, against values worked out by hand. Each test uses its own
/// SKUs and visitors; the rebuild reads them all, and each pair's numbers depend only on its own items' events.
/// </summary>
public sealed class CoEngagementTests(LearningApp app) : IClassFixture<LearningApp>
{
    const int Precision = 4;

    [Fact]
    public async Task A_pair_is_kept_from_three_distinct_visitors_and_not_from_two()
    {
        await InsertEventsAsync(app.Database, [.. EngagedTogether("min2", "mv-a", "mv-b", visitors: 2), .. EngagedTogether("min3", "mv-c", "mv-d", visitors: 3)]);

        await RebuildAsync(app);

        Assert.Null(await PairAsync(app.Database, "mv-a", "mv-b"));
        var pair = await PairAsync(app.Database, "mv-c", "mv-d");
        Assert.Equal(3, pair?.Visitors);
        Assert.Equal(3, (await PairAsync(app.Database, "mv-d", "mv-c"))?.Visitors); // both directions
    }

    [Fact]
    public async Task The_rebuild_leaves_the_pairs_analysed_so_blended_pages_are_planned_on_them()
    {
        await InsertEventsAsync(app.Database, EngagedTogether("stats", "st-a", "st-b", visitors: 3));

        await RebuildAsync(app);

        // Never analysed, reltuples is -1 (and a blended page was planned as on an empty table); too few rows here for autovacuum's analyze.
        var rows = Convert.ToInt64(await app.Database.ExecuteAsync("SELECT count(*) FROM co_engagement"));
        Assert.True(rows >= 2);
        Assert.Equal(rows, Convert.ToInt64(await app.Database.ExecuteAsync("SELECT reltuples::bigint FROM pg_class WHERE relname = 'co_engagement'")));
    }

    [Fact]
    public async Task A_bot_visitors_events_are_left_out()
    {
        await InsertEventsAsync(app.Database, EngagedTogether("bot", "bt-a", "bt-b", visitors: 3));
        await FlagBotAsync(app.Database, "bot-3");

        await RebuildAsync(app);

        Assert.Null(await PairAsync(app.Database, "bt-a", "bt-b"));
    }

    [Fact]
    public async Task Items_engaged_further_apart_than_the_session_gap_are_not_a_pair()
    {
        // Three visitors each: ss-a, then ss-b 31 minutes later (two sessions); ss-c, then ss-d 29 minutes later (one).
        ScriptEvent[] events = [.. Enumerable.Range(1, 3).SelectMany(v => new[]
        {
            new ScriptEvent($"gap-{v}", "ss-a", MinutesAgo: 200), new ScriptEvent($"gap-{v}", "ss-b", MinutesAgo: 169),
            new ScriptEvent($"gap-{v}", "ss-c", MinutesAgo: 100), new ScriptEvent($"gap-{v}", "ss-d", MinutesAgo: 71),
        })];
        await InsertEventsAsync(app.Database, events);

        await RebuildAsync(app);

        Assert.Null(await PairAsync(app.Database, "ss-a", "ss-b"));
        Assert.NotNull(await PairAsync(app.Database, "ss-c", "ss-d"));
    }

    [Fact]
    public async Task Weights_by_type_and_decay_by_age_make_the_weighted_jaccard_worked_out_by_hand()
    {
        // Three visitors, 30 days ago (one half-life): a view of dw-a (1 × 0.5) and a click on dw-b (2 × 0.5), a minute apart.
        // Visitor 1 also buys dw-a now, in another session (4 × 1).
        const double halfLife = 30 * 24 * 60;
        ScriptEvent[] events = [.. Enumerable.Range(1, 3).SelectMany(v => new[]
        {
            new ScriptEvent($"dw-{v}", "dw-a", "view", halfLife + 1), new ScriptEvent($"dw-{v}", "dw-b", "click", halfLife),
        }), new ScriptEvent("dw-1", "dw-a", "purchase", 0)];
        await InsertEventsAsync(app.Database, events);

        await RebuildAsync(app);

        // Pair weight: 3 sessions × min(0.5, 1) = 1.5. Item weights: dw-a 3 × 0.5 + 4 = 5.5, dw-b 3 × 1 = 3.
        // Weighted Jaccard: 1.5 / (5.5 + 3 − 1.5) = 1.5 / 7.
        var pair = (await PairAsync(app.Database, "dw-a", "dw-b"))!.Value;
        Assert.Equal(1.5, pair.Weight, Precision);
        Assert.Equal(1.5 / 7, pair.Score, Precision);
        Assert.Equal(1.5 / 7, (await PairAsync(app.Database, "dw-b", "dw-a"))!.Value.Score, Precision);
    }

    [Fact]
    public async Task A_click_at_a_lower_position_weighs_by_its_inverse_propensity()
    {
        // Served lists of two items whose clicks give propensity(2) = 0.5 (see PropensityEstimatorTests for the formula):
        // 10 plain lists with 4 clicks at 1 and 1 at 2; 10 lists explored at 1 with 2 clicks at each position.
        // (20/100-style rates: (2/10 + 1/10) / (4/10 + 2/10) = 0.5.) Each click is another visitor's, on items of its own.
        var clicks = new List<ScriptEvent>();
        for (var i = 0; i < 10; i++)
        {
            var plain = await InsertServedAsync(app.Database, "pz-q", ["pz-1", "pz-2"], exploredAt: null);
            var explored = await InsertServedAsync(app.Database, "pz-q", ["pz-2", "pz-1"], exploredAt: 1);
            if (i < 4) clicks.Add(new ScriptEvent($"pz-plain1-{i}", "pz-1", "click", 5, 1, plain));
            if (i < 1) clicks.Add(new ScriptEvent($"pz-plain2-{i}", "pz-2", "click", 5, 2, plain));
            if (i < 2) clicks.Add(new ScriptEvent($"pz-explored1-{i}", "pz-2", "click", 5, 1, explored));
            if (i < 2) clicks.Add(new ScriptEvent($"pz-explored2-{i}", "pz-1", "click", 5, 2, explored));
        }
        // Three visitors: a click on ps-a at position 2 (2 / 0.5 = 4), then a view of ps-b (1), in one session.
        ScriptEvent[] pairs = [.. Enumerable.Range(1, 3).SelectMany(v => new[]
        {
            new ScriptEvent($"ps-{v}", "ps-a", "click", 11, Position: 2), new ScriptEvent($"ps-{v}", "ps-b", "view", 10),
        })];
        await InsertEventsAsync(app.Database, [.. clicks, .. pairs]);

        await RebuildAsync(app);

        var propensities = await app.CreateAdminClient().GetFromJsonAsync<JsonElement>("/feedback/propensities");
        var positions = propensities.GetProperty("positions").EnumerateArray().ToList();
        Assert.Equal([1, 2], positions.Select(p => p.GetProperty("position").GetInt32()));
        Assert.Equal([1.0, 0.5], positions.Select(p => Math.Round(p.GetProperty("propensity").GetDouble(), Precision)));
        Assert.Equal([2, 2], positions.Select(p => p.GetProperty("clicks").GetInt32()));
        Assert.NotEqual(JsonValueKind.Null, propensities.GetProperty("estimatedAt").ValueKind);
        // Pair: 3 × min(4, 1) = 3; items: ps-a 3 × 4 = 12, ps-b 3. Jaccard 3 / (12 + 3 − 3) = 0.25 (0.5 without the correction).
        var pair = (await PairAsync(app.Database, "ps-a", "ps-b"))!.Value;
        Assert.Equal(0.25, pair.Score, Precision);
    }

    [Fact]
    public async Task The_propensities_route_needs_the_admin_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/feedback/propensities")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsync("/feedback/rebuild", null)).StatusCode);
    }
}
