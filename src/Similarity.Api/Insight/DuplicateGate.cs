namespace Similarity.Insight;

/// <summary>
/// What a pair near-identical by fused vectors also needs where both items have a picture: image vectors at least
/// <see cref="MinImageScore"/> alike (0: no such condition), and picture sketches matching at least
/// <see cref="MinPictureMatch"/> (<see cref="PictureSketch.Match"/>; 0: no such condition; a pair without both sketches
/// passes it). One condition for <c>/duplicates</c> and the import checks, so both call the same pairs duplicates.
/// </summary>
public sealed record DuplicateGate(double MinImageScore, double MinPictureMatch)
{
    /// <summary>No condition beyond the score: by image or by text one vector decides alone.</summary>
    public static readonly DuplicateGate None = new(0, 0);

    public static DuplicateGate From(InsightOptions options) => new(options.DuplicateMinImageScore, options.DuplicateMinPictureMatch);

    public bool NeedsSketches => MinPictureMatch > 0;

    /// <summary>Whether two items' sketches (null where an item has none) let their pair pass.</summary>
    public bool Passes(byte[]? a, byte[]? b) => MinPictureMatch <= 0 || a is null || b is null || PictureSketch.Matches(a, b, MinPictureMatch);

    /// <summary>The pairs of <paramref name="pairs"/> that pass, given the sketches by SKU; order kept.</summary>
    public List<T> Keep<T>(IReadOnlyList<T> pairs, Func<T, (string Sku, string OtherSku)> skus, IReadOnlyDictionary<string, byte[]> sketches)
    {
        if (!NeedsSketches)
            return [.. pairs];
        // A pair listed from both sides is compared once.
        var keys = pairs.Select(p => skus(p)).Select(k => string.CompareOrdinal(k.Sku, k.OtherSku) <= 0 ? k : (k.OtherSku, k.Sku)).ToList();
        var unique = keys.Distinct().ToList();
        var passes = new bool[unique.Count];
        Parallel.For(0, unique.Count, i => passes[i] = Passes(sketches.GetValueOrDefault(unique[i].Item1), sketches.GetValueOrDefault(unique[i].Item2)));
        var passing = unique.Where((_, i) => passes[i]).ToHashSet();
        return [.. pairs.Where((_, i) => passing.Contains(keys[i]))];
    }
}
