namespace Similarity.Bench;

/// <summary>One ranker's next-engagement recall@10 and nDCG@10 on warm query items and on the cold slice.</summary>
public sealed record RankerScores(string Ranker, Estimate WarmRecall, Estimate WarmNdcg, Estimate ColdRecall, Estimate ColdNdcg);

/// <summary>
/// The held-out days of <c>bench feedback</c>, used for no choice: days D+1..D+<see cref="HeldOutDays"/>, the same
/// shoppers visiting with the same rates, but no list is served and no event sent — each shopper moves from page to
/// page by their hidden intent alone, so the item engaged next does not depend on any ranker. Every ranker is then
/// asked for each query item's top 10 (POST /similar/batch) and scored on the (query, next) steps; a step is warm when
/// its query item had at least <see cref="FeedbackMetrics.WarmCoVisitors"/> co-visitors in training, cold otherwise.
/// </summary>
public static class FeedbackEvaluation
{
    public const int HeldOutDays = 3;

    /// <summary>The held-out visits, each its (query, next) steps in order. Pure and seeded by the world.</summary>
    public static IReadOnlyList<IReadOnlyList<(string Query, string Next)>> HeldOut(ShopperTaste taste, int trainingDays)
    {
        var world = taste.World;
        var visits = new List<IReadOnlyList<(string, string)>>();
        for (var day = trainingDays + 1; day <= trainingDays + HeldOutDays; day++)
            foreach (var shopper in world.Shoppers)
            {
                var random = new Random(ShopperSession.SeedOf(world.Seed, day, shopper.Id));
                if (random.NextDouble() >= shopper.VisitRate)
                    continue;
                var session = ShopperSession.Start(taste, shopper, random);
                while (session.Current is not null)
                    session.Wander();
                var steps = session.Steps.Where(s => s.Next is not null).Select(s => (s.Query, s.Next!)).ToArray();
                if (steps.Length > 0)
                    visits.Add(steps);
            }
        return visits;
    }

    /// <summary>
    /// The held-out steps as a table (visit, query, next, the query's co-visitors in training), so a fusion variant can
    /// be scored offline on the same steps as the service's rankers (models/train/tune_eval.py). Only what the
    /// rankers are scored on: no hidden structure of the world.
    /// </summary>
    public static async Task WriteStepsAsync(string path, IReadOnlyList<IReadOnlyList<(string Query, string Next)>> heldOut, IReadOnlyDictionary<string, int> coVisitors)
    {
        var lines = new List<string> { "visit\tquery\tnext\tco_visitors" };
        for (var v = 0; v < heldOut.Count; v++)
            lines.AddRange(heldOut[v].Select(s => $"{v}\t{s.Query}\t{s.Next}\t{coVisitors.GetValueOrDefault(s.Query)}"));
        await File.WriteAllLinesAsync(path, lines);
    }

    /// <summary>Asks the service for the ranker's top 10 of every held-out query item, then scores them.</summary>
    public static async Task<RankerScores> ScoreAsync(FeedbackClient client, string ranker, double? blend,
        IReadOnlyList<IReadOnlyList<(string Query, string Next)>> heldOut, IReadOnlyDictionary<string, int> coVisitors, int seed)
    {
        var queries = heldOut.SelectMany(v => v).Select(s => s.Query).Distinct(StringComparer.Ordinal).ToArray();
        return Score(ranker, heldOut, await client.TopAsync(queries, blend), coVisitors, seed);
    }

    /// <summary>
    /// The scores of ranked lists <paramref name="tops"/> (query → SKUs, best first) on the held-out steps; the
    /// bootstrap's seed is the same for every ranker, so all are resampled alike. Pure.
    /// </summary>
    public static RankerScores Score(string ranker, IReadOnlyList<IReadOnlyList<(string Query, string Next)>> heldOut,
        IReadOnlyDictionary<string, string[]> tops, IReadOnlyDictionary<string, int> coVisitors, int seed)
    {
        var slices = new Dictionary<(bool Warm, bool Recall), List<IReadOnlyList<double>>>();
        foreach (var warm in new[] { true, false })
            foreach (var recall in new[] { true, false })
                slices[(warm, recall)] = [];
        foreach (var visit in heldOut)
            foreach (var warm in new[] { true, false })
            {
                var steps = visit.Where(s => coVisitors.GetValueOrDefault(s.Query) >= FeedbackMetrics.WarmCoVisitors == warm).ToArray();
                var ranked = steps.Select(s => tops.GetValueOrDefault(s.Query) ?? []).ToArray();
                slices[(warm, true)].Add([.. steps.Select((s, i) => FeedbackMetrics.Recall(ranked[i], s.Next))]);
                slices[(warm, false)].Add([.. steps.Select((s, i) => FeedbackMetrics.Ndcg(ranked[i], s.Next))]);
            }
        Estimate Of(bool warm, bool recall) => FeedbackMetrics.Bootstrap(slices[(warm, recall)], seed);
        return new RankerScores(ranker, Of(true, true), Of(true, false), Of(false, true), Of(false, false));
    }
}
