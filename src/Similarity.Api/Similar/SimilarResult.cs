using System.Text.Json;
using System.Text.Json.Serialization;

namespace Similarity.Similar;

/// <summary>
/// One similar item, shaped for a product page: what a storefront shows of it (title, brand, price and currency,
/// availability, its picture's URL) and how alike it is — fused, image and text cosines and, when re-weighted, the
/// weighted score; <c>hasImage</c>: whether the service keeps a picture of it (<c>GET /items/{sku}/image</c>).
/// Description and attributes only when asked for (<c>fields=</c>). <c>pinned</c>: placed by an admin's rule;
/// <c>fallback</c>: from the query item's category, filling a page that the filters left short. <c>reasons</c>: only in
/// a blended answer (blend above 0), the parts of <c>score</c>: content and co-engagement. A hybrid or lexical search adds
/// its parts (absent otherwise): <c>hybridScore</c> (what ordered it), <c>vectorScore</c> and <c>vectorRank</c>,
/// <c>lexicalScore</c> and <c>lexicalRank</c>, and the query words it <c>matched</c>.
/// </summary>
public sealed record SimilarResult(
    string Sku, string Title, string? Category, string? Brand, decimal? Price, string? Currency, bool Available, string? ImageUrl,
    bool HasImage, double Score, double? ImageScore, double? TextScore, double? WeightedScore,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Attributes = null,
    bool Pinned = false, bool Fallback = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? HybridScore = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? VectorScore = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? VectorRank = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LexicalScore = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LexicalRank = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Matched = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ScoreReasons? Reasons = null);

/// <summary>
/// Why a blended result is where it is: <see cref="Content"/>, its content score (the fused cosine, or the weighted
/// one when re-weighted), and <see cref="CoEngaged"/>, blend × its co-engagement with the query item (absent when 0).
/// Their sum is the result's ranking score.
/// </summary>
public sealed record ScoreReasons(double Content,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? CoEngaged);

/// <summary>
/// A page of an index search and how far it reached: <see cref="Exhausted"/>, shorter than k because nothing more passes
/// the filters, caps and rules; <see cref="StoppedEarly"/>, shorter than k because the search reached its bound on the work
/// (<c>Similarity:Search:MaxCandidates</c>) first, so deeper items might have filled it.
/// </summary>
public sealed class ResultPage(IList<SimilarResult> results, bool Exhausted, bool StoppedEarly) : System.Collections.ObjectModel.ReadOnlyCollection<SimilarResult>(results)
{
    public bool Exhausted { get; } = Exhausted;

    public bool StoppedEarly { get; } = StoppedEarly;
}

/// <summary>Whether a query item can be searched: it exists, and its vectors are of the live model set.</summary>
public enum QueryItemState
{
    /// <summary>An item of the live model set.</summary>
    Current,
    /// <summary>No item has the SKU.</summary>
    Missing,
    /// <summary>The item's vectors are of another model set: its cosines would compare two spaces.</summary>
    OtherModelSet,
}

/// <summary>The catalog revision and the query item's state, read in one round trip.</summary>
public sealed record QueryItem(long Revision, QueryItemState State);

/// <summary>One SKU's answer in a batch: its results, or (<see cref="State"/> not current) why there are none.</summary>
public sealed record BatchAnswer(string Sku, QueryItemState State, IReadOnlyList<SimilarResult> Results);

/// <summary>Where a page's results came from, as the API's <c>source</c> says it.</summary>
public static class ResultSource
{
    /// <summary>The query item's neighbour list.</summary>
    public const string NeighbourList = "precomputed";

    /// <summary>An index search (or an exact scan while the index is built): the API's old word "live".</summary>
    public const string IndexSearch = "live";

    /// <summary>The vector and lexical lists, fused (<c>mode=hybrid</c>).</summary>
    public const string Hybrid = "hybrid";

    /// <summary>The lexical index alone (<c>mode=lexical</c>).</summary>
    public const string Lexical = "lexical";
}
