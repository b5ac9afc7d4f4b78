using System.ComponentModel.DataAnnotations;

namespace Similarity.Similar;

/// <summary><c>Similarity:Search</c>: how /similar searches the index and how long the neighbour lists are.</summary>
public sealed class SearchOptions
{
    public const string Section = "Similarity:Search";

    /// <summary>HNSW search breadth (<c>hnsw.ef_search</c>); raised per query to at least the candidates fetched.</summary>
    [Range(1, 1000)] public int EfSearch { get; set; } = 100;

    /// <summary>Candidates fetched per result wanted, then re-ranked by exact float32 cosine.</summary>
    [Range(1, 50)] public int CandidatesPerResult { get; set; } = 4;

    /// <summary>Candidates fetched per result when the caller re-weights the image and text scores.</summary>
    [Range(1, 100)] public int WeightedCandidatesPerResult { get; set; } = 10;

    /// <summary>Candidates fetched per result when diversity, crowding, a boost or a fallback chooses among them.</summary>
    [Range(1, 100)] public int RerankCandidatesPerResult { get; set; } = 10;

    /// <summary>Neighbours kept per item, at least (its neighbour list, which answers the common /similar call; computed with a fifth more); 0 keeps none.</summary>
    [Range(0, 1000)] public int ListSize { get; set; } = 100;

    /// <summary><c>Cache-Control: max-age</c> of /similar answers, in seconds.</summary>
    [Range(0, 86400)] public int CacheMaxAgeSeconds { get; set; } = 60;
}
