using System.Globalization;

namespace Similarity.Bench;

/// <summary>One blend setting scored in the sweep, with what it did to the pages beside the recall.</summary>
public sealed record SweepRow(string Variant, double Blend, RankerScores Scores, double Entered, double Complements);

/// <summary>
/// <c>bench feedback --sweep</c>: the blend's choices measured for validation, never for a final figure. After the
/// training days, a second service on the same database (port 18102) is started once per co-engagement variant
/// (<see cref="Variants"/>: the score and the event weights), rebuilds the co-engagement from the same events, and every
/// blend weight of <see cref="Blends"/> is scored on the run's held-out days. The events were all collected under the
/// service's default ranker, so a variant is judged on the same logs (an offline replay), not on the lists it would
/// itself have served. Besides recall: how many of a warm page's top 10 the blend brought in from outside the content
/// top 10, and the share of warm query items with a complement (the simulator's hidden structure, read by the bench
/// only) whose complement is in the top 10.
/// </summary>
public static class FeedbackSweep
{
    public static readonly double[] Blends = [2, 3, 5, 7, 10];

    /// <summary>
    /// The variants scored. The first sweep (commit f957865, blends 0.1–5) also had Jaccard, Confidence and both
    /// normalised scores with click 1, cart 5, purchase 8; this one looks past blend 5 for the two best at the
    /// issue's event weights, under the lists the chosen default served.
    /// </summary>
    public static readonly (string Name, Dictionary<string, string> Settings)[] Variants =
    [
        ("ConfidenceByMax", new() { ["Similarity:Feedback:Score"] = "ConfidenceByMax" }),
        ("JaccardByMax", new() { ["Similarity:Feedback:Score"] = "JaccardByMax" }),
    ];

    public static async Task<IReadOnlyList<SweepRow>> RunAsync(BenchPlace place, string connectionString, IReadOnlyDictionary<string, string> settings,
        ShopperWorld world, IReadOnlyList<IReadOnlyList<(string Query, string Next)>> heldOut, IReadOnlyDictionary<string, int> coVisitors,
        IReadOnlyDictionary<string, string[]> content, int seed)
    {
        var rows = new List<SweepRow>();
        var queries = heldOut.SelectMany(v => v).Select(s => s.Query).Distinct(StringComparer.Ordinal).ToArray();
        var warm = queries.Where(q => coVisitors.GetValueOrDefault(q) >= FeedbackMetrics.WarmCoVisitors).ToArray();
        foreach (var (name, variant) in Variants)
        {
            Console.Error.WriteLine($"sweep: {name}");
            var merged = new Dictionary<string, string>(settings);
            foreach (var (key, value) in variant)
                merged[key] = value;
            await using var service = await ServiceProcess.StartAsync(place, connectionString, place.Manifest("clipart"), "http://127.0.0.1:18102",
                "bench-feedback-sweep-api.log", merged);
            using var client = new FeedbackClient(service.Url);
            await client.RebuildAsync();
            foreach (var blend in Blends)
            {
                var tops = await client.TopAsync(queries, blend);
                var label = string.Create(CultureInfo.InvariantCulture, $"{name}, blend {blend}");
                var entered = warm.Average(q => tops.GetValueOrDefault(q, []).Count(s => !content.GetValueOrDefault(q, []).Contains(s, StringComparer.Ordinal)));
                var withComplement = warm.Where(q => world.ComplementOf(q) is not null).ToArray();
                var complements = withComplement.Length == 0 ? 0
                    : withComplement.Count(q => tops.GetValueOrDefault(q, []).Contains(world.ComplementOf(q)!, StringComparer.Ordinal)) / (double)withComplement.Length;
                rows.Add(new SweepRow(name, blend, FeedbackEvaluation.Score(label, heldOut, tops, coVisitors, seed), entered, complements));
            }
        }
        return rows;
    }

    /// <summary>The sweep's table, with the content-only recall it is compared with.</summary>
    public static string Write(IReadOnlyList<SweepRow> rows, RankerScores content, IReadOnlyDictionary<string, string[]> contentTops,
        ShopperWorld world, IReadOnlyDictionary<string, int> coVisitors)
    {
        var warm = contentTops.Keys.Where(q => coVisitors.GetValueOrDefault(q) >= FeedbackMetrics.WarmCoVisitors && world.ComplementOf(q) is not null).ToArray();
        var contentComplements = warm.Length == 0 ? 0 : warm.Count(q => contentTops[q].Contains(world.ComplementOf(q)!, StringComparer.Ordinal)) / (double)warm.Length;
        var table = new Markdown("variant", "blend", "warm recall@10", "× content", "warm nDCG@10", "cold recall@10", "entered top 10", "complement in top 10");
        table.Add("content only", "0", content.WarmRecall.ToString(), "1.00", content.WarmNdcg.ToString(), content.ColdRecall.ToString(), "0.00", Stats.F(contentComplements, "F3"));
        foreach (var r in rows)
            table.Add(r.Variant, Stats.F(r.Blend, "G"), r.Scores.WarmRecall.ToString(), Stats.Ratio(r.Scores.WarmRecall.Mean, content.WarmRecall.Mean),
                r.Scores.WarmNdcg.ToString(), r.Scores.ColdRecall.ToString(), Stats.F(r.Entered, "F2"), Stats.F(r.Complements, "F3"));
        return $"Validation sweep (an offline replay of the training events under each variant; for choices only):\n\n{table}";
    }
}
