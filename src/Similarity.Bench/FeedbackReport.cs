using System.Globalization;

namespace Similarity.Bench;

/// <summary>Everything <c>bench feedback</c> measured, for its tables.</summary>
public sealed record FeedbackFigures(
    string Setup, TrainingLog Training, int HeldOutVisits, int HeldOutSteps, IReadOnlyList<RankerScores> Rankers,
    IReadOnlyDictionary<int, (double Propensity, int Clicks)> Propensities, AaOutcome? Aa, Freshness? Freshness, string? TuneNote);

/// <summary>The markdown tables of <c>bench feedback</c>, as the other benchmarks print them.</summary>
public static class FeedbackReport
{
    public static string Write(FeedbackFigures f)
    {
        var text = new System.Text.StringBuilder();
        text.Append(f.Setup).Append("\n\n");
        var o = f.Training.Outcomes;
        text.Append(string.Create(CultureInfo.InvariantCulture,
            $"Training: {f.Training.Visits.Count} visits, {f.Training.Served} lists served, {f.Training.Events} events sent ({o.Stored} stored, {o.Duplicate} duplicate, {o.Rejected} rejected). "))
            .Append(string.Create(CultureInfo.InvariantCulture, $"Held out: {f.HeldOutVisits} visits, {f.HeldOutSteps} (query, next) steps.\n\n"));

        var table = new Markdown("ranker", "warm recall@10", "warm nDCG@10", "cold recall@10", "cold nDCG@10");
        foreach (var r in f.Rankers)
            table.Add(r.Ranker, r.WarmRecall.ToString(), r.WarmNdcg.ToString(), r.ColdRecall.ToString(), r.ColdNdcg.ToString());
        text.Append(table).Append('\n');
        if (f.Rankers.FirstOrDefault(r => r.Ranker.StartsWith("content", StringComparison.Ordinal)) is { } content)
            foreach (var r in f.Rankers.Where(r => r != content))
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Ranker} vs content only: warm recall ×{(r.WarmRecall.Steps > 0 && content.WarmRecall.Mean > 0 ? Stats.Ratio(r.WarmRecall.Mean, content.WarmRecall.Mean) : "n/a")} (intervals {(r.WarmRecall.ApartFrom(content.WarmRecall) ? "apart" : "overlap")}), " +
                    $"cold recall {r.ColdRecall.Mean - content.ColdRecall.Mean:+0.000;-0.000;0.000}\n"));
        text.Append('\n');

        var propensities = new Markdown("position", "true (1/p^0.8)", "estimated", "estimated / true", "swapped clicks");
        for (var p = 1; p <= FeedbackMetrics.K; p++)
        {
            var truth = ShopperWorld.Examination(p);
            propensities.Add(p.ToString(CultureInfo.InvariantCulture), Stats.F(truth, "F3"),
                f.Propensities.TryGetValue(p, out var e) ? Stats.F(e.Propensity, "F3") : "—",
                f.Propensities.TryGetValue(p, out e) ? Stats.F(e.Propensity / truth, "F2") : "—",
                f.Propensities.TryGetValue(p, out e) ? e.Clicks.ToString(CultureInfo.InvariantCulture) : "—");
        }
        text.Append(propensities).Append('\n');

        var checks = new Markdown("check", "value");
        var anyCheck = f.Aa is not null || f.Freshness is not null || f.TuneNote is not null;
        if (f.Aa is { } aa)
            checks.Add($"A/A interleaving, {aa.Sessions} visits ({aa.Clicks} clicks): treatment win rate",
                aa.WinRate is { } w ? $"{Stats.F(w, "F3")}{(aa.Low is { } l && aa.High is { } h ? $" [{Stats.F(l, "F3")}, {Stats.F(h, "F3")}]" : "")}" : $"not in the answer: {aa.Raw}");
        if (f.Freshness is { } fresh)
        {
            checks.Add($"fresh pair, {fresh.Visitors} visitors' burst: events sent → rebuild done", $"{Stats.F(fresh.RebuildSeconds, "F2")} s");
            checks.Add("… → the pair in GET /co-engaged", fresh.CoEngagedSeconds is { } c ? $"{Stats.F(c, "F2")} s" : $"not within {FeedbackChecks.AnswerLimit.TotalSeconds:F0} s");
            checks.Add("… → the pair in /similar's top 10 (default blend)", fresh.SimilarSeconds is { } s ? $"{Stats.F(s, "F2")} s" : $"not within {FeedbackChecks.AnswerLimit.TotalSeconds:F0} s");
        }
        if (f.TuneNote is { } tune)
            checks.Add("tuned fusion", tune);
        if (anyCheck)
            text.Append(checks);
        return text.ToString();
    }
}
