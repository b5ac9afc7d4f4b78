namespace Similarity.Bench;

/// <summary>A result as a shopper sees it: its SKU and the service's cosines of its picture and text with the query item's.</summary>
public sealed record ShownItem(string Sku, double? ImageScore, double? TextScore);

/// <summary>
/// The shoppers' hidden relevance: how attractive item i is on item q's page. A complement of q attracts with
/// <see cref="ComplementAttraction"/>; any other item with <see cref="Attraction"/> × exp((cos − best) / <see cref="Temperature"/>),
/// where cos is i's picture cosine with q for shoppers who judge by picture (its text cosine for those who judge by
/// words) and best is q's highest such cosine. Where a shopper goes on their own (no list click): to q's complement
/// with <see cref="ComplementIntent"/>, else to one of q's <see cref="Neighbours"/> nearest items by their judgement,
/// drawn in proportion to that attraction. Invariant: the cosines are the service's own per-modality scores, read once.
/// </summary>
public sealed class ShopperTaste(ShopperWorld world)
{
    public const double Attraction = 0.6;
    public const double ComplementAttraction = 0.7;
    public const double Temperature = 0.05;
    public const double ComplementIntent = 0.5;
    public const int Neighbours = 20;

    readonly Dictionary<(string Query, Judgement By), (string Sku, double Cosine)[]> _nearest = [];
    readonly Dictionary<(string Query, string Item, Judgement By), double> _cosines = [];

    public ShopperWorld World => world;

    /// <summary>Records <paramref name="query"/>'s nearest items by one judgement, best first (the query item itself left out).</summary>
    public void SetNearest(string query, Judgement by, IEnumerable<(string Sku, double Cosine)> nearest)
    {
        var kept = nearest.Where(n => !string.Equals(n.Sku, query, StringComparison.Ordinal) && world.Contains(n.Sku))
            .OrderByDescending(n => n.Cosine).ThenBy(n => n.Sku, StringComparer.Ordinal).Take(Neighbours).ToArray();
        _nearest[(query, by)] = kept;
        foreach (var (sku, cosine) in kept)
            _cosines[(query, sku, by)] = cosine;
    }

    /// <summary>Whether <paramref name="query"/>'s nearest items are known for both judgements.</summary>
    public bool Knows(string query) => _nearest.ContainsKey((query, Judgement.Picture)) && _nearest.ContainsKey((query, Judgement.Words));

    /// <summary>
    /// The chance a shopper who judges by <paramref name="by"/> clicks <paramref name="item"/> on <paramref name="query"/>'s
    /// page once they examine it; 0 for a new item before the new items <paramref name="arrived"/>.
    /// </summary>
    public double Relevance(string query, ShownItem item, Judgement by, bool arrived = true)
    {
        if (!arrived && world.IsNew(item.Sku))
            return 0;
        if (string.Equals(world.ComplementOf(query), item.Sku, StringComparison.Ordinal))
            return ComplementAttraction;
        var cosine = (by == Judgement.Picture ? item.ImageScore : item.TextScore)
            ?? (_cosines.TryGetValue((query, item.Sku, by), out var known) ? known : (double?)null);
        if (cosine is not { } c || !_nearest.TryGetValue((query, by), out var nearest) || nearest.Length == 0)
            return 0;
        return Attraction * Math.Exp(Math.Min(0, c - nearest[0].Cosine) / Temperature);
    }

    /// <summary>
    /// Where a shopper who judges by <paramref name="by"/> goes next from <paramref name="query"/> without a list (never to
    /// a new item before they <paramref name="arrived"/>); null when q has no such neighbour.
    /// </summary>
    public string? Intent(string query, Judgement by, Random random, bool arrived = true)
    {
        if (world.ComplementOf(query) is { } complement && random.NextDouble() < ComplementIntent && (arrived || !world.IsNew(complement)))
            return complement;
        if (!_nearest.TryGetValue((query, by), out var nearest) || nearest.Length == 0)
            return null;
        var cumulative = new double[nearest.Length];
        var sum = 0.0;
        for (var i = 0; i < nearest.Length; i++)
            cumulative[i] = sum += Relevance(query, new ShownItem(nearest[i].Sku, nearest[i].Cosine, nearest[i].Cosine), by, arrived);
        return sum > 0 ? nearest[ShopperWorld.Draw(cumulative, random)].Sku : null;
    }
}
