namespace Similarity.Similar;

/// <summary>How the vector and lexical lists are fused: by their ranks (RRF) or by their scores, each rescaled to 0–1 (convex).</summary>
public enum FusionMethod { Rrf, Convex }

/// <summary>
/// The fusion of the vector and lexical lists. Reciprocal rank fusion: each candidate scores
/// (1 − w) / (60 + vector rank) + w / (60 + lexical rank), a list it is absent from adding nothing (w: the lexical
/// weight; ranks from 1); ranks, not scores, are fused, so a cosine and a lexical score need no common scale. Convex
/// combination: (1 − w) · v + w · l, where v and l are the candidate's vector and lexical scores min–max rescaled over
/// all candidates of either list (every candidate carries both scores; the lowest becomes 0, the highest 1). Pure.
/// </summary>
public static class HybridFusion
{
    /// <summary>RRF's constant: Cormack, Clarke and Büttcher's 60, which damps the head of each list.</summary>
    public const int RrfK = 60;

    /// <summary>
    /// The candidates in fused order (best first, then by SKU), each result carrying its parts. <paramref name="rows"/>
    /// holds every candidate of either list by SKU; <see cref="RetrievalMode.Lexical"/> keeps the lexical list's alone.
    /// </summary>
    public static List<Candidate> Fuse(IReadOnlyList<string> vectorOrder, IReadOnlyList<string> lexicalOrder,
        IReadOnlyDictionary<string, Candidate> rows, HybridChoice choice, FusionMethod method = FusionMethod.Rrf)
    {
        var vectorRank = Ranks(vectorOrder);
        var lexicalRank = Ranks(lexicalOrder);
        var weight = choice.Mode == RetrievalMode.Lexical ? 1 : choice.LexicalWeight;
        var skus = (choice.Mode == RetrievalMode.Lexical ? lexicalOrder : vectorOrder.Concat(lexicalOrder).Distinct(StringComparer.Ordinal))
            .Where(rows.ContainsKey).ToList();
        var vectorScale = Scale(skus.Select(s => VectorScoreOf(rows[s])));
        var lexicalScale = Scale(skus.Select(s => rows[s].Result.LexicalScore ?? 0));
        var fused = new List<Candidate>();
        foreach (var sku in skus)
        {
            var row = rows[sku];
            int? v = vectorRank.TryGetValue(sku, out var vr) ? vr : null, l = lexicalRank.TryGetValue(sku, out var lr) ? lr : null;
            var score = method == FusionMethod.Rrf
                ? Contribution(1 - weight, v) + Contribution(weight, l)
                : (1 - weight) * vectorScale(VectorScoreOf(row)) + weight * lexicalScale(row.Result.LexicalScore ?? 0);
            fused.Add(row with { Result = row.Result with
            {
                HybridScore = score,
                VectorScore = VectorScoreOf(row),
                VectorRank = v,
                LexicalRank = l,
            } });
        }
        fused.Sort((a, b) => b.Result.HybridScore!.Value.CompareTo(a.Result.HybridScore!.Value) is var c and not 0 ? c : string.CompareOrdinal(a.Result.Sku, b.Result.Sku));
        return fused;
    }

    static double VectorScoreOf(Candidate row) => row.Result.WeightedScore ?? row.Result.Score;

    /// <summary>Min–max rescaling to 0–1 over <paramref name="values"/>; all equal (or none) map to 0.</summary>
    static Func<double, double> Scale(IEnumerable<double> values)
    {
        var (low, high) = (double.PositiveInfinity, double.NegativeInfinity);
        foreach (var value in values)
            (low, high) = (Math.Min(low, value), Math.Max(high, value));
        return high > low ? x => (x - low) / (high - low) : _ => 0;
    }

    static double Contribution(double weight, int? rank) => rank is { } r ? weight / (RrfK + r) : 0;

    static Dictionary<string, int> Ranks(IReadOnlyList<string> order)
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++)
            ranks.TryAdd(order[i], i + 1);
        return ranks;
    }
}
