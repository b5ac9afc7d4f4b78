namespace Similarity.Similar;

/// <summary>
/// Reciprocal rank fusion of the vector and lexical lists: each candidate scores
/// (1 − w) / (60 + vector rank) + w / (60 + lexical rank), a list it is absent from adding nothing (w: the lexical
/// weight; ranks from 1). Ranks, not scores, are fused, so a cosine and a ts_rank need no common scale. Pure.
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
        IReadOnlyDictionary<string, Candidate> rows, HybridChoice choice)
    {
        var vectorRank = Ranks(vectorOrder);
        var lexicalRank = Ranks(lexicalOrder);
        var weight = choice.Mode == RetrievalMode.Lexical ? 1 : choice.LexicalWeight;
        var skus = choice.Mode == RetrievalMode.Lexical ? lexicalOrder : vectorOrder.Concat(lexicalOrder).Distinct(StringComparer.Ordinal);
        var fused = new List<Candidate>();
        foreach (var sku in skus)
        {
            if (!rows.TryGetValue(sku, out var row))
                continue;
            int? v = vectorRank.TryGetValue(sku, out var vr) ? vr : null, l = lexicalRank.TryGetValue(sku, out var lr) ? lr : null;
            var score = Contribution(1 - weight, v) + Contribution(weight, l);
            fused.Add(row with { Result = row.Result with
            {
                HybridScore = score,
                VectorScore = row.Result.WeightedScore ?? row.Result.Score,
                VectorRank = v,
                LexicalRank = l,
            } });
        }
        fused.Sort((a, b) => b.Result.HybridScore!.Value.CompareTo(a.Result.HybridScore!.Value) is var c and not 0 ? c : string.CompareOrdinal(a.Result.Sku, b.Result.Sku));
        return fused;
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
