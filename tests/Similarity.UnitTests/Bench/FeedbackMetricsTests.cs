using System.Text.Json;
using Similarity.Bench;

namespace Similarity.UnitTests.Bench;

public sealed class FeedbackMetricsTests
{
    static readonly string[] Ranked = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];

    [Theory]
    [InlineData("a", 10, 1)]
    [InlineData("j", 10, 1)]   // rank 10 of 10
    [InlineData("k", 10, 0)]   // rank 11: outside the top 10
    [InlineData("c", 2, 0)]
    [InlineData("z", 10, 0)]
    public void Recall_is_one_when_the_next_item_is_in_the_top_k(string next, int k, double expected) =>
        Assert.Equal(expected, FeedbackMetrics.Recall(Ranked, next, k));

    [Theory]
    [InlineData("a", 1.0)]              // 1 / log2(2)
    [InlineData("c", 0.5)]              // 1 / log2(4)
    [InlineData("g", 1.0 / 3)]          // 1 / log2(8)
    [InlineData("k", 0.0)]              // rank 11
    [InlineData("z", 0.0)]
    public void Ndcg_of_one_engaged_item_is_one_over_log2_of_its_rank_plus_one(string next, double expected) =>
        Assert.Equal(expected, FeedbackMetrics.Ndcg(Ranked, next), 12);

    [Fact]
    public void The_mean_weighs_every_step_and_the_interval_holds_it()
    {
        // Steps 1,0 | 1 | 0,0,0: 2 hits in 6 steps.
        IReadOnlyList<double>[] sessions = [[1, 0], [1], [0, 0, 0], []];
        var estimate = FeedbackMetrics.Bootstrap(sessions, seed: 5);
        Assert.Equal(2.0 / 6, estimate.Mean, 12);
        Assert.Equal((3, 6), (estimate.Sessions, estimate.Steps));
        Assert.InRange(estimate.Low, 0, estimate.Mean);
        Assert.InRange(estimate.High, estimate.Mean, 1);
        Assert.True(estimate.Low < estimate.High);
    }

    [Fact]
    public void The_bootstrap_is_seeded()
    {
        IReadOnlyList<double>[] sessions = [.. Enumerable.Range(0, 40).Select(i => (IReadOnlyList<double>)[i % 3 == 0 ? 1 : 0, i % 5 == 0 ? 1 : 0])];
        Assert.Equal(FeedbackMetrics.Bootstrap(sessions, 9), FeedbackMetrics.Bootstrap(sessions, 9));
    }

    [Fact]
    public void Equal_values_have_a_point_interval_and_no_steps_say_so()
    {
        Assert.Equal(new Estimate(1, 1, 1, 2, 3), FeedbackMetrics.Bootstrap([[1, 1], [1]], 1));
        Assert.Equal("n/a (no steps)", FeedbackMetrics.Bootstrap([[]], 1).ToString());
        Assert.Equal("0.500 [0.250, 0.750]", new Estimate(0.5, 0.25, 0.75, 1, 1).ToString());
    }

    [Fact]
    public void Intervals_apart_share_no_value()
    {
        Assert.True(new Estimate(0.2, 0.1, 0.3, 1, 1).ApartFrom(new Estimate(0.5, 0.31, 0.6, 1, 1)));
        Assert.False(new Estimate(0.2, 0.1, 0.3, 1, 1).ApartFrom(new Estimate(0.5, 0.3, 0.6, 1, 1)));
    }

    [Fact]
    public void Co_visitors_are_distinct_visitors_who_engaged_with_the_item_and_another_in_one_session()
    {
        (string, IReadOnlyCollection<string>)[] sessions =
        [
            ("v1", ["a", "b"]), ("v2", ["a", "c", "a"]), ("v3", ["a"]), ("v1", ["b", "a"]), ("v4", ["d", "d"]),
        ];
        var coVisitors = FeedbackMetrics.CoVisitors(sessions);
        Assert.Equal(2, coVisitors["a"]);  // v1 (twice), v2; v3 saw only a
        Assert.Equal(1, coVisitors["b"]);
        Assert.Equal(1, coVisitors["c"]);
        Assert.False(coVisitors.ContainsKey("d"));  // one item, twice
    }

    [Fact]
    public void Scores_split_steps_into_warm_and_cold_by_their_query_items_co_visitors()
    {
        var coVisitors = new Dictionary<string, int> { ["warm"] = 3, ["cold"] = 2 };
        var tops = new Dictionary<string, string[]> { ["warm"] = ["x", "y"], ["cold"] = ["p", "q", "r"] };
        IReadOnlyList<(string, string)>[] heldOut = [[("warm", "y"), ("cold", "r")], [("warm", "z"), ("unknown", "x")]];
        var scores = FeedbackEvaluation.Score("test", heldOut, tops, coVisitors, 1);
        Assert.Equal(0.5, scores.WarmRecall.Mean, 12);                    // y found, z not
        Assert.Equal((1 / Math.Log2(3) + 0) / 2, scores.WarmNdcg.Mean, 12); // y at rank 2
        Assert.Equal(0.5, scores.ColdRecall.Mean, 12);                    // r found; "unknown" has no list
        Assert.Equal(0.25, scores.ColdNdcg.Mean, 12);                     // r at rank 3: 1/log2(4) = 0.5, halved
    }

    [Fact]
    public void Event_outcomes_are_counted_and_the_first_rejection_kept()
    {
        using var answer = JsonDocument.Parse("""
            {"results": [{"eventId": "a", "outcome": "stored"}, {"eventId": "b", "outcome": "duplicate"},
                         {"eventId": "c", "outcome": "rejected", "field": "sku", "reason": "too long"}, {"eventId": "d", "outcome": "stored"}]}
            """);
        var outcomes = FeedbackClient.Outcomes(answer.RootElement);
        Assert.Equal((2, 1, 1), (outcomes.Stored, outcomes.Duplicate, outcomes.Rejected));
        Assert.Contains("too long", outcomes.FirstRejection, StringComparison.Ordinal);
    }

    [Fact]
    public void The_win_rate_and_its_interval_are_found_wherever_the_answer_puts_them()
    {
        using var answer = JsonDocument.Parse("""{"name": "aa", "impressions": 10000, "result": {"winRate": 0.49, "winRateInterval": [0.47, 0.51]}}""");
        Assert.Equal(0.49, FeedbackChecks.FindNumber(answer.RootElement, "winRate"));
        Assert.Equal(10000, FeedbackChecks.FindNumber(answer.RootElement, "impressions"));
        Assert.Equal(((double?)0.47, (double?)0.51), FeedbackChecks.Interval(answer.RootElement));
        using var other = JsonDocument.Parse("""{"winRate": 0.5, "interval": {"lower": 0.48, "upper": 0.52}}""");
        Assert.Equal(((double?)0.48, (double?)0.52), FeedbackChecks.Interval(other.RootElement));
    }

    [Fact]
    public async Task The_held_out_steps_file_lists_each_step_with_its_visit_and_its_query_items_co_visitors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"held-out-{Guid.NewGuid():N}.tsv");
        try
        {
            IReadOnlyList<IReadOnlyList<(string, string)>> heldOut = [[("a", "b"), ("b", "c")], [("d", "a")]];
            await FeedbackEvaluation.WriteStepsAsync(path, heldOut, new Dictionary<string, int> { ["a"] = 4, ["b"] = 1 });
            Assert.Equal(["visit\tquery\tnext\tco_visitors", "0\ta\tb\t4", "0\tb\tc\t1", "1\td\ta\t0"], await File.ReadAllLinesAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
