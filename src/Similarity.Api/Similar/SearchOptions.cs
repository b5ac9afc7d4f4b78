using System.ComponentModel.DataAnnotations;

namespace Similarity.Similar;

/// <summary><c>Similarity:Search</c>: how /similar searches the index and how long the neighbour lists are.</summary>
public sealed class SearchOptions
{
    public const string Section = "Similarity:Search";

    /// <summary>HNSW search breadth (<c>hnsw.ef_search</c>); raised per query to at least the candidates fetched.</summary>
    [Range(1, 1000)] public int EfSearch { get; set; } = 100;

    /// <summary>
    /// Candidates fetched per result wanted, then re-ranked by exact float32 cosine: 2, since more added no recall@10 over
    /// the halfvec index, and fewer lets halfvec's rounding drop a near-tie at the k-th place (docs/benchmarks.md).
    /// </summary>
    [Range(1, 50)] public int CandidatesPerResult { get; set; } = 2;

    /// <summary>Candidates fetched per result when the caller re-weights the image and text scores.</summary>
    [Range(1, 100)] public int WeightedCandidatesPerResult { get; set; } = 10;

    /// <summary>Candidates fetched per result when diversity, crowding, a boost or a fallback chooses among them.</summary>
    [Range(1, 100)] public int RerankCandidatesPerResult { get; set; } = 10;

    /// <summary>
    /// The most candidates a search fetches when caps (maxPerCategory, maxPerBrand) leave its page short and it searches
    /// deeper; an answer that stops there short of k says so (<c>stoppedEarly</c>).
    /// </summary>
    [Range(1, 20000)] public int MaxCandidates { get; set; } = 2000;

    /// <summary>Neighbours kept per item, at least (its neighbour list, which answers the common /similar call; computed with a fifth more); 0 keeps none.</summary>
    [Range(0, 1000)] public int ListSize { get; set; } = 100;

    /// <summary>
    /// The most upserted items waiting for the list worker that a precomputed answer merges into the stored list (each is
    /// scored against the query item per answer); with more queued, /similar searches the index until the worker catches up.
    /// </summary>
    [Range(0, 100000)] public int RecentChangesLimit { get; set; } = 2000;

    /// <summary><c>Cache-Control: max-age</c> of /similar answers, in seconds.</summary>
    [Range(0, 86400)] public int CacheMaxAgeSeconds { get; set; } = 60;

    /// <summary>
    /// The PostgreSQL text-search configuration of the lexical index (<c>simple</c>: every language, no stemming;
    /// <c>english</c>: stemmed, "flag" finds "flags"). Changing it re-indexes the catalog at the next start.
    /// </summary>
    [Required, RegularExpression("^[a-z_][a-z0-9_]{0,62}$")] public string TextSearchConfig { get; set; } = "simple";

    /// <summary>How a text is searched when the request names no <c>mode</c>: hybrid, vector (turns the words off) or lexical.</summary>
    [Required, RegularExpression("^(hybrid|vector|lexical)$")] public string TextMode { get; set; } = "hybrid";

    /// <summary>
    /// The lexical list's weight in a text search's fusion when the request gives no <c>lexicalWeight</c> (the vector
    /// list's is 1 − it). Lower weights won on the validation split's folder precision but lose the exact words a
    /// shopper typed ("flag" then finds cliparts, not flags): docs/benchmarks.md.
    /// </summary>
    [Range(0d, 1d)] public double LexicalWeight { get; set; } = 0.5;

    /// <summary>How a text search fuses the lists: <c>rrf</c> (by rank) or <c>convex</c> (by scores rescaled to 0–1).</summary>
    [Required, RegularExpression("^(rrf|convex)$")] public string TextFusion { get; set; } = "rrf";

    /// <summary>The lexical list's weight on an item's page (<c>/similar/{sku}?mode=hybrid</c>) when the request gives none; chosen on the validation split.</summary>
    [Range(0d, 1d)] public double ItemLexicalWeight { get; set; } = 0.6;

    /// <summary>How an item's page fuses the lists: <c>rrf</c> (chosen on the validation split) or <c>convex</c>.</summary>
    [Required, RegularExpression("^(rrf|convex)$")] public string ItemFusion { get; set; } = "rrf";

    /// <summary>Candidates each list (vector, lexical) brings to the fusion, per result wanted (at least 50, at most 200 in all).</summary>
    [Range(1, 50)] public int HybridCandidatesPerResult { get; set; } = 5;

    /// <summary>Query words at least this long may be corrected by one edit (Algolia's minWordSizefor1Typo).</summary>
    [Range(1, 100)] public int OneTypoLength { get; set; } = 4;

    /// <summary>Query words at least this long may be corrected by two edits (Algolia's minWordSizefor2Typos).</summary>
    [Range(1, 100)] public int TwoTyposLength { get; set; } = 8;
}
