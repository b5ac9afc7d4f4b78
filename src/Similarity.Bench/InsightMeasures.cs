using System.Text.RegularExpressions;
using Similarity.Insight;

namespace Similarity.Bench;

/// <summary>
/// The figures of <c>bench insight</c>, as plain functions: ROC AUC, precision at the top, normalised mutual
/// information, a bootstrap interval, and the lexical baseline's clusters (spherical k-means over TF-IDF, the
/// service's own k-means code on the words instead of the vectors).
/// </summary>
public static partial class InsightMeasures
{
    /// <summary>The chance that a random positive scores above a random negative (ties count half); Mann–Whitney.</summary>
    public static double RocAuc(IReadOnlyList<(double Score, bool Positive)> scored)
    {
        var ranked = scored.OrderBy(s => s.Score).ToList();
        double rankSum = 0;
        for (var i = 0; i < ranked.Count;)
        {
            var j = i;
            while (j < ranked.Count && ranked[j].Score == ranked[i].Score)
                j++;
            var averageRank = (i + 1 + j) / 2.0; // ranks i+1..j share their mean
            rankSum += averageRank * ranked.Skip(i).Take(j - i).Count(s => s.Positive);
            i = j;
        }
        var positives = ranked.Count(s => s.Positive);
        var negatives = ranked.Count - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>The share of positives among the <paramref name="share"/> highest scores.</summary>
    public static double PrecisionAtTop(IReadOnlyList<(double Score, bool Positive)> scored, double share)
    {
        var top = Math.Max(1, (int)Math.Round(scored.Count * share));
        return scored.OrderByDescending(s => s.Score).Take(top).Count(s => s.Positive) / (double)top;
    }

    /// <summary>Normalised mutual information of two labelings (arithmetic mean of the entropies, as scikit-learn's default).</summary>
    public static double Nmi(IReadOnlyList<string> truth, IReadOnlyList<int> found)
    {
        var n = (double)truth.Count;
        var joint = truth.Zip(found).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        var a = truth.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        var b = found.GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());
        var mutual = joint.Sum(e => e.Value / n * Math.Log(e.Value * n / ((double)a[e.Key.First] * b[e.Key.Second])));
        double Entropy(IEnumerable<int> counts) => -counts.Sum(c => c / n * Math.Log(c / n));
        var mean = (Entropy(a.Values) + Entropy(b.Values)) / 2;
        return mean == 0 ? 1 : mutual / mean;
    }

    /// <summary>The 2.5th and 97.5th percentiles of a statistic over <paramref name="rounds"/> resamples (with replacement) of the indices.</summary>
    public static (double Low, double High) Bootstrap(int count, Func<int[], double> statistic, int rounds = 200, int seed = 7)
    {
        var values = Resamples(count, rounds, seed).Select(statistic).ToList();
        return (Stats.Percentile(values, 2.5), Stats.Percentile(values, 97.5));
    }

    /// <summary>
    /// Two methods' statistic on the same resamples: each one's 95% interval and that of their difference
    /// (<paramref name="a"/> − <paramref name="b"/>, each resample scored by both), which is what says whether a beats b;
    /// two separate intervals that overlap do not say it either way.
    /// </summary>
    public static (double Low, double High) PairedDifference(int count, Func<int[], double> a, Func<int[], double> b, int rounds = 1000, int seed = 7)
    {
        var differences = Resamples(count, rounds, seed).Select(sample => a(sample) - b(sample)).ToList();
        return (Stats.Percentile(differences, 2.5), Stats.Percentile(differences, 97.5));
    }

    /// <summary><paramref name="rounds"/> resamples of <paramref name="count"/> indices, drawn with replacement from a seeded random.</summary>
    static IEnumerable<int[]> Resamples(int count, int rounds, int seed)
    {
        var random = new Random(seed);
        for (var r = 0; r < rounds; r++)
        {
            var sample = new int[count];
            for (var i = 0; i < count; i++)
                sample[i] = random.Next(count);
            yield return sample;
        }
    }

    [GeneratedRegex(@"\p{L}[\p{L}\p{N}]+")]
    private static partial Regex Word();

    /// <summary>k clusters of the texts by spherical k-means over their TF-IDF vectors (smoothed idf, unit length).</summary>
    public static int[] TfIdfClusters(IReadOnlyList<string> texts, int k, int seed)
    {
        var documents = texts.Select(t => Word().Matches(t.ToLowerInvariant()).Select(m => m.Value).ToList()).ToList();
        var vocabulary = documents.SelectMany(d => d.Distinct()).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var index = vocabulary.Keys.Order(StringComparer.Ordinal).Select((w, i) => (w, i)).ToDictionary(e => e.w, e => e.i);
        var points = documents.Select(d =>
        {
            var v = new float[index.Count];
            foreach (var g in d.GroupBy(w => w))
                v[index[g.Key]] = (float)(g.Count() * (Math.Log((1.0 + documents.Count) / (1.0 + vocabulary[g.Key])) + 1));
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            if (norm > 0)
                for (var i = 0; i < v.Length; i++)
                    v[i] /= norm;
            else
                v[0] = 1; // an empty text: one arbitrary direction, all such together
            return v;
        }).ToList();
        return SphericalKMeans.Run(points, Math.Min(k, points.Count), seed).Assignment;
    }
}
