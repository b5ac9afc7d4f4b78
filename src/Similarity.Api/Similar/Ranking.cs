namespace Similarity.Similar;

/// <summary>A candidate result with its fused vector, when the ranking needs it.</summary>
public sealed record Candidate(SimilarResult Result, float[]? Vector);

/// <summary>A result an admin pinned at a 1-based position of the page.</summary>
public sealed record Pin(SimilarResult Result, int Position);

/// <summary>
/// Chooses a page's k results from candidates sorted by their ranking score: pure logic, so the tests can hold it to
/// a computation of their own. Written here because no library ranks by MMR with crowding over pgvector results.
/// </summary>
public static class Ranking
{
    /// <summary>
    /// The score results are ordered by: the hybrid score of a hybrid or lexical search, else the weighted score when
    /// re-weighted, else the fused cosine; plus the availability boost.
    /// </summary>
    public static double Relevance(SimilarResult result, RankingOptions ranking) =>
        (result.HybridScore ?? result.WeightedScore ?? result.Score) + (result.Available ? ranking.BoostAvailable : 0);

    /// <summary>
    /// Picks up to <paramref name="k"/> results: from <paramref name="candidates"/> greedily by
    /// (1 − diversity) × relevance − diversity × (highest cosine to a result already picked), skipping any that
    /// would pass a category or brand cap; then, while short of k, from <paramref name="fallback"/> by relevance under
    /// the same caps (marked <c>fallback</c>); then the pins at their positions (marked <c>pinned</c>; they count
    /// against no cap and push the last results out).
    /// </summary>
    public static List<SimilarResult> Select(IReadOnlyList<Candidate> candidates, IReadOnlyList<Candidate> fallback, IReadOnlyList<Pin> pins,
        int k, RankingOptions ranking)
    {
        var pinned = pins.Select(p => p.Result.Sku).ToHashSet(StringComparer.Ordinal);
        var picked = new List<Candidate>();
        var perCategory = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var perBrand = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var room = k - Math.Min(pins.Count, k);

        bool Fits(SimilarResult r) =>
            !pinned.Contains(r.Sku)
            && (ranking.MaxPerCategory is not { } maxCategory || r.Category is null || perCategory.GetValueOrDefault(r.Category) < maxCategory)
            && (ranking.MaxPerBrand is not { } maxBrand || r.Brand is null || perBrand.GetValueOrDefault(r.Brand) < maxBrand);

        void Take(Candidate c)
        {
            picked.Add(c);
            if (c.Result.Category is { } category) perCategory[category] = perCategory.GetValueOrDefault(category) + 1;
            if (c.Result.Brand is { } brand) perBrand[brand] = perBrand.GetValueOrDefault(brand) + 1;
        }

        var pool = candidates.OrderByDescending(c => Relevance(c.Result, ranking)).ThenBy(c => c.Result.Sku, StringComparer.Ordinal).ToList();
        while (picked.Count < room)
        {
            Candidate? best = null;
            var bestValue = double.NegativeInfinity;
            foreach (var c in pool)
            {
                if (!Fits(c.Result))
                    continue;
                var value = ranking.Diversity > 0
                    ? (1 - ranking.Diversity) * Relevance(c.Result, ranking) - ranking.Diversity * MaxCosine(c, picked)
                    : Relevance(c.Result, ranking);
                if (value > bestValue)
                    (best, bestValue) = (c, value);
                if (ranking.Diversity == 0)
                    break; // the pool is in relevance order: the first that fits is the best
            }
            if (best is null)
                break;
            Take(best);
            pool.Remove(best);
        }

        var taken = picked.Select(c => c.Result.Sku).ToHashSet(StringComparer.Ordinal);
        var results = picked.Select(c => c.Result).ToList();
        foreach (var c in fallback.OrderByDescending(c => Relevance(c.Result, ranking)).ThenBy(c => c.Result.Sku, StringComparer.Ordinal))
        {
            if (results.Count >= room)
                break;
            if (taken.Contains(c.Result.Sku) || !Fits(c.Result))
                continue;
            Take(c);
            taken.Add(c.Result.Sku);
            results.Add(c.Result with { Fallback = true });
        }

        foreach (var pin in pins.OrderBy(p => p.Position).ThenBy(p => p.Result.Sku, StringComparer.Ordinal).Take(k))
            results.Insert(Math.Min(pin.Position - 1, results.Count), pin.Result with { Pinned = true });
        return results;
    }

    static double MaxCosine(Candidate c, List<Candidate> picked)
    {
        var max = double.NegativeInfinity;
        foreach (var p in picked)
            max = Math.Max(max, Cosine(c.Vector!, p.Vector!));
        return picked.Count == 0 ? 0 : max;
    }

    static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
