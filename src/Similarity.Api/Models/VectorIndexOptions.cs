using System.ComponentModel.DataAnnotations;

namespace Similarity.Models;

/// <summary>
/// How the vector index is built: the HNSW keys of <c>Similarity:Search</c> (the section's other keys, how /similar
/// searches, belong to the search's own options).
/// </summary>
public sealed class VectorIndexOptions
{
    public const string Section = "Similarity:Search";

    /// <summary>HNSW graph degree (pgvector's <c>m</c>). Changing it takes effect when the index is rebuilt.</summary>
    [Range(2, 100)] public int M { get; set; } = 16;

    /// <summary>HNSW build breadth (pgvector's <c>ef_construction</c>).</summary>
    [Range(4, 1000)] public int EfConstruction { get; set; } = 64;
}
