using System.Text.RegularExpressions;

namespace Similarity.Insight;

/// <summary>
/// A cluster's label: the words over-represented in its items' texts. A word's weight in a cluster is
/// p·ln(p/q), p the share of the cluster's items that use it and q the share of the whole catalog's (one term of the
/// KL divergence of the cluster from the catalog); a word must be used by two of the cluster's items (or its only
/// one) and be more common there than overall. Pure: same texts, same labels.
/// </summary>
public static partial class ClusterLabels
{
    static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "with", "from", "this", "that", "are", "was", "its", "into", "over", "under", "your", "our",
        "you", "not", "but", "all", "any", "can", "has", "have", "one", "two", "new", "set", "per", "of", "in", "on", "to",
    };

    [GeneratedRegex(@"\p{L}[\p{L}\p{N}]+")]
    private static partial Regex Word();

    /// <summary>The distinct words of a text, lower-cased, stop words and one-letter words left out.</summary>
    public static HashSet<string> WordsOf(string? text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(text))
            return words;
        foreach (Match match in Word().Matches(text))
        {
            var word = match.Value.ToLowerInvariant();
            if (word.Length >= 3 && !StopWords.Contains(word))
                words.Add(word);
        }
        return words;
    }

    /// <summary>For each cluster, at most <paramref name="count"/> words, most telling first (ties in word order).</summary>
    public static List<string[]> Label(IReadOnlyList<HashSet<string>> itemWords, int[] assignment, int clusters, int count = 3)
    {
        var overall = new Dictionary<string, int>(StringComparer.Ordinal);
        var inCluster = new Dictionary<string, int>[clusters];
        var sizes = new int[clusters];
        for (var c = 0; c < clusters; c++)
            inCluster[c] = new(StringComparer.Ordinal);
        for (var i = 0; i < itemWords.Count; i++)
        {
            sizes[assignment[i]]++;
            foreach (var word in itemWords[i])
            {
                overall[word] = overall.GetValueOrDefault(word) + 1;
                inCluster[assignment[i]][word] = inCluster[assignment[i]].GetValueOrDefault(word) + 1;
            }
        }
        var labels = new List<string[]>();
        for (var c = 0; c < clusters; c++)
        {
            var size = sizes[c];
            labels.Add([.. inCluster[c]
                .Where(w => w.Value >= Math.Min(2, size))
                .Select(w => (Word: w.Key, P: (double)w.Value / size, Q: (double)overall[w.Key] / itemWords.Count))
                .Where(w => w.P > w.Q)
                .OrderByDescending(w => w.P * Math.Log(w.P / w.Q)).ThenBy(w => w.Word, StringComparer.Ordinal)
                .Take(count).Select(w => w.Word)]);
        }
        return labels;
    }
}
