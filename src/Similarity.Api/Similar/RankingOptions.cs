namespace Similarity.Similar;

/// <summary>
/// How a page's results are chosen from the nearest candidates: <c>diversity</c> (maximal marginal relevance, 0 = by
/// score alone, 1 = by novelty alone), caps per category and per brand (crowding), and a boost added to the score of
/// available items. <see cref="None"/> keeps the plain nearest-first order.
/// </summary>
public sealed record RankingOptions(double Diversity = 0, int? MaxPerCategory = null, int? MaxPerBrand = null, double BoostAvailable = 0)
{
    public static readonly RankingOptions None = new();

    /// <summary>Whether the results can differ from the first k candidates by score.</summary>
    public bool ReRanks => Diversity > 0 || MaxPerCategory is not null || MaxPerBrand is not null || BoostAvailable > 0;

    /// <summary>Whether candidates need their fused vectors (for the similarity between results that diversity weighs).</summary>
    public bool NeedsVectors => Diversity > 0;
}
