using System.ComponentModel.DataAnnotations;

namespace Similarity.Catalog;

/// <summary>
/// <c>Similarity:Search</c> as the HNSW index reads it when it builds: its graph's shape. How /similar searches (the
/// rest of the section) is Similar's own <c>SearchOptions</c>.
/// </summary>
public sealed class SearchOptions
{
    public const string Section = "Similarity:Search";

    /// <summary>HNSW graph degree (pgvector's <c>m</c>). Changing it takes effect when the index is rebuilt.</summary>
    [Range(2, 100)] public int M { get; set; } = 16;

    /// <summary>HNSW build breadth (pgvector's <c>ef_construction</c>).</summary>
    [Range(4, 1000)] public int EfConstruction { get; set; } = 64;
}
