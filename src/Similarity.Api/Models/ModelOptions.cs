using System.ComponentModel.DataAnnotations;

namespace Similarity.Models;

/// <summary><c>Similarity:Models</c>: the model set a new database starts with, and where deployed ones are kept.</summary>
public sealed class ModelOptions
{
    public const string Section = "Similarity:Models";

    /// <summary>
    /// Path of the manifest.json that describes the encoders and fusion weights: the live set of a database that has
    /// none yet. Afterwards the live set is the database's (<c>POST /models/{name}/activate</c>).
    /// </summary>
    [Required] public string Manifest { get; set; } = "models/tiny/manifest.json";

    /// <summary>The folder where <c>PUT /models/{name}</c> unpacks bundles; it must survive restarts, like the spool.</summary>
    [Required] public string StorePath { get; set; } = "model-sets";

    /// <summary>The largest bundle accepted, uploaded and unpacked: 2 GiB (a ResNet-50 and a BERT-base are about 0.6 GB).</summary>
    [Range(1, long.MaxValue)] public long MaxBundleBytes { get; set; } = 2L << 30;

    /// <summary>
    /// The embedding job's pace, items per second at most: it shares the CPU with the storefront's requests, which
    /// must keep their latency while a candidate embeds.
    /// </summary>
    [Range(0.1, 10_000)] public double EmbedItemsPerSecond { get; set; } = 20;
}
