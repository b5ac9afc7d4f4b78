using System.Globalization;

namespace Similarity.Bench;

/// <summary>A mean over held-out steps with its 95% bootstrap interval, and how many sessions and steps it rests on.</summary>
public readonly record struct Estimate(double Mean, double Low, double High, int Sessions, int Steps)
{
    /// <summary>Whether the two intervals share no value.</summary>
    public bool ApartFrom(Estimate other) => High < other.Low || other.High < Low;

    public override string ToString() => Steps == 0 ? "n/a (no steps)"
        : string.Create(CultureInfo.InvariantCulture, $"{Mean:F3} [{Low:F3}, {High:F3}]");
}

/// <summary>
/// The offline measures of <c>bench feedback</c>: next-engagement recall@10 and nDCG@10 of one ranked list (one item
/// engaged next, so the ideal DCG is 1), their mean over held-out steps with a seeded bootstrap over sessions (a
/// visit's steps are resampled together: they are not independent), and the co-visitor count that splits warm items
/// from the cold slice. Pure, so the unit tests check it against hand-computed values.
/// </summary>
public static class FeedbackMetrics
{
    public const int K = 10;
    public const int Resamples = 1000;

    /// <summary>Items with fewer co-visitors than this are the cold slice.</summary>
    public const int WarmCoVisitors = 3;

    /// <summary>1 when <paramref name="next"/> is among the first <paramref name="k"/> of <paramref name="ranked"/>, else 0.</summary>
    public static double Recall(IReadOnlyList<string> ranked, string next, int k = K) => Rank(ranked, next, k) is null ? 0 : 1;

    /// <summary>1 / log2(rank + 1) for <paramref name="next"/> at 1-based rank ≤ <paramref name="k"/>, else 0.</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, string next, int k = K) => Rank(ranked, next, k) is { } rank ? 1 / Math.Log2(rank + 1) : 0;

    static int? Rank(IReadOnlyList<string> ranked, string next, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
            if (string.Equals(ranked[i], next, StringComparison.Ordinal))
                return i + 1;
        return null;
    }

    /// <summary>
    /// The mean of every step's value (sessions of several steps weigh by their steps), and the 2.5th and 97.5th
    /// nearest-rank percentiles of that mean over <paramref name="resamples"/> resamples of whole sessions drawn with
    /// replacement from <paramref name="seed"/>. Sessions with no step are left out.
    /// </summary>
    public static Estimate Bootstrap(IReadOnlyList<IReadOnlyList<double>> sessions, int seed, int resamples = Resamples)
    {
        var kept = sessions.Where(s => s.Count > 0).Select(s => (Sum: s.Sum(), s.Count)).ToArray();
        var steps = kept.Sum(s => s.Count);
        if (steps == 0)
            return new Estimate(double.NaN, double.NaN, double.NaN, 0, 0);
        var mean = kept.Sum(s => s.Sum) / steps;
        var random = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            var (sum, count) = (0.0, 0);
            for (var i = 0; i < kept.Length; i++)
            {
                var drawn = kept[random.Next(kept.Length)];
                (sum, count) = (sum + drawn.Sum, count + drawn.Count);
            }
            means[r] = sum / count;
        }
        return new Estimate(mean, Stats.Percentile(means, 2.5), Stats.Percentile(means, 97.5), kept.Length, steps);
    }

    /// <summary>
    /// Each item's co-visitors: the distinct visitors who engaged with it and with at least one other item in the
    /// same session (the sessions as the bench sent them). An item never engaged that way is absent (0).
    /// </summary>
    public static Dictionary<string, int> CoVisitors(IEnumerable<(string Visitor, IReadOnlyCollection<string> Items)> sessions)
    {
        var visitors = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (visitor, items) in sessions)
        {
            var distinct = items.Distinct(StringComparer.Ordinal).ToArray();
            if (distinct.Length < 2)
                continue;
            foreach (var item in distinct)
            {
                if (!visitors.TryGetValue(item, out var set))
                    visitors[item] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(visitor);
            }
        }
        return visitors.ToDictionary(v => v.Key, v => v.Value.Count, StringComparer.Ordinal);
    }
}
